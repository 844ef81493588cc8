"""The investigator UI end to end: real headless Chromium, the real app over loopback HTTP,
the real embedded store with generated demo data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from api.keys import KeyStore
from api.main import create_app
from linkscope.settings import Settings
from testing.api_server import serving
from testing.browser import chromium, set_cypher_query
from tests.helpers import analysed_graph, drop

pytestmark = pytest.mark.slow


class Site:
    def __init__(self, url: str, keys: dict[str, str], page: Any, problems: list[str]) -> None:
        self.url, self.keys, self.page, self.problems = url, keys, page, problems

    def api(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.keys['admin']}"}
        return httpx.get(self.url + path, headers=headers, timeout=30).json()

    def sign_in(self, role: str) -> None:
        page = self.page
        page.goto(self.url + "/#/signin")
        page.fill("#key", self.keys[role])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue tbody tr[data-group]")


@pytest.fixture(scope="module")
def site(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("ui")
    store = analysed_graph(store_path, "ui", tmp, accounts=3_000, seed=6)
    keystore = KeyStore(tmp / "keys.json")
    keys = {
        role: keystore.create(role, f"{role} tester")[1]
        for role in ("investigator", "analyst", "admin", "enforcement")
    }
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="ui", keys_file=str(tmp / "keys.json")
    )
    problems: list[str] = []
    with serving(create_app(settings)) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        loopback = urlparse(url).hostname

        def check_request(request: Any) -> None:
            parsed = urlparse(request.url)
            if parsed.scheme in ("http", "https") and parsed.hostname != loopback:
                problems.append(f"external request: {request.url}")

        page.on("request", check_request)
        yield Site(url, keys, page, problems)
    drop(store)
    store.close()


def _open_top_group(site: Site) -> str:
    page = site.page
    first = page.locator("#queue tbody tr[data-group]").first
    group_id = str(first.get_attribute("data-group"))
    first.locator("a").click()
    page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
    return group_id


def test_sign_in_queue_and_group_graph(site: Site) -> None:
    site.sign_in("investigator")
    page = site.page
    rows = page.locator("#queue tbody tr[data-group]")
    listed = site.api("/v1/groups?limit=500")["items"]
    assert rows.count() == len(listed) > 0
    assert rows.first.get_attribute("data-group") == listed[0]["group_id"]  # highest priority first
    page.select_option("#f-verdict", "cleared")
    page.wait_for_function(  # functions, not expressions: the page's CSP forbids eval
        "() => document.querySelectorAll('#queue tbody tr[data-group]').length > 0 && [...document.querySelectorAll('#queue .badge')].every(b => b.textContent === 'cleared')"
    )
    page.select_option("#f-verdict", "")
    page.wait_for_function(
        f"() => document.querySelectorAll('#queue tbody tr[data-group]').length === {len(listed)}"
    )

    group_id = _open_top_group(site)
    detail = site.api(f"/v1/groups/{group_id}")
    identifiers = {
        (link["kind"], link["identifier"])
        for link in detail["evidence"]["links"]
        if link.get("identifier")
    }
    expected = len(detail["members"]) + len(identifiers)
    assert int(page.get_attribute("#group-graph", "data-nodes") or 0) == expected
    frame = page.frame_locator("#group-graph iframe")
    assert frame.locator("canvas").count() == 1
    drawn = page.frames[-1].evaluate("window.linkscopeNetwork.body.data.nodes.length")
    assert drawn == expected
    assert (
        page.locator("[data-testid=assessment]").inner_text().count(detail["recommended_action"])
        == 1
    )


def test_open_an_account_from_the_graph(site: Site) -> None:
    page = site.page
    site.sign_in("investigator")
    group_id = _open_top_group(site)
    member = site.api(f"/v1/groups/{group_id}")["members"][0]["account_id"]
    graph = next(f for f in page.frames if f != page.main_frame)
    x, y = graph.evaluate(
        """(id) => { const n = window.linkscopeNetwork; const p = n.getPositions([id])[id];
                     const d = n.canvasToDOM(p); return [d.x, d.y]; }""",
        f"Account:{member}",
    )
    box = page.locator("#group-graph iframe").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(f"**/#/account/{member}")
    page.wait_for_selector("#ego-graph[data-stabilized-ms]", timeout=30_000)
    assert f"Account {member}" in page.locator("h1").inner_text()
    assert group_id in page.locator("main").inner_text()
    before = int(page.get_attribute("#ego-graph", "data-nodes") or 0)
    ego = next(f for f in page.frames if f != page.main_frame)
    others = ego.evaluate(
        "window.linkscopeNetwork.body.data.nodes.get().filter(n => n.kind === 'Account').map(n => n.id)"
    )
    neighbour = next((o for o in others if o != f"Account:{member}"), None)
    if neighbour:  # expand-on-click adds the neighbour's neighbours
        x, y = ego.evaluate(
            "(id) => { const n = window.linkscopeNetwork; const d = n.canvasToDOM(n.getPositions([id])[id]); return [d.x, d.y]; }",
            neighbour,
        )
        box = page.locator("#ego-graph iframe").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_function(
            f"() => Number(document.getElementById('ego-graph').dataset.nodes) > {before}",
            timeout=15_000,
        )


def test_record_a_decision_and_see_it_after_reload(site: Site) -> None:
    page = site.page
    site.sign_in("investigator")
    group_id = _open_top_group(site)
    note = "confirmed in the UI test: shared funding and cycles"
    page.select_option("#d-kind", "confirm")
    page.fill("#d-note", note)
    page.click("#decide button[type=submit]")
    page.wait_for_function(
        f"() => document.querySelector('#decisions').innerText.includes({note!r})"
    )
    page.reload()
    page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
    history = page.locator("[data-testid=decisions]").inner_text()
    assert note in history and "confirm" in history and "investigator" in history
    assert any(d["note"] == note for d in site.api(f"/v1/groups/{group_id}/decisions"))


def test_cypher_console_table_and_graph(site: Site) -> None:
    page = site.page
    site.sign_in("analyst")
    page.click("a[data-nav=cypher]")
    set_cypher_query(page, "MATCH (a:Account) RETURN a.account_id ORDER BY a.account_id LIMIT 7")
    page.click("#cypher-form button[type=submit]")
    page.wait_for_selector("#cypher-result tbody tr")
    assert page.locator("#cypher-result tbody tr").count() == 7
    assert page.locator("#cypher-result thead").inner_text().strip() == "a.account_id"
    set_cypher_query(
        page, "MATCH (a:Account)-[m:MEMBER_OF]->(g:Group {current: true}) RETURN a, m, g LIMIT 10"
    )
    page.keyboard.press("Control+Enter")  # the keyboard path runs it too
    page.wait_for_selector("#cypher-graph[data-nodes]", timeout=30_000)
    assert int(page.get_attribute("#cypher-graph", "data-nodes") or 0) >= 2
    seen = len(site.problems)
    set_cypher_query(page, "CREATE (:Evil)")
    page.click("#cypher-form button[type=submit]")
    page.wait_for_selector("#cypher-error .error")
    assert "read" in page.locator("#cypher-error .error").inner_text().lower()
    # The previous result is cleared: an error under an old table reads as its answer.
    assert page.locator("#cypher-result tbody tr").count() == 0
    # The refused write is a 400 on purpose; Chromium logs every failed fetch to the console.
    expected = [p for p in site.problems[seen:] if "status of 400" in p]
    assert len(expected) == 1
    site.problems.remove(expected[0])


def test_roles_shape_what_is_shown(site: Site) -> None:
    page = site.page
    site.sign_in("enforcement")
    assert page.locator("a[data-nav=cypher]").is_hidden()
    _open_top_group(site)
    assert page.locator("#d-kind option").all_inner_texts() == ["action_taken"]


def test_api_docs_render_offline(site: Site) -> None:
    """Swagger UI comes from the package: it renders with nothing but loopback (the request hook
    records any other host, the console check any blocked load) under the docs' policy."""
    page = site.page
    page.goto(site.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert "linkscope" in page.inner_text(".swagger-ui .info .title")


def test_no_console_errors_and_nothing_loaded_from_outside(site: Site) -> None:
    assert site.problems == []
