"""What every CLI command shares: the app, consoles, the store option, error exit."""

from __future__ import annotations

import csv
import json
import logging
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from linkscope.errors import LinkscopeError
from linkscope.settings import Settings, get_settings

app = typer.Typer(
    help="linkscope: find groups of exchange accounts under common control.",
    no_args_is_help=True,
    add_completion=False,
)
# Soft wrap: lines printed into a log stay whole (rich would break them at 80 columns).
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store URL (default: LINKSCOPE_STORE or embedded:.linkscope/graph)."
    ),
]


def settings_for(store: str | None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"store": store}) if store else settings


def fail(exc: LinkscopeError) -> typer.Exit:
    # Messages quote user input and pip specs ("linkscope[embedded]"): never markup.
    console.print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(code=2)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def show(table: Table) -> None:
    """A table on stdout. Into a pipe or a log (no terminal) rich would fit it to 80 columns
    and break words in the middle; there, each row is one plain line, columns padded."""
    if out.is_terminal:
        out.print(table, soft_wrap=False)
        return
    for line in plain_lines(table):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def plain_lines(table: Table) -> list[str]:
    """The table's title, header and rows as text lines, never wrapped."""
    columns = [
        [_plain(column.header), *(_plain(cell) for cell in column.cells)]
        for column in table.columns
    ]
    widths = [max(map(len, column)) for column in columns]
    lines = [_plain(table.title)] if table.title else []
    for row in zip(*columns, strict=True):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return lines


def _plain(cell: object) -> str:
    return Text.from_markup(cell).plain if isinstance(cell, str) else str(cell or "")


def emit(columns: list[str], rows: list[list[Any]], fmt: str) -> None:
    """Rows on stdout as a table, JSON records or CSV."""
    if fmt == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, default=str) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([json.dumps(v) if isinstance(v, dict | list) else v for v in row])
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(
                *[json.dumps(v, default=str) if isinstance(v, dict | list) else str(v) for v in row]
            )
        show(table)
        out.print(f"{len(rows)} row(s)")
