"""Screenshots of the UI for the README, from a real analysed store (e.g. `make demo`'s).

.venv/bin/python scripts/ui_screenshots.py [--store embedded:.linkscope/graph]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

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
    print(f"written {args.out / 'queue.png'} and {args.out / 'group.png'}")  # noqa: T201


if __name__ == "__main__":
    main()
