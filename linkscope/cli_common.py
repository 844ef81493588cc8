"""What every CLI command shares: the app, consoles, the store option, error exit."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

from linkscope.errors import LinkscopeError
from linkscope.settings import Settings, get_settings

app = typer.Typer(
    help="linkscope: find groups of exchange accounts under common control.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()

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
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=2)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
