"""``linkscope report``: a group's evidence pack as a self-contained HTML file or a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import StoreOpt, app, console, fail, settings_for
from linkscope.errors import LinkscopeError


@app.command()
def report(
    group_id: Annotated[str, typer.Argument(help="Group id (of the current analysis run).")],
    out_file: Annotated[
        Path, typer.Option("--out", help="File to write: .html (self-contained) or .pdf.")
    ],
    store: StoreOpt = None,
) -> None:
    """A group's evidence pack: assessment and clauses, cluster picture, members, linkage
    evidence, findings with their fills and orders, plots, order replay, decisions and a draft
    suspicious-activity narrative. The PDF is printed by headless Chromium."""
    suffix = out_file.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise typer.BadParameter("--out must end in .html or .pdf")
    from api.report.gather import gather
    from api.report.pdf import to_pdf
    from api.report.render import render
    from events.location import events_for
    from graph import open_store

    settings = settings_for(store)
    try:
        with open_store(settings=settings) as graph:
            page = render(gather(graph, events_for(graph, settings), group_id))
        data = page.encode("utf-8") if suffix == ".html" else to_pdf(page, settings.chromium)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(data)
    console.print(f"wrote {out_file} ({len(data):,} bytes)")
