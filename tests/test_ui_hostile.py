"""Hostile ids in the investigator UI: real headless Chromium, the real app over loopback HTTP.

Accounts and a group whose ids are made of quotes, angle brackets, backslashes, ``</script>``,
``<!--`` and Unicode line separators (tests/hostile.py) are shown on every page: the queue, the
group page and its cluster view, account pages and their ego networks, the Cypher console.
Injected code would set ``window.__pwned`` or call ``alert`` (hooked in every frame, since the
sandboxed view frames may not open dialogs); nothing may run, the pages must still work, and
the Content-Security-Policy must refuse nothing of the app's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest

from api.keys import KeyStore
from api.main import create_app
from linkscope.settings import Settings
from testing.api_server import serving
from testing.browser import chromium, set_cypher_query
from tests.helpers import drop
from tests.hostile import HOSTILE_GROUP_ID, HOSTILE_IDS, hostile_graph

pytestmark = pytest.mark.slow

# Runs in every frame before its own scripts: records alerts and CSP refusals.
WATCH = """
window.alert = window.confirm = window.prompt = function (message) {
  window.__pwned = "dialog: " + message;
};
document.addEventListener("securitypolicyviolation", function (event) {
  (window.__csp = window.__csp || []).push(event.violatedDirective + " " + event.blockedURI);
});
"""
# What a frame must not hold: flags set by injected code, CSP refusals, injected elements.
INSPECT = """() => ({
  pwned: window.__pwned === undefined ? null : String(window.__pwned),
  csp: window.__csp || [],
  injected: document.querySelectorAll(
    "img, svg, [onmouseover], [onerror], [onload], [onclick], script:not([src]):not([type])"
  ).length,
  scripts: document.querySelectorAll("script").length,
})"""


class Site:
    def __init__(self, url: str, keys: dict[str, str], page: Any, seen: dict[str, list[str]]):
        self.url, self.keys, self.page, self.seen = url, keys, page, seen

    def sign_in(self, role: str) -> None:
        self.page.goto(self.url + "/#/signin")
        self.page.fill("#key", self.keys[role])
        self.page.click("#signin-form button[type=submit]")
        self.page.wait_for_selector("#queue tbody tr[data-group]")

    def goto(self, page: str, item: str) -> None:
        self.page.goto(f"{self.url}/#/{page}/{quote(item, safe='')}")

    def assert_clean(self) -> None:
        """Nothing injected ran or exists in any frame; no console error, dialog, refusal."""
        for frame in self.page.frames:
            state = frame.evaluate(INSPECT)
            assert state["pwned"] is None, (frame.url, state)
            assert state["csp"] == [], (frame.url, state)
            # The view frames have vis-network and the start-up script inline, nothing else.
            assert state["injected"] == (2 if frame != self.page.main_frame else 0), state
        assert self.seen == {"problems": [], "dialogs": []}


@pytest.fixture(scope="module")
def site(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("ui-hostile")
    store, _ = hostile_graph(store_path, "ui_hostile", tmp)
    keystore = KeyStore(tmp / "keys.json")
    keys = {role: keystore.create(role, f"{role} tester")[1] for role in ("admin", "enforcement")}
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="ui_hostile", keys_file=str(tmp / "keys.json")
    )
    seen: dict[str, list[str]] = {"problems": [], "dialogs": []}
    with serving(create_app(settings)) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.add_init_script(WATCH)
        page.on(
            "console",
            lambda m: seen["problems"].append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: seen["problems"].append(f"page error: {e}"))

        def dialog(d: Any) -> None:
            seen["dialogs"].append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        loopback = urlparse(url).hostname
        page.on(
            "request",
            lambda r: (
                seen["problems"].append(f"external request: {r.url}")
                if urlparse(r.url).scheme in ("http", "https")
                and urlparse(r.url).hostname != loopback
                else None
            ),
        )
        yield Site(url, keys, page, seen)
    drop(store)
    store.close()


def _hover_graph(site: Site, holder: str) -> None:
    """Sweep the mouse over the view (hover handlers an injected attribute would add)."""
    box = site.page.locator(f"{holder} iframe").bounding_box()
    assert box is not None
    for fx in (0.2, 0.5, 0.8):
        site.page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] / 2, steps=3)


def _graph_frame(site: Site) -> Any:
    return next(f for f in site.page.frames if f != site.page.main_frame)


def test_the_watch_sees_injected_code(site: Site) -> None:
    # The detector is not blind: code that calls alert in a view frame is recorded.
    site.sign_in("admin")
    site.goto("group", HOSTILE_GROUP_ID)
    site.page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
    frame = _graph_frame(site)
    frame.evaluate("() => alert('probe')")
    assert frame.evaluate(INSPECT)["pwned"] == "dialog: probe"
    frame.evaluate("() => { delete window.__pwned; }")


def test_queue_and_group_page(site: Site) -> None:
    page = site.page
    site.sign_in("admin")
    groups = page.eval_on_selector_all(
        "#queue tbody tr[data-group]", "rows => rows.map(r => r.dataset.group)"
    )
    assert HOSTILE_GROUP_ID in groups
    queue_text = page.locator("#queue").inner_text()
    assert HOSTILE_GROUP_ID in queue_text
    assert sum(i in queue_text for i in HOSTILE_IDS) >= 4  # member previews
    page.locator("#queue tbody tr[data-group] a").nth(groups.index(HOSTILE_GROUP_ID)).click()
    page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
    assert page.locator("h1").inner_text().startswith(f"Group {HOSTILE_GROUP_ID}")
    members = page.eval_on_selector_all(
        "h2:text-is('Members') + .scroll-x table tbody td:first-child a",
        "links => links.map(a => a.textContent)",
    )
    shown = [i for i in HOSTILE_IDS if i in members]
    assert len(shown) >= 4
    ids = _graph_frame(site).evaluate("() => window.linkscopeNetwork.body.data.nodes.getIds()")
    assert {f"Account:{i}" for i in shown} <= set(ids)
    _hover_graph(site, "#group-graph")
    site.assert_clean()


@pytest.mark.parametrize("account_id", HOSTILE_IDS)
def test_account_pages(site: Site, account_id: str) -> None:
    page = site.page
    site.sign_in("admin")
    site.goto("account", account_id)
    page.wait_for_selector("#ego-graph[data-stabilized-ms]", timeout=30_000)
    assert page.locator("h1").text_content() == f"Account {account_id}"
    frame = _graph_frame(site)
    assert frame.evaluate("() => document.title") == f"account {account_id}"
    assert frame.evaluate("() => document.getElementById('net').getAttribute('aria-label')") == (
        f"account {account_id}"
    )
    start = f"Account:{account_id}"
    assert start in frame.evaluate("() => window.linkscopeNetwork.body.data.nodes.getIds()")
    _hover_graph(site, "#ego-graph")
    # Clicking the account expands it: the UI fetches its neighbourhood by its encoded id.
    x, y = frame.evaluate(
        "(id) => { const n = window.linkscopeNetwork; const d = n.canvasToDOM(n.getPositions([id])[id]); return [d.x, d.y]; }",
        start,
    )
    box = page.locator("#ego-graph iframe").bounding_box()
    assert box is not None
    # Hovering shows the node's title (its properties) as a tooltip: text, not markup.
    page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    tooltip = frame.wait_for_selector("div.vis-tooltip", state="visible", timeout=10_000)
    assert tooltip is not None and f"account_id: {account_id}" in (tooltip.text_content() or "")
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function(
        "() => document.getElementById('ego-selected').innerText.includes('expanded')"
    )
    assert page.locator("#ego-selected a").text_content() == account_id
    site.assert_clean()


def test_cypher_console_results(site: Site) -> None:
    page = site.page
    site.sign_in("admin")
    page.click("a[data-nav=cypher]")
    set_cypher_query(
        page,
        "MATCH (a:Account) WHERE a.account_id IN $ids RETURN a.account_id, a ORDER BY a.account_id",
    )
    page.fill("#cypher-params", json.dumps({"ids": HOSTILE_IDS}))
    page.click("#cypher-form button[type=submit]")
    page.wait_for_selector("#cypher-graph[data-nodes]", timeout=30_000)
    cells = page.eval_on_selector_all(
        "#cypher-result tbody tr td:first-child", "tds => tds.map(td => td.textContent)"
    )
    assert cells == sorted(HOSTILE_IDS)
    frame = _graph_frame(site)
    keys = frame.evaluate("() => window.linkscopeNetwork.body.data.nodes.get().map(n => n.key)")
    assert sorted(keys) == sorted(HOSTILE_IDS)
    _hover_graph(site, "#cypher-graph")
    site.assert_clean()


def test_enforcement_sees_the_group_of_a_hostile_account(site: Site) -> None:
    page = site.page
    site.sign_in("enforcement")
    account_id = HOSTILE_IDS[0]
    site.goto("account", account_id)
    page.wait_for_selector("main a[href^='#/group/']")
    assert page.locator("h1").text_content() == f"Account {account_id}"
    link = page.locator("main a[href^='#/group/']")
    assert link.text_content() == HOSTILE_GROUP_ID
    link.click()
    page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
    assert page.locator("h1").inner_text().startswith(f"Group {HOSTILE_GROUP_ID}")
    site.assert_clean()


@pytest.mark.parametrize("account_id", HOSTILE_IDS)
def test_replay_pages(site: Site, account_id: str) -> None:
    """The order replay (an SVG built in the page) of hostile ids: the id reaches the API as
    one segment, shows as text, and nothing injected runs or exists."""
    page = site.page
    site.sign_in("admin")
    page.goto(f"{site.url}/#/replay/account/{quote(account_id, safe='')}")
    page.wait_for_selector("#replay-chart svg, main .error", timeout=30_000)
    assert page.locator("h1").text_content().startswith(f"Order replay: {account_id}")
    drawn = page.locator("#replay-chart svg").count()
    if drawn:  # the chart's own SVG is the only one, and it names the account's orders
        ids = page.eval_on_selector_all(
            "#replay-chart g.order", "gs => gs.map(g => g.dataset.orderId)"
        )
        assert all(isinstance(i, str) for i in ids)
    state = page.evaluate(INSPECT.replace('"img, svg, ', '"img, '))
    assert state["pwned"] is None and state["csp"] == [] and state["injected"] == 0, state
    assert page.locator("svg").count() == drawn
    assert site.seen == {"problems": [], "dialogs": []}


def test_the_evidence_pack_of_hostile_ids_runs_nothing(site: Site) -> None:
    """The pack is HTML written on the server: every id in it must stay text."""
    import httpx

    reply = httpx.get(
        f"{site.url}/v1/groups/{quote(HOSTILE_GROUP_ID, safe='')}/report.html",
        headers={"Authorization": f"Bearer {site.keys['admin']}"},
        timeout=120,
    )
    assert reply.status_code == 200
    context = site.page.context.browser.new_context()
    page = context.new_page()
    page.add_init_script(WATCH)
    try:
        page.set_content(reply.text, wait_until="load")
        for y in range(100, 2000, 300):  # hover handlers an injected attribute would add
            page.mouse.move(300, y)
        state = page.evaluate(
            """() => ({pwned: window.__pwned === undefined ? null : String(window.__pwned),
                scripts: document.querySelectorAll("script").length,
                handlers: document.querySelectorAll("[onmouseover], [onerror], [onload], [onclick]").length,
                svg: document.querySelectorAll("svg").length,
                text: document.body.innerText})"""
        )
    finally:
        context.close()
    assert state["pwned"] is None and state["scripts"] == 0 and state["handlers"] == 0
    assert state["svg"] == 0  # the charts are images (data: URIs), never inline markup
    assert HOSTILE_GROUP_ID in state["text"]
    assert sum(i in state["text"] for i in HOSTILE_IDS) >= 4
def test_case_pages_on_hostile_ids(site: Site) -> None:
    """A case on the hostile group and one on hostile accounts, with hostile titles and notes:
    the lists, the case page and the group page around it show them as text."""
    import httpx

    headers = {"Authorization": f"Bearer {site.keys['admin']}"}
    text = HOSTILE_IDS[1] + HOSTILE_IDS[2]
    on_group = httpx.post(
        f"{site.url}/v1/cases", headers=headers, timeout=30,
        json={"group_id": HOSTILE_GROUP_ID, "title": HOSTILE_IDS[10], "note": text},
    )  # fmt: skip
    assert on_group.status_code == 201, on_group.text
    on_accounts = httpx.post(
        f"{site.url}/v1/cases", headers=headers, timeout=30,
        json={"account_ids": HOSTILE_IDS[:4], "title": HOSTILE_IDS[0]},
    )  # fmt: skip
    assert on_accounts.status_code == 201, on_accounts.text
    page = site.page
    site.sign_in("admin")
    page.click("a[data-nav=unassigned]")
    page.wait_for_selector("#cases tbody tr[data-case]")
    assert HOSTILE_IDS[10] in page.locator("#cases").inner_text()
    site.assert_clean()

    site.goto("case", on_group.json()["case_id"])
    page.wait_for_selector("#case-group #group-graph[data-stabilized-ms]", timeout=30_000)
    assert page.locator("#case-group h2").first.inner_text().startswith(f"Group {HOSTILE_GROUP_ID}")
    assert text in page.locator("#thread").inner_text()
    site.assert_clean()

    site.goto("case", on_accounts.json()["case_id"])
    page.wait_for_selector("#case-group li a")
    shown = page.eval_on_selector_all("#case-group li a", "links => links.map(a => a.textContent)")
    assert sorted(shown) == sorted(HOSTILE_IDS[:4])
    site.assert_clean()

    site.goto("group", HOSTILE_GROUP_ID)
    page.wait_for_selector("#group-case li[data-case] a")
    assert page.locator("#group-case li[data-case] a").inner_text() == on_group.json()["case_id"]
    page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
    site.assert_clean()
