"""Screenshots of the UI for the README, from a real analysed store (e.g. `make demo`'s).

.venv/bin/python scripts/ui_screenshots.py [--store embedded:.linkscope/graph]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.keys import KeyStore  # noqa: E402
from api.main import create_app  # noqa: E402
from linkscope.settings import Settings  # noqa: E402
from testing.api_server import serving  # noqa: E402
from testing.browser import chromium  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="embedded:.linkscope/graph")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp()) / "keys.json"
    _, key = KeyStore(keys).create("admin", "screenshots")
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        serving(create_app(Settings(store=args.store, keys_file=str(keys)))) as url,
        chromium() as browser,
    ):
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url + "/#/signin")
        page.fill("#key", key)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue tbody tr[data-group]")
        page.screenshot(path=str(args.out / "queue.png"))
        # The group page of the top violation that shows shared identifiers as well as trading.
        import httpx

        auth = {"Authorization": f"Bearer {key}"}
        groups = httpx.get(f"{url}/v1/groups?verdict=violation&limit=100", headers=auth).json()[
            "items"
        ]
        chosen = groups[0]["group_id"]
        for g in groups:
            links = httpx.get(f"{url}/v1/groups/{g['group_id']}", headers=auth).json()["evidence"][
                "links"
            ]
            if any(link.get("identifier") for link in links):
                chosen = g["group_id"]
                break
        page.goto(f"{url}/#/group/{chosen}")
        page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=60_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(args.out / "group.png"))
        timeline(page, args.out / "timeline.png")
        # An account of a wash ring: its ego network shows its own group's members to expand.
        ring = next((g for g in groups if "wash_trading" in g["clauses"]), groups[0])
        member = httpx.get(f"{url}/v1/groups/{ring['group_id']}", headers=auth).json()["members"][0]
        expanded_account(page, url, member["account_id"], args.out / "account.png")
    print(f"written queue, group, timeline and account screenshots to {args.out}")  # noqa: T201


def timeline(page: Any, out: Path) -> None:
    """The group's timeline with a span selected across its middle (links highlighted)."""
    strip = page.locator("#tl-strip")
    strip.scroll_into_view_if_needed()
    box = strip.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + 20, steps=5)
    page.mouse.up()
    page.wait_for_timeout(300)
    card = page.locator(".card", has=page.locator("#timeline"))
    card.screenshot(path=str(out))


def expanded_account(page: Any, url: str, account_id: str, out: Path) -> None:
    """The account's ego network after expanding the neighbour with most accounts around it."""
    page.goto(f"{url}/#/account/{account_id}")
    page.wait_for_selector("#ego-graph[data-stabilized-ms]", timeout=60_000)
    frame = next(f for f in page.frames if f != page.main_frame)
    target = frame.evaluate(
        """(me) => { const n = window.linkscopeNetwork; const nodes = n.body.data.nodes.get();
                     const others = nodes.filter(x => x.kind === 'Account' && x.id !== me);
                     const kin = others.filter(x => x.group_id && x.group === x.verdict);
                     const retail = others.filter(x => !/market_maker/.test(x.title));
                     return (kin.length ? kin : retail.length ? retail : others)[0]?.id ?? null; }""",
        f"Account:{account_id}",
    )
    if target:
        x, y = frame.evaluate(
            "(id) => { const n = window.linkscopeNetwork; const d = n.canvasToDOM(n.getPositions([id])[id]); return [d.x, d.y]; }",
            target,
        )
        box = page.locator("#ego-graph iframe").bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_function("() => document.getElementById('ego-graph').dataset.expansions === '1'", timeout=30_000)
        page.mouse.move(box["x"] + 4, box["y"] + 4)  # off the nodes: no tooltip over the picture
        page.wait_for_timeout(500)
    page.screenshot(path=str(out))


if __name__ == "__main__":
    main()
