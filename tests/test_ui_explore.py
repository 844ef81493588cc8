"""Exploring in the investigator UI, end to end: real headless Chromium at 1440x900 and 1024x768,
the real app over loopback HTTP, the real embedded store and event store with generated data.
Ego-network expansion, drill-down to the records, the timeline's axis, merged cluster edges,
the queue's sorting, layout at both sizes, sign-in, the Cypher console's CSV, print."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime
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
SIZES = [(1440, 900), (1024, 768)]


class Site:
    def __init__(self, url: str, keys: dict[str, str], browser: Any, store: Any) -> None:
        self.url, self.keys, self.browser, self.store = url, keys, browser, store
        self.problems: list[str] = []

    def api(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.keys['admin']}"}
        response = httpx.get(self.url + path, headers=headers, timeout=60)
        response.raise_for_status()
        return response.json()

    def page(self, width: int = 1440, height: int = 900) -> Any:
        """A fresh tab (own session storage) that records console errors and outside loads."""
        page = self.browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
        page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        loopback = urlparse(self.url).hostname

        def check(request: Any) -> None:
            parsed = urlparse(request.url)
            if parsed.scheme in ("http", "https") and parsed.hostname != loopback:
                self.problems.append(f"external request: {request.url}")

        page.on("request", check)
        return page

    def signed_in(self, role: str, width: int = 1440, height: int = 900) -> Any:
        page = self.page(width, height)
        page.goto(self.url + "/#/signin")
        page.fill("#key", self.keys[role])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue tbody tr[data-group]")
        return page

    def expect_problems(self, fragment: str, count: int) -> None:
        """Console errors a test causes on purpose (Chromium logs every refused fetch)."""
        expected = [p for p in self.problems if fragment in p]
        assert len(expected) == count, self.problems
        for p in expected:
            self.problems.remove(p)


@pytest.fixture(scope="module")
def site(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("uix")
    store = analysed_graph(store_path, "uix", tmp, accounts=3_000, seed=6)
    keystore = KeyStore(tmp / "keys.json")
    keys = {
        role: keystore.create(role, f"{role} tester")[1]
        for role in ("investigator", "analyst", "admin", "enforcement")
    }
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="uix", keys_file=str(tmp / "keys.json")
    )
    with serving(create_app(settings)) as url, chromium() as browser:
        yield Site(url, keys, browser, store)
    drop(store)
    store.close()


def _group_with(site: Site, kind: str) -> tuple[str, dict[str, Any]]:
    """The first listed group with an evidence link of ``kind``."""
    for g in site.api("/v1/groups?limit=500")["items"]:
        detail = site.api(f"/v1/groups/{g['group_id']}")
        if any(link["kind"] == kind for link in detail["evidence"]["links"]):
            return g["group_id"], detail
    raise AssertionError(f"the generated data has no group linked by {kind}")


def _open_group(page: Any, site: Site, group_id: str) -> Any:
    page.goto(f"{site.url}/#/group/{group_id}")
    page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
    return next(f for f in page.frames if f != page.main_frame)


def _iso(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() * 1000)


def test_sign_in_error_on_the_first_try_and_no_navigation_signed_out(site: Site) -> None:
    page = site.page()
    page.goto(site.url + "/")
    page.wait_for_selector("#signin-form")
    assert page.locator("header nav").is_hidden()
    assert page.locator("#signout").is_hidden()
    page.fill("#key", "lsk_000000000000_not-a-key")
    page.click("#signin-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('signin-error').textContent.length > 0")
    assert page.inner_text("#signin-error") == "That key is not valid."
    assert page.locator("header nav").is_hidden()
    page.fill("#key", site.keys["investigator"])
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#queue tbody tr[data-group]")
    assert page.locator("header nav").is_visible()
    site.expect_problems("status of 401", 1)
    page.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_layout_keeps_the_decision_form_in_view_without_sideways_scroll(
    site: Site, width: int, height: int
) -> None:
    page = site.signed_in("investigator", width, height)
    no_scroll = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_scroll)
    group_id, _ = _group_with(site, "transfer")
    _open_group(page, site, group_id)
    page.wait_for_selector("#tl-axis .end")
    graph = page.locator("#group-graph").bounding_box()
    assessment = page.locator("[data-testid=assessment]").bounding_box()
    form = page.locator("#decide").bounding_box()
    assert graph and assessment and form
    # Beside the graph, and within the first screen height of the right column.
    assert assessment["x"] > graph["x"] + graph["width"] - 1
    assert form["x"] > graph["x"] + graph["width"] - 1
    assert form["y"] + form["height"] <= height
    # Investigators confirm, dismiss or escalate: the enforcement-only field is not theirs.
    assert page.locator("#d-action").is_hidden()
    page.fill("#d-note", "a long note " + "x" * 400)
    page.click("#decide button[type=submit]")
    page.wait_for_function("() => document.querySelector('#decisions').innerText.includes('investigator tester')")
    history = page.locator("[data-testid=decisions]")
    # Decisions name the key; the history stays in its card.
    assert "investigator tester (investigator)" in history.inner_text()
    card = page.locator("#decisions").locator("xpath=ancestor::div[contains(@class,'card')][1]").bounding_box()
    table = history.bounding_box()
    assert card and table and table["x"] + table["width"] <= card["x"] + card["width"] + 1
    assert page.evaluate(no_scroll)
    member = site.api(f"/v1/groups/{group_id}")["members"][0]["account_id"]
    page.goto(f"{site.url}/#/account/{member}")
    page.wait_for_selector("#ego-graph[data-stabilized-ms]", timeout=30_000)
    page.wait_for_selector("#activity[data-loaded=trades]")
    assert page.evaluate(no_scroll)
    page.close()


def test_admin_sees_the_action_field_only_with_action_taken(site: Site) -> None:
    page = site.signed_in("admin")
    group_id, _ = _group_with(site, "transfer")
    _open_group(page, site, group_id)
    assert page.locator("#d-action").is_hidden()
    page.select_option("#d-kind", "action_taken")
    assert page.locator("#d-action").is_visible()
    page.close()


def test_expansion_rings_new_nodes_around_the_expanded_one_and_counts_what_is_drawn(
    site: Site,
) -> None:
    page = site.signed_in("investigator")
    _, detail = _group_with(site, "transfer")
    subject = detail["members"][0]["account_id"]
    page.goto(f"{site.url}/#/account/{subject}")
    page.wait_for_selector("#ego-graph[data-stabilized-ms]", timeout=30_000)
    frame = next(f for f in page.frames if f != page.main_frame)
    nodes = frame.evaluate("window.linkscopeNetwork.body.data.nodes.get()")
    # The subject stands out; its group's members wear the verdict, the unrelated do not.
    me = next(n for n in nodes if n["id"] == f"Account:{subject}")
    assert me.get("subject") is True and me["size"] > 18
    members = {m["account_id"] for m in detail["members"]}
    for n in nodes:
        if n["kind"] == "Account":
            expected = detail["verdict"] if n["key"] in members else ("grouped" if n.get("group_id") else "account")
            assert n["group"] == expected, n
    drawn = "window.linkscopeNetwork.body.data.nodes.get({filter: n => !n.hidden}).length"
    assert int(page.get_attribute("#ego-graph", "data-nodes") or 0) == frame.evaluate(drawn)
    # Expand the account with the most neighbours not drawn yet.
    before = set(frame.evaluate("window.linkscopeNetwork.body.data.nodes.getIds()"))
    best, gain = None, -1
    for n in nodes:
        if n["kind"] == "Account" and n["id"] != me["id"]:
            view = site.api(f"/v1/accounts/{n['key']}/neighborhood/view?limit=150")
            fresh = len({x["id"] for x in view["nodes"]} - before)
            if fresh > gain:
                best, gain = n["id"], fresh
    assert best is not None and gain > 0
    x, y = frame.evaluate(
        "(id) => { const n = window.linkscopeNetwork; const d = n.canvasToDOM(n.getPositions([id])[id]); return [d.x, d.y]; }",
        best,
    )
    box = page.locator("#ego-graph iframe").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => document.getElementById('ego-graph').dataset.expansions === '1'", timeout=20_000)
    ids, positions = frame.evaluate(
        "(() => { const n = window.linkscopeNetwork; const ids = n.body.data.nodes.getIds(); return [ids, n.getPositions(ids)]; })()"
    )
    new = [i for i in ids if i not in before]
    assert len(new) == gain
    centre = positions[best]
    # On a ring around the expanded node (radius up to 330), settled locally: none in a far pile.
    distances = [math.dist((positions[i]["x"], positions[i]["y"]), (centre["x"], centre["y"])) for i in new]
    assert max(distances) < 500, distances
    assert int(page.get_attribute("#ego-graph", "data-nodes") or 0) == frame.evaluate(drawn) == len(ids)
    assert frame.inner_text("#status").startswith(f"{len(ids)} nodes")
    # Undo takes the expansion back; the counter follows.
    page.click("#ego-undo")
    page.wait_for_function("() => document.getElementById('ego-graph').dataset.expansions === '0'")
    assert int(page.get_attribute("#ego-graph", "data-nodes") or 0) == len(before) == frame.evaluate(drawn)
    # Relationship filter: IP logins off hides their edges and the IPs left unlinked.
    page.uncheck("#rel-USED_IP")
    page.wait_for_function(f"() => Number(document.getElementById('ego-graph').dataset.nodes) < {len(before)}")
    visible = frame.evaluate("window.linkscopeNetwork.body.data.nodes.get({filter: n => !n.hidden}).map(n => n.id)")
    assert not [v for v in visible if v.startswith("IP:")]
    assert int(page.get_attribute("#ego-graph", "data-nodes") or 0) == len(visible)
    page.check("#rel-USED_IP")
    # A slow request (depth 3, 1000 nodes) overtaken by a fast one: the graph matches the controls.
    page.select_option("#ego-limit", "1000")
    page.select_option("#ego-depth", "3")
    assert page.get_attribute("#ego-graph", "data-loading") == "true"
    assert page.locator("#ego-graph progress").count() == 1
    assert page.locator("#ego-graph iframe").count() == 0  # the old picture is gone at once
    page.select_option("#ego-depth", "1")
    page.select_option("#ego-limit", "50")
    page.wait_for_selector("#ego-graph[data-stabilized-ms]", timeout=60_000)
    page.wait_for_timeout(1500)  # time for a late answer to the overtaken request
    assert page.get_attribute("#ego-graph", "data-depth") == "1"
    assert page.get_attribute("#ego-graph", "data-limit") == "50"
    expected = len(site.api(f"/v1/accounts/{subject}/neighborhood?depth=1&limit=50")["nodes"])
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.evaluate("window.linkscopeNetwork.body.data.nodes.length") == expected
    assert page.locator("#ego-legend").inner_text().count("member of another group") == 1
    page.close()


def test_link_drill_down_shows_the_transfers_the_store_holds(site: Site) -> None:
    page = site.signed_in("investigator")
    group_id, detail = _group_with(site, "transfer")
    link = next(x for x in detail["evidence"]["links"] if x["kind"] == "transfer")
    _open_group(page, site, group_id)
    row = page.locator("tr", has_text=f"{link['a']} – {link['b']}").filter(has_text="transfer").first
    row.locator("button", has_text="details").click()
    page.wait_for_selector("[data-testid=link-detail] table")
    shown = page.locator("[data-testid=link-detail] table").first.locator("tbody tr")
    seen = set()
    for i in range(shown.count()):
        cells = shown.nth(i).locator("td").all_inner_texts()
        seen.add((_iso(cells[0]), cells[1], cells[2], float(cells[3].split()[0].replace(",", ""))))
    rows = site.store.read(
        "MATCH (s:Account)-[t:TRANSFER]->(d:Account) "
        "WHERE (s.account_id = $a AND d.account_id = $b) OR (s.account_id = $b AND d.account_id = $a) "
        "RETURN t.ts, s.account_id, d.account_id, t.amount",
        {"a": link["a"], "b": link["b"]},
    ).rows
    # Each side reports the transfer (withdrawal and deposit): one row per transfer.
    stored = {(int(ts) // 1000 * 1000, s, d, round(float(amount), 2)) for ts, s, d, amount in rows}
    assert stored and seen == stored


def test_trade_ids_open_the_trade_with_both_sides_and_its_orders(site: Site) -> None:
    page = site.signed_in("investigator")
    group_id, detail = _group_with(site, "transfer")
    wash = detail["evidence"]["wash"][0]
    trade_id = wash["trade_ids"][0]
    _open_group(page, site, group_id)
    page.click(f"a.chip[href='#/trade/{trade_id}']")
    page.wait_for_selector("h1:has-text('Trade')")
    text = page.inner_text("main")
    trade = site.api(f"/v1/trades/{trade_id}")
    fill = trade["trade"]
    for account in (fill["buyer_id"], fill["seller_id"]):
        assert account in text
    assert datetime.fromtimestamp(fill["ts"] / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") in text
    # The same fill as the account's own list of trades holds.
    page_of = site.api(f"/v1/accounts/{fill['buyer_id']}/trades?limit=1000")["items"]
    assert any(f["trade_id"] == trade_id and f["price"] == fill["price"] for f in page_of)
    orders = page.locator("main table tbody tr")
    assert orders.count() == len(trade["orders"]) >= 1
    page.close()


def test_timeline_axis_spans_the_events_and_a_span_highlights_cluster_edges(site: Site) -> None:
    page = site.signed_in("investigator")
    group_id, _ = _group_with(site, "transfer")
    frame = _open_group(page, site, group_id)
    page.wait_for_selector("#tl-axis .end")
    events = site.api(f"/v1/groups/{group_id}/timeline?limit=2000")
    kinds = {e["kind"] for e in events}
    assert {"trade", "transfer", "sync"} <= kinds
    first, last = events[0]["ts"], events[-1]["ts"]
    start = _iso(page.inner_text("#tl-axis .start"))
    stop = _iso(page.inner_text("#tl-axis .stop"))
    pad = (last - first) * 0.02 + 2000
    assert first - pad <= start <= first and last <= stop <= last + pad
    assert page.inner_text("#tl-axis .tz") == "UTC"
    assert page.locator("#tl-axis .mark").count() >= 2
    # Zoom in halves the span; "whole period" brings it back.
    page.click("button[aria-label='zoom in']")
    zoomed = _iso(page.inner_text("#tl-axis .stop")) - _iso(page.inner_text("#tl-axis .start"))
    assert abs(zoomed - (stop - start) / 2) <= 2000
    page.click("button[aria-label='show the whole period']")
    # Kind filter: logins off, no login tick drawn.
    page.uncheck("#tl-kind-login")
    assert page.locator("#tl-strip .tick.login").count() == 0
    assert page.locator("#tl-strip .tick.trade").count() > 0
    # Orders load when their kind is switched on: every member's orders, drawn in their lane.
    members = [m["account_id"] for m in site.api(f"/v1/groups/{group_id}")["members"]]
    orders = sum(len(site.api(f"/v1/accounts/{m}/orders?limit=500")["items"]) for m in members)
    assert orders > 0 and page.locator("#tl-strip .tick.order").count() == 0
    page.check("#tl-kind-order")
    page.wait_for_selector("#timeline[data-orders]")
    assert int(page.get_attribute("#timeline", "data-orders") or 0) == orders
    page.click("button[aria-label='zoom out']")
    page.click("button[aria-label='zoom out']")
    assert page.locator("#tl-strip .tick.order").count() > 0
    page.click("button[aria-label='show the whole period']")
    # Drag across the whole strip: every trading/transfer pair is highlighted in the cluster view.
    box = page.locator("#tl-strip").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + 20)
    page.mouse.up()
    page.wait_for_function("() => Number(document.getElementById('group-graph').dataset.highlighted) > 0")
    pairs = {tuple(sorted((e["account"], e["counterparty"]))) for e in events if e["kind"] != "login" and e["counterparty"]}
    assert int(page.get_attribute("#group-graph", "data-highlighted") or 0) == len(pairs)
    assert len(frame.evaluate("window.linkscopeNetwork.getSelectedEdges()")) == len(pairs)
    page.close()


def test_cluster_view_merges_parallel_edges_with_count_and_total(site: Site) -> None:
    page = site.signed_in("investigator")
    group_id, detail = _group_with(site, "transfer")
    frame = _open_group(page, site, group_id)
    edges = frame.evaluate("window.linkscopeNetwork.body.data.edges.get()")
    between = [e for e in edges if e["from"].startswith("Account:") and e["to"].startswith("Account:")]
    pairs = [tuple(sorted((e["from"], e["to"]))) for e in between]
    assert len(pairs) == len(set(pairs))  # one edge per pair of accounts
    merged = [e for e in between if e["links"] > 1]
    assert merged, "this group has pairs linked by trades and transfers"
    for e in merged:
        assert e["count"] >= e["links"] and e["hover"] and e["total"] > 0
        assert len(e["title"].splitlines()) == e["links"] + 1
    members = [m["account_id"] for m in detail["members"]]
    traded = site.store.read(
        "MATCH (s:Account)-[t:TRADES_WITH]->(b:Account) WHERE s.account_id IN $m AND b.account_id IN $m "
        "RETURN s.account_id, b.account_id, sum(t.trades)",
        {"m": members},
    ).rows
    for s, b, trades in traded:
        edge = next(e for e in between if sorted((e["from"], e["to"])) == sorted((f"Account:{s}", f"Account:{b}")))
        assert f"{int(trades)} trades" in edge["title"]
    # No node lies on another (identifier nodes cluster around few accounts).
    overlapping = frame.evaluate(
        """(() => { const n = window.linkscopeNetwork, ids = n.body.data.nodes.getIds(), p = n.getPositions(), out = [];
                    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) {
                      const a = n.body.nodes[ids[i]], b = n.body.nodes[ids[j]];
                      const d = Math.hypot(p[ids[i]].x - p[ids[j]].x, p[ids[i]].y - p[ids[j]].y);
                      if (d < (a.shape.width + b.shape.width) / 2) out.push([ids[i], ids[j]]); }
                    return out; })()"""
    )
    assert overlapping == []
    legend = page.locator("#group-graph + .legend").inner_text()
    assert "used the identifier" in legend
    # Hovering an edge writes its counts on it.
    edge = merged[0]
    x, y = frame.evaluate(
        """(id) => { const n = window.linkscopeNetwork; const e = n.body.edges[id];
                     const a = n.canvasToDOM({x: e.from.x, y: e.from.y}), b = n.canvasToDOM({x: e.to.x, y: e.to.y});
                     return [(a.x + b.x) / 2, (a.y + b.y) / 2]; }""",
        edge["id"],
    )
    box = page.locator("#group-graph iframe").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.move(box["x"] + x + 1, box["y"] + y)
    frame.wait_for_function("(id) => window.linkscopeNetwork.body.data.edges.get(id).label === window.linkscopeNetwork.body.data.edges.get(id).hover", arg=edge["id"])
    page.close()


def test_queue_sorts_by_column_and_keeps_filters_in_the_url(site: Site) -> None:
    page = site.signed_in("investigator")
    listed = site.api("/v1/groups?limit=500")
    # The queue opens in priority order; the volume column is the volume the findings involve.
    assert page.get_attribute("#queue th[aria-sort=descending] button", "data-sort") == "priority"
    page.click("#queue th button[data-sort=volume]")
    assert "sort=volume" in page.url
    ids = page.eval_on_selector_all("#queue tbody tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    expected = sorted(listed["items"], key=lambda g: -g["volume"])
    assert [g["volume"] for g in expected] == [
        next(g for g in listed["items"] if g["group_id"] == i)["volume"] for i in ids
    ]
    page.click("#queue th button[data-sort=volume]")  # again: ascending
    assert "order=asc" in page.url
    first = page.locator("#queue tbody tr[data-group]").first.get_attribute("data-group")
    assert next(g for g in listed["items"] if g["group_id"] == first)["volume"] == min(
        g["volume"] for g in listed["items"]
    )
    page.select_option("#f-verdict", "violation")
    page.wait_for_function("() => [...document.querySelectorAll('#queue .badge')].every(b => b.textContent === 'violation')")
    url = page.url
    assert "verdict=violation" in url
    page.reload()
    page.wait_for_selector("#queue tbody tr[data-group]")
    assert page.input_value("#f-verdict") == "violation"
    assert page.get_attribute("#queue th[aria-sort=ascending] button", "data-sort") == "volume"
    # The volume's unit, an age column, ids kept on one line.
    assert listed["quote_assets"] == ["USDT"]
    assert page.locator("#queue tbody tr").first.locator("td").nth(6).inner_text().endswith("USDT")
    assert page.locator("#queue thead th").last.inner_text().startswith("Age")
    assert page.eval_on_selector("#queue tbody a", "a => getComputedStyle(a).whiteSpace") == "nowrap"
    page.close()


def test_cypher_console_csv_graph_fitted_and_errors_on_top(site: Site) -> None:
    page = site.signed_in("analyst")
    page.click("a[data-nav=cypher]")
    set_cypher_query(page, "MATCH (a:Account)-[m:MEMBER_OF]->(g:Group {current: true}) RETURN a, m, g LIMIT 20")
    page.click("#cypher-form button[type=submit]")
    page.wait_for_selector("#cypher-graph[data-nodes]", timeout=30_000)
    frame = next(f for f in page.frames if f != page.main_frame)
    assert "laying out" not in frame.inner_text("#status")
    inside = frame.evaluate(
        """(() => { const n = window.linkscopeNetwork; const ids = n.body.data.nodes.getIds();
                    const w = document.body.clientWidth, h = document.body.clientHeight;
                    return ids.every(i => { const d = n.canvasToDOM(n.getPositions([i])[i]);
                                            return d.x >= 0 && d.y >= 0 && d.x <= w && d.y <= h; }); })()"""
    )
    assert inside
    with page.expect_download() as download:
        page.click("#cypher-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["a", "m", "g"] and len(rows) == 21
    set_cypher_query(page, "MATCH (x) RETURN x.nope +")
    page.click("#cypher-form button[type=submit]")
    page.wait_for_selector("#cypher-error .error")
    error = page.locator("#cypher-error").bounding_box()
    result = page.locator("#cypher-result").bounding_box()
    assert error and result and error["y"] < result["y"]
    assert page.locator("#cypher-result tbody tr").count() == 0
    assert page.locator("#cypher-csv").is_hidden()
    site.expect_problems("status of 400", 1)
    page.close()


def test_synchronized_episodes_show_both_fills_and_gaps_print_as_plus_minus(site: Site) -> None:
    page = site.signed_in("investigator")
    group_id, detail = _group_with(site, "transfer")
    pair = detail["evidence"]["synchronized"][0]
    x = pair["examples"][0]
    _open_group(page, site, group_id)
    card = page.locator(".card", has=page.locator("h2", has_text="Synchronized trading"))
    assert f"±{abs(x['ts_b'] - x['ts_a']) / 1000:.1f} s" in card.inner_text()
    assert "+-" not in card.inner_text()
    assert "Expected by chance is how many episodes" in card.inner_text().replace("\n", " ")
    card.locator("button", has_text="both fills").first.click()
    fills = card.locator(".drill table tbody tr")
    fills.first.wait_for()
    accounts = {fills.nth(i).locator("td").first.inner_text() for i in range(fills.count())}
    assert accounts == {pair["a"], pair["b"]}
    page.close()


def test_account_activity_lists_trades_transfers_logins_and_orders(site: Site) -> None:
    page = site.signed_in("investigator")
    _, detail = _group_with(site, "transfer")
    account = detail["members"][0]["account_id"]
    page.goto(f"{site.url}/#/account/{account}")
    page.wait_for_selector("#activity[data-loaded=trades]")
    for kind in ("trades", "transfers", "logins", "orders"):
        page.click(f"#activity .tab[data-kind={kind}]")
        page.wait_for_selector(f"#activity[data-loaded={kind}]")
        items = site.api(f"/v1/accounts/{account}/{kind}?limit=50")["items"]
        shown = page.locator("#activity-table tbody tr")
        assert (shown.count() if items else 0) == len(items), kind
    # Profile values for people: ISO times with the zone, booleans as words.
    profile = page.locator(".card", has=page.locator("h2", has_text="Profile")).inner_text()
    lines = profile.splitlines()
    assert lines[lines.index("api_authorized") + 1] in ("yes", "no")
    created = lines[lines.index("created_at") + 1]
    assert created.endswith("Z") and _iso(created) // 1000 > 0
    page.close()


def test_account_activity_reloading_a_kind_does_not_look_loaded_before_its_rows_come(
    site: Site,
) -> None:
    """Choosing the shown tab again reloads it; until the API answers, the card must not claim
    to hold that kind (it shows "Loading…"), or a reader of the card sees one row, not the page."""
    page = site.signed_in("investigator")
    _, detail = _group_with(site, "transfer")
    account = detail["members"][0]["account_id"]
    page.goto(f"{site.url}/#/account/{account}")
    page.wait_for_selector("#activity[data-loaded=trades]")
    held: list[Any] = []
    pattern = f"**/v1/accounts/{account}/trades?*"

    def hold(route: Any) -> None:
        held.append(route)

    page.route(pattern, hold)
    page.click("#activity .tab[data-kind=trades]")
    while not held:
        page.wait_for_timeout(20)
    assert page.get_attribute("#activity", "data-loaded") is None
    assert page.get_attribute("#activity", "aria-busy") == "true"
    assert page.locator("#activity-table tbody tr").inner_text() == "Loading…"
    held[0].continue_()
    page.unroute(pattern)
    page.wait_for_selector("#activity[data-loaded=trades][aria-busy=false]")
    items = site.api(f"/v1/accounts/{account}/trades?limit=50")["items"]
    assert items and page.locator("#activity-table tbody tr").count() == len(items)
    page.close()


def test_print_stylesheet_drops_the_application_and_keeps_the_graph(site: Site) -> None:
    page = site.signed_in("investigator")
    group_id, _ = _group_with(site, "transfer")
    _open_group(page, site, group_id)
    page.wait_for_selector("#group-graph canvas.graph-print[data-drawn]", state="attached")
    page.emulate_media(media="print")
    assert page.locator("header").is_hidden()
    assert page.locator("#decide").is_hidden()
    assert page.locator("#group-graph canvas.graph-print").is_visible()
    size = page.eval_on_selector("#group-graph canvas.graph-print", "c => [c.width, c.height]")
    assert size[0] > 100 and size[1] > 100
    assert page.locator("#group-graph iframe").is_hidden()
    assert page.eval_on_selector(".scroll", "e => getComputedStyle(e).overflow") == "visible"
    assert page.locator("main button:visible").count() == 0
    page.close()


def test_no_console_errors_and_nothing_loaded_from_outside(site: Site) -> None:
    assert site.problems == []
