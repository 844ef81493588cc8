"""Evidence packs and the order replay end to end: generated S-size data (10k accounts) ingested
and analysed on the real embedded store, the real API over loopback HTTP, the real CLI as a
subprocess, real headless Chromium, and the numbers recomputed from the event store's Parquet
files with pyarrow (not through the queries the pack uses)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from pypdf import PdfReader

from api.keys import KeyStore
from api.main import create_app
from api.report.clauses import title
from events.location import events_for
from events.tables import DAY_MS
from linkscope.settings import Settings
from testing.api_server import serving
from testing.browser import chromium
from tests.helpers import analysed_graph, drop

pytestmark = pytest.mark.slow

GRAPH = "packs"
CLI = [sys.executable, "-m", "cli.main"]


class Site:
    def __init__(self, url: str, keys: dict[str, str], store: Any, store_path: Path) -> None:
        self.url, self.keys, self.store, self.store_path = url, keys, store, store_path
        self.events = events_for(store)

    def get(self, path: str, role: str = "investigator", **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return httpx.get(self.url + path, headers=headers, params=params, timeout=120)

    def table(self, name: str) -> pa.Table:
        """A whole event-store table, read straight from its Parquet files."""
        files = sorted(str(p) for p in (self.events.root / name).glob("day=*/*.parquet"))
        return ds.dataset(files, format="parquet").to_table()


@pytest.fixture(scope="module")
def site(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("packs")
    store = analysed_graph(store_path, GRAPH, tmp, accounts=10_000, seed=14)
    keystore = KeyStore(tmp / "keys.json")
    keys = {role: keystore.create(role, f"{role} tester")[1]
            for role in ("investigator", "analyst", "admin", "enforcement")}  # fmt: skip
    settings = Settings(
        store=f"embedded:{store_path}", graph_name=GRAPH, keys_file=str(tmp / "keys.json")
    )
    with serving(create_app(settings)) as url:
        yield Site(url, keys, store, store_path)
    drop(store)
    store.close()


def violations(site: Site) -> list[dict[str, Any]]:
    items = site.get("/v1/groups", verdict="violation", limit=500).json()["items"]
    assert items, "the generated data has violation groups"
    return [site.get(f"/v1/groups/{g['group_id']}").json() for g in items]


def cited_trades(group: dict[str, Any]) -> list[str]:
    ev = group["evidence"]
    return [t for w in ev.get("wash", []) for t in w["trade_ids"]] + [
        t for p in ev.get("synchronized", []) for t in p["trade_ids"]
    ]


EXTERNAL = re.compile(
    r"""(?:src|href|action|poster|data)\s*=\s*["']?(?!data:)[^"'\s>]+|url\(\s*["']?(?!data:)|@import""",
    re.I,
)


def test_every_violation_group_gets_a_pack_from_the_api_and_the_cli(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.report import report
    from linkscope.settings import get_settings

    env = {"LINKSCOPE_STORE": f"embedded:{site.store_path}", "LINKSCOPE_GRAPH_NAME": GRAPH}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    groups = violations(site)
    for n, group in enumerate(groups):
        gid = group["group_id"]
        html = site.get(f"/v1/groups/{gid}/report.html")
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "sandbox" in html.headers["content-security-policy"]
        page = html.text
        assert not EXTERNAL.findall(page), EXTERNAL.findall(page)[:3]
        assert "<script" not in page.lower()
        for m in group["members"]:
            assert f"data-key='{m['account_id']}'" in page
        for clause in group["clauses"]:
            assert f"data-clause='{clause}'" in page and title(clause) in page
        for t in cited_trades(group):
            assert f"data-key='{t}'" in page, (gid, t)
        pdf = site.get(f"/v1/groups/{gid}/report.pdf", role="enforcement")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        # The command's own code writes the same pack (in-process: a subprocess per group
        # costs seconds of start-up; the first group goes through a real subprocess below).
        out = tmp_path / f"{n}.html"
        report(gid, out, None)
        # only the generation time may differ from the API's pack
        strip = re.compile(r"Generated [0-9-]+ [0-9:]+ UTC")
        assert strip.sub("", out.read_text(encoding="utf-8")) == strip.sub("", page)
    get_settings.cache_clear()
    out = tmp_path / "first.pdf"
    done = subprocess.run([*CLI, "report", groups[0]["group_id"], "--out", str(out)],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
    done = subprocess.run([*CLI, "report", "G-none", "--out", str(tmp_path / "x.html")],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 2 and "no group" in done.stderr


def test_pdf_text_names_the_members_clauses_and_trade_ids(site: Site) -> None:
    group = max(violations(site), key=lambda g: len(cited_trades(g)))
    pdf = site.get(f"/v1/groups/{group['group_id']}/report.pdf").content
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = re.sub(r"\s+", "", text)  # a long id may wrap inside a table cell
    assert group["group_id"] in flat
    for m in group["members"]:
        assert m["account_id"] in flat
    for clause in group["clauses"]:
        assert clause in flat and re.sub(r"\s+", "", title(clause)) in flat
    assert cited_trades(group)
    for t in cited_trades(group):
        assert t in flat, t
    assert group["recommended_action"] in flat


def test_the_pack_in_chromium_matches_the_api_and_loads_nothing(site: Site) -> None:
    group = max(violations(site), key=lambda g: len(g["members"]))
    page_html = site.get(f"/v1/groups/{group['group_id']}/report.html").text
    requests: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.set_content(page_html, wait_until="load")
        members = page.eval_on_selector_all("#members tbody tr", "rs => rs.map(r => r.dataset.key)")
        roles = page.eval_on_selector_all(
            "#members tbody tr", "rs => rs.map(r => r.cells[1].textContent)"
        )
        clauses = page.eval_on_selector_all(
            "#clauses [data-clause]", "cs => cs.map(c => c.dataset.clause)"
        )
        trades = page.eval_on_selector_all(
            "table[id^=wash-fills] tbody tr, table[id^=sync-fills] tbody tr",
            "rs => rs.map(r => r.dataset.key)",
        )
        images = page.eval_on_selector_all(
            "figure img", "is => is.map(i => i.complete && i.naturalWidth)"
        )
        action = page.text_content("#action")
        story = page.text_content("#narrative") or ""
    assert members == [m["account_id"] for m in group["members"]]
    assert roles == [m["role"] for m in group["members"]]
    assert clauses == group["clauses"]
    assert set(trades) == set(cited_trades(group))
    assert images and all(w and w > 0 for w in images)
    assert action == group["recommended_action"]
    assert all(u.startswith(("data:", "about:")) for u in requests), requests
    # The draft narrative names who (members, up to 8 by name), which clauses, what action.
    assert all(m["account_id"] in story for m in group["members"][:8])
    assert all(f"{title(c)} ({c})" in story for c in group["clauses"])
    assert group["recommended_action"] in story and group["group_id"] in story


def _cells(page: str, table_id: str) -> dict[str, list[str]]:
    """Rows of one table of the pack by their data-key, as cell texts."""
    match = re.search(rf"<table id='{re.escape(table_id)}'>.*?</table>", page, re.S)
    assert match, table_id
    rows = {}
    for key, body in re.findall(r"<tr data-key='([^']*)'>(.*?)</tr>", match.group(0), re.S):
        rows[key] = [
            re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        ]
    return rows


def test_every_number_in_the_pack_traces_to_the_event_store(site: Site) -> None:
    """Fills, orders, net positions, volume shares and replay counts, recomputed with pyarrow
    from the Parquet files, equal what the pack prints."""
    trades, orders = site.table("trades"), site.table("orders")
    by_trade = {r["trade_id"]: r for r in trades.to_pylist()}
    by_order = {r["order_id"]: r for r in orders.to_pylist()}
    checked = 0
    for group in violations(site):
        gid = group["group_id"]
        decided = httpx.post(
            f"{site.url}/v1/groups/{gid}/decisions", json={"decision": "confirm", "note": "pack test"},
            headers={"Authorization": f"Bearer {site.keys['investigator']}"}, timeout=30,
        )  # fmt: skip
        assert decided.status_code == 201
        page = site.get(f"/v1/groups/{gid}/report.html").text
        assert decided.json()["decision_id"] in _cells(page, "decisions")
        for n, w in enumerate(group["evidence"].get("wash", [])):
            rows = _cells(page, f"wash-fills-{n}")
            assert list(rows) == w["trade_ids"]
            for tid, cells in rows.items():
                t = by_trade[tid]
                assert cells[2:7] == [t["symbol"], t["seller_id"], t["buyer_id"],
                                      repr(t["price"]), repr(t["qty"])]  # fmt: skip
                assert {t["seller_id"], t["buyer_id"]} <= set(w["members"])
                checked += 1
            for oid, cells in _cells(page, f"wash-orders-{n}").items():
                o = by_order[oid]
                assert cells[1:4] == [o["account_id"], o["side"], o["type"]]
                assert cells[5] == repr(o["qty"])
        members = [m["account_id"] for m in group["members"]]
        symbol = (group["evidence"].get("wash") or [{}])[0].get("symbol")
        if symbol is None:
            continue
        in_symbol = trades.filter(pc.equal(trades["symbol"], symbol))
        net: dict[str, float] = defaultdict(float)
        for r in in_symbol.to_pylist():
            if r["buyer_id"] != r["seller_id"]:
                net[r["buyer_id"]] += r["qty"]
                net[r["seller_id"]] -= r["qty"]
        for account, cells in _cells(page, "net-positions").items():
            assert float(cells[1]) == pytest.approx(net[account], abs=1e-6)
        day = pc.divide(in_symbol["ts"], DAY_MS)
        mine = pc.or_(pc.is_in(in_symbol["seller_id"], pa.array(members)),
                      pc.is_in(in_symbol["buyer_id"], pa.array(members)))  # fmt: skip
        quote = pc.multiply(in_symbol["price"], in_symbol["qty"])
        days = pa.table({"day": day, "mine": mine, "quote": quote})
        for key, cells in _cells(page, "volume-share").items():
            rows = days.filter(pc.equal(days["day"], int(key)))
            member_rows = rows.filter(rows["mine"])
            assert int(cells[1]) == rows.num_rows and int(cells[3]) == member_rows.num_rows
            assert float(cells[2]) == pytest.approx(pc.sum(rows["quote"]).as_py(), abs=1e-6)
            assert float(cells[4]) == pytest.approx(pc.sum(member_rows["quote"]).as_py(), abs=1e-6)
        # The static replay of the first cited wash fill's day: its counts.
        first = min(by_trade[t]["ts"] for t in group["evidence"]["wash"][0]["trade_ids"])
        since = first // DAY_MS * DAY_MS
        until = since + DAY_MS
        day_trades = [r for r in in_symbol.to_pylist() if since <= r["ts"] < until]
        live = [o for o in by_order.values() if o["account_id"] in members and o["symbol"] == symbol
                and since - DAY_MS <= o["placed_at"] < until
                and (o["ended_at"] is None or o["ended_at"] >= since)]  # fmt: skip
        own = [r for r in day_trades if r["seller_id"] in members or r["buyer_id"] in members]
        counts = re.search(
            r"<p class='muted' id='replay-counts'>(\d+) orders, (\d+) fills, (\d+) market", page
        )
        assert counts is not None
        assert [int(x) for x in counts.groups()] == [len(live), len(own), len(day_trades)]
    assert checked > 0


def _busy_account_day(site: Site) -> tuple[str, str, int, int, int]:
    """The account-symbol-day with the most priced orders among those with fills too, and the
    counts the chart must show: (account, symbol, day start, orders, fills)."""
    orders = site.table("orders").to_pylist()
    trades = site.table("trades").to_pylist()
    fills: dict[tuple[str, str, int], int] = defaultdict(int)
    for t in trades:
        for who in {t["seller_id"], t["buyer_id"]}:
            fills[(who, t["symbol"], t["ts"] // DAY_MS)] += 1
    placed: dict[tuple[str, str, int], int] = defaultdict(int)
    for o in orders:
        if o["price"] is not None:
            placed[(o["account_id"], o["symbol"], o["placed_at"] // DAY_MS)] += 1
    key = max((k for k in placed if fills.get(k)), key=lambda k: (min(placed[k], 300), fills[k], k))
    account, symbol, day = key
    since, until = day * DAY_MS, (day + 1) * DAY_MS
    # Live in the day: placed before its end, not ended before its start (an open order has
    # not ended); the replay looks back one day for orders placed earlier (docs/api.md).
    live = [o for o in orders if o["account_id"] == account and o["symbol"] == symbol
            and o["price"] is not None and since - DAY_MS <= o["placed_at"] < until
            and (o["ended_at"] is None or o["ended_at"] >= since)]  # fmt: skip
    return account, symbol, since, len(live), fills[key]


def test_the_replay_chart_draws_an_account_days_orders_and_fills(site: Site) -> None:
    account, symbol, since, n_orders, n_fills = _busy_account_day(site)
    assert n_orders > 0 and n_fills > 0
    api = site.get(
        f"/v1/accounts/{account}/replay", symbol=symbol, since=since, until=since + DAY_MS
    ).json()
    # A busy symbol's market trades may pass the cap (and the reply says so); the account's own
    # orders and fills in one day do not.
    assert api["totals"]["orders"] == len(api["orders"]) and api["totals"]["fills"] == len(
        api["fills"]
    )
    assert api["capped"] == (api["totals"]["market"] > len(api["market"]))
    assert len([o for o in api["orders"] if o["price"] is not None]) == n_orders
    assert len(api["fills"]) == n_fills
    hash_ = f"#/replay/account/{account}?symbol={symbol}&since={since}&until={since + DAY_MS}"
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(site.url + "/#/signin")
        page.fill("#key", site.keys["investigator"])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue tbody tr[data-group]")
        page.goto(site.url + "/" + hash_)
        page.wait_for_selector("#replay-chart svg")
        assert page.locator("#replay-chart g.order").count() == n_orders
        assert page.locator("#replay-chart circle.fill").count() == n_fills
        drawn = set(
            page.eval_on_selector_all(
                "#replay-chart g.order", "gs => gs.map(g => g.dataset.orderId)"
            )
        )
        assert drawn == {o["order_id"] for o in api["orders"] if o["price"] is not None}
        # Hover names the order; zoom changes the time axis and keeps every element.
        # The order that rested longest in the day: the middle of its line is clear of markers.
        until = since + DAY_MS
        oid = max(
            (o for o in api["orders"] if o["price"]),
            key=lambda o: (
                min(o["ended_at"] or until, until) - max(o["placed_at"], since),
                o["order_id"],
            ),
        )["order_id"]
        # A horizontal line has no height, which Playwright's hover() calls invisible: move the
        # real mouse onto a point of it that no fill or other order covers.
        point = page.eval_on_selector(
            f"#replay-chart g.order[data-order-id='{oid}'] line",
            """l => { const r = l.getBoundingClientRect(), g = l.parentNode;
                for (let x = r.x + 1; x < r.x + r.width; x += 1) {
                  const hit = document.elementFromPoint(x, r.y);
                  if (hit && hit.parentNode === g) return [x, r.y];
                } return null; }""",
        )
        assert point is not None
        page.mouse.move(*point)
        assert f"order {oid}" in page.text_content("#replay-hover")
        tid = api["fills"][0]["trade_id"]
        page.locator(f"#replay-chart circle.fill[data-trade-id='{tid}']").hover()
        assert f"fill {tid}" in page.text_content("#replay-hover")
        axis = page.eval_on_selector_all(
            "#replay-chart svg > text", "ts => ts.map(t => t.textContent)"
        )
        page.click("#replay-zoom-in")
        assert (
            page.eval_on_selector_all(
                "#replay-chart svg > text", "ts => ts.map(t => t.textContent)"
            )
            != axis
        )
        assert page.locator("#replay-chart g.order").count() == n_orders
        # The account page links to the replay.
        page.goto(site.url + f"/#/account/{account}")
        # (let its ego network load first: account.js writes into the page when it arrives)
        page.wait_for_selector("#ego-graph[data-stabilized-ms]", timeout=30_000)
        page.click("#replay-link")
        page.wait_for_selector("#replay-chart svg")
        assert "Order replay" in page.text_content("h1")
    assert problems == []


def test_reports_and_replays_check_the_caller(site: Site) -> None:
    gid = violations(site)[0]["group_id"]
    member = violations(site)[0]["members"][0]["account_id"]
    assert site.get(f"/v1/groups/{gid}/report.html", role="analyst").status_code == 403
    assert site.get(f"/v1/groups/{gid}/report.html", role="enforcement").status_code == 200
    assert site.get("/v1/groups/G-nope/report.html").status_code == 404
    assert httpx.get(f"{site.url}/v1/groups/{gid}/report.pdf", timeout=30).status_code == 401
    assert site.get(f"/v1/accounts/{member}/replay", role="enforcement").status_code == 403
    capped = site.get(f"/v1/groups/{gid}/replay", role="analyst", cap=1).json()
    assert capped["capped"] is True and len(capped["market"]) == 1
    assert capped["totals"]["market"] > 1
    assert site.get(f"/v1/accounts/{member}/replay", since=0, until=40 * DAY_MS).status_code == 400
    audit = site.get("/v1/audit", role="admin").json()
    assert any(e["action"] == "report:html" and e["target"] == f"group:{gid}" for e in audit)


def test_cited_evidence_is_json_serialisable_for_the_pack(site: Site) -> None:
    """The pack reads the group's evidence as stored: trade ids, not positions."""
    for group in violations(site):
        for p in group["evidence"].get("synchronized", []):
            assert all(isinstance(e["trade_a"], str) for e in p["examples"])
        json.dumps(group["evidence"])


