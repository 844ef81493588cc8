"""CLI commands that make and load data: ``generate`` (synthetic) and ``ingest``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import StoreOpt, app, console, fail, out, settings_for, show
from linkscope.errors import LinkscopeError

if TYPE_CHECKING:
    from ingest.pipeline import IngestSummary

# Library imports sit inside the commands: `linkscope --help` and option errors then answer
# without loading pyarrow, DuckDB and the graph drivers (about a second).


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
    from synth import GeneratorConfig
    from synth import generate as run

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
    show(table)


def show_ingest(directory: Path, summary: IngestSummary) -> None:
    """One line per contract file: rows read, ingested, duplicate, quarantined, speed."""
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
    show(table)


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
        Path,
        # Checked while parsing, before the store starts (seconds for the embedded one).
        typer.Argument(
            help="Folder holding the contract's files (accounts, trades, ...).",
            exists=True,
            file_okay=False,
            metavar="DIRECTORY",
        ),
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

    settings = settings_for(store)
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
        raise fail(exc) from exc
    show_ingest(directory, summary)
    bad = sum(f.quarantined for f in summary.files)
    if bad:
        out.print(f"{bad:,} rows quarantined: see {quarantine}")
    if not summary.usable:
        console.print("[red]nothing usable was found[/red] (accounts and trades are required)")
        raise typer.Exit(code=1)
