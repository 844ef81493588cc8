"""The ``linkscope`` command line. Commands only parse options and call library functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from linkscope.cli_common import StoreOpt, app, console, emit, out
from linkscope.cli_common import fail as _fail
from linkscope.cli_common import settings_for as _settings
from linkscope.errors import LinkscopeError


@app.command()
def generate(
    out_dir: Annotated[
        Path,
        typer.Argument(help="Folder to write input/ (contract files) and truth/ (labels) into."),
    ],
    accounts: Annotated[int, typer.Option(help="Number of accounts.", min=100)] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 7,
    trades_per_account: Annotated[
        float, typer.Option(help="Average background trades per account.")
    ] = 25.0,
    parquet: Annotated[bool, typer.Option(help="Write Parquet instead of CSV.")] = False,
    order_flow: Annotated[
        str,
        typer.Option(
            help="realistic: every fill's two orders plus market-maker quoting and retail "
            "orders (~9 orders per fill); light: a small sample (~0.15 per fill), fast to ingest."
        ),
    ] = "realistic",
) -> None:
    """Write a seeded synthetic data set with planted typologies and benign look-alikes."""
    from linkscope.synth import GeneratorConfig
    from linkscope.synth import generate as run

    try:
        cfg = GeneratorConfig(
            accounts=accounts,
            seed=seed,
            trades_per_account=trades_per_account,
            parquet=parquet,
            order_flow=order_flow,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--order-flow") from exc
    with console.status(f"generating {accounts:,} accounts"):
        counts = run(out_dir, cfg)
    table = Table("file", "rows", title=f"generated into {out_dir}")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


def _progress_hook(progress: Progress) -> Callable[[str, int | None], Callable[[int | None], None]]:
    def start(name: str, total: int | None) -> Callable[[int | None], None]:
        task = progress.add_task(name, total=total)

        def advance(rows: int | None) -> None:
            if rows is None:  # the file is done: freeze its bar and clock
                done = progress.tasks[task].completed
                progress.update(task, total=done, completed=done)
                progress.stop_task(task)
            else:
                progress.advance(task, rows)

        return advance

    return start


@app.command()
def ingest(
    directory: Annotated[
        Path, typer.Argument(help="Folder holding the contract's files (accounts, trades, ...).")
    ],
    store: StoreOpt = None,
    quarantine: Annotated[Path, typer.Option(help="CSV report of rejected rows.")] = Path(
        "quarantine.csv"
    ),
    batch_size: Annotated[int | None, typer.Option(help="Rows per write batch.")] = None,
) -> None:
    """Validate and load a directory of contract files into the graph (idempotent)."""
    from events.location import events_for
    from graph import open_store
    from ingest.contract import Limits
    from ingest.pipeline import ingest_directory

    settings = _settings(store)
    try:
        with (
            open_store(settings=settings) as graph,
            Progress(
                TextColumn("{task.description:<24}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress,
        ):
            summary = ingest_directory(
                directory,
                graph,
                quarantine_path=quarantine,
                events=events_for(graph, settings),
                batch_size=batch_size or settings.batch_size,
                pair_min_trades=settings.pair_min_trades,
                progress=_progress_hook(progress),
                limits=Limits.from_settings(settings),
                max_record_bytes=settings.ingest_max_record_bytes,
            )
    except LinkscopeError as exc:
        raise _fail(exc) from exc
    table = Table(
        "file",
        "read",
        "ingested",
        "duplicate",
        "quarantined",
        "rows/s",
        "note",
        title=f"ingest of {directory} ({summary.seconds:.1f} s)",
    )
    for f in summary.files:
        table.add_row(
            f.name,
            f"{f.read:,}",
            f"{f.ingested:,}",
            f"{f.duplicate:,}",
            f"{f.quarantined:,}",
            f"{f.rows_per_second:,.0f}" if f.path else "",
            f.note,
        )
    out.print(table)
    bad = sum(f.quarantined for f in summary.files)
    if bad:
        out.print(f"{bad:,} rows quarantined: see {quarantine}")
    if not summary.usable:
        console.print("[red]nothing usable was found[/red] (accounts and trades are required)")
        raise typer.Exit(code=1)


def _parse_param(text: str) -> tuple[str, Any]:
    from graph.values import param_problem

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"expected k=v, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return key, value
    problem = param_problem(parsed)
    if problem:  # refused, not changed (FalkorDB would clamp a huge integer without a word)
        raise typer.BadParameter(f"{key}: {problem}")
    return key, parsed


@app.command()
def cypher(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="Query parameter k=v (v parsed as JSON when it can be)."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    store: StoreOpt = None,
    timeout_ms: Annotated[
        int | None, typer.Option(help="Time limit in ms (default: LINKSCOPE_QUERY_TIMEOUT_MS).")
    ] = None,
) -> None:
    """Run a read-only Cypher query; the engine refuses any write."""
    from graph import open_store

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    settings = _settings(store)
    params = dict(_parse_param(p) for p in param or [])
    try:
        with open_store(settings=settings) as graph:
            # Same guard as the API: the plan must stay inside the graph (no LOAD CSV).
            result = graph.read_user(
                query, params, timeout_ms=timeout_ms or settings.query_timeout_ms
            )
    except LinkscopeError as exc:
        raise _fail(exc) from exc
    emit(result.columns, result.rows, fmt)


def day_label(day: int) -> str:
    from events.tables import day_name

    return day_name(day).removeprefix("day=")


@app.command()
def status(store: StoreOpt = None) -> None:
    """Show what the stores hold: graph node and relationship counts, event-store rows and
    days, last ingest runs."""
    from events.location import events_for
    from graph import open_store
    from graph.inventory import inventory

    try:
        with open_store(settings=_settings(store)) as graph:
            inv = inventory(graph)
            events = events_for(graph, _settings(store))
    except LinkscopeError as exc:
        raise _fail(exc) from exc
    table = Table("kind", "name", "count", title=f"graph: {inv['store']}")
    for label, n in inv["nodes"].items():
        table.add_row("node", label, f"{n:,}")
    for rel, n in inv["relationships"].items():
        table.add_row("relationship", rel, f"{n:,}")
    out.print(table)
    stored = Table("table", "rows", "days", "first day", "last day", title=f"events: {events.root}")
    for name in ("trades", "orders"):
        days = events.days(name)
        first, last = (day_label(days[0]), day_label(days[-1])) if days else ("", "")
        stored.add_row(name, f"{events.count(name):,}", str(len(days)), first, last)
    out.print(stored)
    for run in inv["runs"]:
        out.print(f"ingest {run['run_id'][:8]} {run['status']}: {run['summary']}")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option(help="Where to write the demo data.")] = Path(
        "demo-data"
    ),
    accounts: Annotated[int, typer.Option(help="Demo size.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    store: StoreOpt = None,
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="End by serving the API and UI.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the API and UI.")] = 8000,
) -> None:
    """Generate demo data, ingest, analyse, export, evaluate; then serve the API and UI on
    127.0.0.1 with a fresh demo key for each role."""
    from linkscope.cli_analysis import analyze, evaluate, export
    from linkscope.cli_api import demo_keys, serve

    generate(out_dir, accounts=accounts, seed=seed)
    ingest(out_dir / "input", store=store, quarantine=out_dir / "quarantine.csv")
    status(store=store)
    analyze(store=store)
    export(out_dir / "export", store=store)
    evaluate(out_dir / "truth", export_dir=out_dir / "export")
    if serve_api:
        demo_keys(store)
        serve(host="127.0.0.1", port=port, workers=1, store=store)


from linkscope import cli_analysis, cli_api, cli_events  # noqa: E402,F401  (they register their commands)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