def test_the_group_page_downloads_the_pack_and_opens_the_group_replay(
    site: Site, tmp_path: Path
) -> None:
    group = violations(site)[0]
    gid = group["group_id"]
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900}, accept_downloads=True)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(site.url + "/#/signin")
        page.fill("#key", site.keys["investigator"])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue tbody tr[data-group]")
        page.goto(f"{site.url}/#/group/{gid}")
        page.wait_for_selector("#group-graph[data-stabilized-ms]", timeout=30_000)
        with page.expect_download() as download:
            page.click("[data-pack=html]")
        saved = tmp_path / "pack.html"
        download.value.save_as(saved)
        assert download.value.suggested_filename == f"evidence-{gid}.html"
        assert f"<span id='group-id'>{gid}</span>" in saved.read_text(encoding="utf-8")
        page.click("#replay-link")
        page.wait_for_selector("#replay-chart svg")
        expected = site.get(f"/v1/groups/{gid}/replay").json()
        drawn = page.locator("#replay-chart g.order").count()
        assert drawn == len([o for o in expected["orders"] if o["price"] is not None])
        assert page.locator("#replay-chart circle.fill").count() == len(expected["fills"])
        assert sorted(expected["accounts"]) == sorted(m["account_id"] for m in group["members"])
    assert problems == []


