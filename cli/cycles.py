"""``linkscope cycles``: loops of fills and transfers that leave accounts and come back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cli.common import StoreOpt, app, console, emit, fail, settings_for
from linkscope.errors import ConfigError, LinkscopeError


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")


@app.command()
def cycles(
    account: Annotated[
        list[str] | None, typer.Option("--account", "-a", help="Start account (repeatable).")
    ] = None,
    group: Annotated[str | None, typer.Option(help="Every member of this current group.")] = None,
    window: Annotated[str, typer.Option(help="Window length, e.g. 30d or 72h.")] = "30d",
    until: Annotated[
        str | None, typer.Option(help="Window end (default: end of the latest loaded day).")
    ] = None,
    max_length: Annotated[int, typer.Option(min=2, max=8, help="Most hops in a loop.")] = 6,
    min_amount: Annotated[float, typer.Option(min=0, help="Ignore smaller flows.")] = 0.0,
    limit: Annotated[int, typer.Option(min=1, help="Loops shown at most.")] = 20,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    store: StoreOpt = None,
) -> None:
    """Loops of fills (seller -> buyer) and internal transfers that leave an account and come
    back, each hop later than the one before, inside the window; most unusual first (see
    docs/analysis.md). Bounded in work: says when it stopped at its budget."""
    from analytics.temporal_cycles import Limits, load_flows, search
    from analytics.window import resolve_window
    from events.location import events_for
    from graph import open_store
    from graph.investigation_statements import GROUP_MEMBER_IDS

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    if not account and not group:
        raise typer.BadParameter("give --account (one or more) or --group")
    settings = settings_for(store)
    try:
        with open_store(settings=settings) as graph:
            seeds = list(account or [])
            if group:
                members = graph.read(GROUP_MEMBER_IDS, {"group_id": group}).rows
                if not members:
                    raise ConfigError(f"no current group {group!r}")
                seeds += [str(r[0]) for r in members]
            events = events_for(graph, settings)
            span = resolve_window(events, window=window, until=until)
            if span.since is None or span.until is None:
                raise ConfigError("no fills are loaded: there is no window to search")
            flows = load_flows(events, graph, span.since, span.until, min_amount=min_amount)
            found = search(flows, seeds, Limits(max_length=max_length, max_loops=limit))
    except LinkscopeError as exc:
        raise fail(exc) from exc
    columns = ["rank", "score", "accounts", "start", "days", "retained", "hops"]
    rows = [
        [
            n + 1,
            lp.score,
            " > ".join([*lp.accounts, lp.start]),
            _when(lp.hops[0].ts),
            round(lp.span_ms / 86_400_000, 1),
            round(lp.retained, 3),
            [
                f"{h.kind} {h.ref} {h.unit} {h.amount:.2f}"
                + ("" if h.retained is None else f" ({h.retained:.1%})")
                for h in lp.hops
            ],
        ]
        for n, lp in enumerate(found.loops)
    ]
    emit(columns, rows, fmt)
    limit_note = "" if found.complete else f"; stopped at its {found.stopped}: more may exist"
    console.print(
        f"{found.sequences} loop(s) found from {len(seeds)} account(s) in "
        f"{_when(found.since)} .. {_when(found.until)}, {found.expansions} expansions, "
        f"{found.elapsed_ms:.0f} ms{limit_note}"
    )
