"""The ``linkscope`` command: every command module registers on one app; ``demo`` chains them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.analysis import analyze, evaluate, export
from cli.common import StoreOpt, app
from cli.cycles import cycles  # noqa: F401  (registers the command)
from cli.event_reads import orders, trades  # noqa: F401  (registers the commands)
from cli.ingest import generate, ingest
from cli.report import report  # noqa: F401  (registers the command)
from cli.runs import compare as _compare  # noqa: F401  (registers `linkscope runs`)
from cli.serve import demo_keys, serve
from cli.status import status


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
    generate(out_dir, accounts=accounts, seed=seed)
    ingest(out_dir / "input", store=store, quarantine=out_dir / "quarantine.csv")
    status(store=store)
    analyze(store=store)
    export(out_dir / "export", store=store)
    evaluate(out_dir / "truth", export_dir=out_dir / "export")
    if serve_api:
        demo_keys(store)
        serve(host="127.0.0.1", port=port, workers=1, store=store)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