def test_a_members_own_flag_is_listed_with_its_fills(tmp_path: Path, store: Any) -> None:
    """A ring whose member also trades with itself: the pack lists the self_matching flag with
    the fills it cites, read from the event store."""
    from analytics.config import AnalysisConfig
    from analytics.run import analyze
    from analytics.writeback import write_analysis
    from api.report.gather import gather
    from api.report.render import render
    from ingest.pipeline import ingest_directory
    from tests.test_detection import HOUR, T0, Data, market

    data = Data()
    market(data)
    for aid in ("R1", "R2", "R3"):
        data.account(aid)
    for k in range(5):
        ts = T0 + k * 5 * HOUR + 17_000
        data.trade("R1", "R2", ts, 3.0, "ETH_USDT")
        data.trade("R2", "R3", ts + 2_000, 3.0, "ETH_USDT")
        data.trade("R3", "R1", ts + 4_000, 3.0, "ETH_USDT")
    for k in range(3):
        data.trade("R1", "R1", T0 + k * HOUR + 99_000, 1.0, "ETH_USDT")
    self_trades = [row[0] for row in data.trades[-3:]]
    ingest_directory(data.write(tmp_path / "in"), store)
    cfg = AnalysisConfig()
    analysis = analyze(store, cfg)
    write_analysis(store, analysis, cfg)
    ring = next(g for g in analysis.groups if analysis.accounts.ids.index("R1") in g.members)
    page = render(gather(store, events_for(store), ring.group_id))
    assert "data-flag='self_matching'" in page
    listed = _cells(page, "flag-fills-0")
    assert sorted(listed) == sorted(self_trades)
    assert all(cells[3] == cells[4] == "R1" for cells in listed.values())
