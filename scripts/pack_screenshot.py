"""A screenshot of an evidence pack's first page for the README, from a real analysed store
(e.g. `make demo`'s): the top violation group with a wash set, its pack rendered as
`linkscope report` writes it, shown in headless Chromium with print styles at A4 width.

.venv/bin/python scripts/pack_screenshot.py [--store embedded:.linkscope/graph] [--group ID]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.report.gather import gather  # noqa: E402
from api.report.render import render  # noqa: E402
from api.services.groups import load_group  # noqa: E402
from events.location import events_for  # noqa: E402
from graph import api_statements as q  # noqa: E402
from graph.store import open_store  # noqa: E402
from linkscope.settings import Settings  # noqa: E402
from testing.browser import chromium  # noqa: E402

A4 = (794, 1123)  # CSS pixels of an A4 page at 96 dpi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="embedded:.linkscope/graph")
    parser.add_argument(
        "--group", default=None, help="Default: the top violation with wash trading."
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "pack.png")
    args = parser.parse_args()
    settings = Settings(store=args.store)
    with open_store(settings=settings) as store:
        group_id = args.group
        if group_id is None:
            run = store.read(q.DATA_VERSION).rows[0][2]
            rows = store.read(
                q.LIST_GROUPS,
                {"run_id": run, "verdict": "violation", "clause": None, "min_score": None,
                 "changed_since": None, "after_score": None, "after_id": None, "limit": 100},
            ).rows  # fmt: skip
            ids = [str(r[0]) for r in rows]
            group_id = next(
                (g for g in ids if load_group(store, g, None).evidence.get("wash")), ids[0]
            )
        page_html = render(gather(store, events_for(store, settings), group_id))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": A4[0], "height": A4[1]})
        page.emulate_media(media="print")
        page.set_content(page_html, wait_until="load")
        page.screenshot(path=str(args.out), clip={"x": 0, "y": 0, "width": A4[0], "height": A4[1]})
    print(f"written {args.out} (group {group_id})")  # noqa: T201


if __name__ == "__main__":
    main()
