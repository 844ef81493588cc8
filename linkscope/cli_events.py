"""CLI commands over the event store: an account's fills and orders."""

from __future__ import annotations

from typing import Annotated

import typer

from linkscope.cli_common import StoreOpt, app, console, emit, fail, settings_for
from linkscope.errors import LinkscopeError

Fmt = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]
Since = Annotated[str | None, typer.Option(help="From this time (ISO 8601 or epoch ms).")]
Until = Annotated[str | None, typer.Option(help="Before this time (ISO 8601 or epoch ms).")]
Limit = Annotated[int, typer.Option(help="Rows at most.")]


@app.command()
def trades(
    account: Annotated[str, typer.Argument(help="Account id.")],
    counterparty: Annotated[str | None, typer.Option(help="Only fills with this account.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    fmt: Fmt = "table",
    store: StoreOpt = None,
) -> None:
    """An account's fills from the event store, oldest first."""
    from analytics.window import parse_time
    from events.location import events_for
    from events.queries import account_trades
    from events.tables import TABLES
    from graph import open_store

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    try:
        with open_store(settings=settings_for(store)) as graph:
            events = events_for(graph, settings_for(store))
            page = account_trades(
                events, account, counterparty=counterparty, symbol=symbol,
                since=parse_time(since) if since else None,
                until=parse_time(until) if until else None, limit=limit,
            )  # fmt: skip
    except LinkscopeError as exc:
        raise fail(exc) from exc
    _show(page.rows, TABLES["trades"].columns, fmt, page.next_after is not None)


@app.command()
def orders(
    account: Annotated[str, typer.Argument(help="Account id.")],
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this final_status.")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    fmt: Fmt = "table",
    store: StoreOpt = None,
) -> None:
    """An account's orders from the event store, by placement time."""
    from analytics.window import parse_time
    from events.location import events_for
    from events.queries import account_orders
    from events.tables import TABLES
    from graph import open_store

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    try:
        with open_store(settings=settings_for(store)) as graph:
            events = events_for(graph, settings_for(store))
            page = account_orders(
                events, account, symbol=symbol, status=status,
                since=parse_time(since) if since else None,
                until=parse_time(until) if until else None, limit=limit,
            )  # fmt: skip
    except LinkscopeError as exc:
        raise fail(exc) from exc
    _show(page.rows, TABLES["orders"].columns, fmt, page.next_after is not None)


def _show(rows: list[dict[str, object]], columns: list[str], fmt: str, more: bool) -> None:
    emit(columns, [[r[c] for c in columns] for r in rows], fmt)
    if more:
        console.print(
            f"more rows follow; narrow the time range or raise --limit ({len(rows)} shown)"
        )
