"""Spoofing as bait and switch, on hand-made order flows in the real embedded store and event
store: quoting both sides and pinging are not spoofing; one-sided layering around the
account's own opposite fills is, whatever the account's API approval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from analytics import spoofing, writeback
from analytics.behaviour import Flag
from analytics.config import AnalysisConfig
from analytics.order_candidates import read_order_candidates
from analytics.run import Analysis, analyze, order_rows
from analytics.spoofing import search_episodes
from analytics.writeback import write_analysis
from events.store import EventStore
from events.tables import DAY_MS, ORDERS
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from tests.test_detection import T0, Data, market, run

DAY = (T0 // 86_400_000 + 2) * 86_400_000  # a whole UTC day inside the data
SYMBOL = "BTC_USDT"


class Flow(Data):
    """``Data`` with priced fills and the orders behind them."""

    def fill(self, tid: str, seller: str, buyer: str, ts: int, qty: float, price: float) -> None:
        self.trades.append([tid, ts, SYMBOL, price, qty, buyer, seller, "buy", "spot"])

    def order(
        self,
        oid: str,
        account: str,
        side: str,
        price: float,
        qty: float,
        placed: int,
        ended: int,
        status: str = "cancelled",
        filled: float = 0.0,
        channel: str = "web",
    ) -> None:
        self.orders.append(
            [
                oid,
                account,
                SYMBOL,
                side,
                "limit",
                price,
                qty,
                placed,
                ended,
                status,
                filled,
                channel,
            ]
        )


def background(data: Flow) -> None:
    """Ordinary users' orders of 1-3 units: the symbol's typical order."""
    market(data, users=12)
    for i in range(12):
        for k in range(3):
            placed = DAY + (i * 3 + k) * 600_000
            data.order(f"O-U{i}-{k}", f"U{i:02d}", "buy", 100.0, 1.0 + (i + k) % 3, placed,
                       placed + 120_000)  # fmt: skip


def layering(data: Flow, account: str, episodes: int, channel: str, *, pulled_first: bool) -> dict[str, list[str]]:  # fmt: skip
    """Per episode: a genuine buy of 1 rests and is hit by the market maker; two seconds
    before, three sells of 40 go up on three levels above; they are pulled 300 ms after the
    fill (or 500 ms before it). Returns fill id -> bait order ids."""
    cited = {}
    for k in range(episodes):
        ts = DAY + 3_600_000 * (k + 1) + 17_000
        own = f"O-{account}-{k}-own"
        data.order(own, account, "buy", 100.0, 1.0, ts - 30_000, ts, "filled", 1.0, channel)
        tid = f"T-{account}-{k}"
        data.fill(tid, "MM", account, ts, 1.0, 100.0)
        bait = []
        for level in range(3):
            oid = f"O-{account}-{k}-bait{level}"
            end = ts - 500 if pulled_first else ts + 300
            data.order(oid, account, "sell", 100.05 + 0.05 * level, 40.0, ts - 2_000, end,
                       channel=channel)  # fmt: skip
            bait.append(oid)
        cited[tid] = bait
    return cited


def flags_of(analysis: Analysis, account: str) -> dict[str, Flag]:
    pos = analysis.accounts.ids.index(account)
    return {f.clause: f for f in analysis.flags if f.account == pos}


@pytest.fixture
def analysis(tmp_path: Path, store: FalkorEmbedded) -> tuple[Analysis, dict[str, Any]]:
    data, cited = flows()
    return run(store, data, tmp_path), cited


def flows() -> tuple[Flow, dict[str, Any]]:
    """Two layering spoofers, a quoting market maker and a pinging bot, with the fills each
    spoofer's bait was pulled around."""
    data = Flow()
    background(data)
    data.account("LAYER")
    data.account("APISPOOF", api=True)
    data.account("QUOTER", api=True)
    data.account("PINGER")
    cited = {
        "LAYER": layering(data, "LAYER", 4, "web", pulled_first=False),
        "APISPOOF": layering(data, "APISPOOF", 3, "api", pulled_first=True),
    }
    # A market maker's quoting: both sides of 20 every 2 s, pulled after 0.8 s (every order
    # but the filled ones is a quick cancel); every tenth bid is hit for 4 while the ask
    # rests, and the ask is pulled right after: switch-shaped, but two-sided.
    for j in range(200):
        placed = DAY + 7_200_000 + j * 2_000
        hit = j % 10 == 0
        fill_ts = placed + 300
        data.order(f"O-Q-{j}-b", "QUOTER", "buy", 99.95, 20.0, placed, placed + 800,
                   "partially_filled" if hit else "cancelled", 4.0 if hit else 0.0, "api")  # fmt: skip
        data.order(f"O-Q-{j}-a", "QUOTER", "sell", 100.05, 20.0, placed, placed + 800,
                   channel="api")  # fmt: skip
        if hit:
            data.fill(f"T-Q-{j}", f"U{j % 12:02d}", "QUOTER", fill_ts, 4.0, 99.95)
    # A pinging bot without approval: orders of 1 in and out every 2 s on alternating sides,
    # every fourth filled; nothing large, no switch.
    for j in range(150):
        placed = DAY + 10_800_000 + j * 2_000
        side = "buy" if j % 2 else "sell"
        if j % 4 == 0:
            data.order(f"O-P-{j}", "PINGER", side, 100.0, 1.0, placed, placed + 400, "filled",
                       1.0, "api")  # fmt: skip
            buyer, seller = ("PINGER", f"U{j % 12:02d}") if side == "buy" else (f"U{j % 12:02d}", "PINGER")  # fmt: skip
            data.fill(f"T-P-{j}", seller, buyer, placed + 400, 1.0, 100.0)
        else:
            data.order(f"O-P-{j}", "PINGER", side, 100.0, 1.0, placed, placed + 500,
                       channel="api")  # fmt: skip
    return data, cited


def test_two_sided_market_maker_with_quick_cancels_is_not_a_spoofer(
    analysis: tuple[Analysis, dict[str, Any]],
) -> None:
    result, _ = analysis
    assert "spoofing" not in flags_of(result, "QUOTER")
    assert "unauthorized_bot" not in flags_of(result, "QUOTER")  # approved for the API
    assert "spoofing" not in flags_of(result, "MM")
    # Not for want of switch-shaped fills: each hit bid had a resting ask 5x the fill pulled
    # right after; the bid itself rested as large, so none of them is one-sided.
    cfg = AnalysisConfig()
    orders = read_order_candidates(
        result.events, result.accounts, result.window, order_rows(result.accounts, cfg)
    )
    found = search_episodes(
        result.events, result.accounts, orders, result.trades, result.window, cfg.behaviour
    )
    quoter = [e for e in found if e["account_id"] == "QUOTER"]
    assert len(quoter) == 20
    assert {round(e["bait_qty"] / (e["bait_qty"] + e["same_qty"]), 2) for e in quoter} == {0.5}


def _search_args(result: Analysis) -> tuple[Any, ...]:
    """``search_episodes``' arguments for the analysed flows, as the analysis gives them."""
    cfg = AnalysisConfig()
    orders = read_order_candidates(
        result.events, result.accounts, result.window, order_rows(result.accounts, cfg)
    )
    return (result.events, result.accounts, orders, result.trades, result.window, cfg.behaviour)


def test_the_search_a_range_of_accounts_at_a_time_finds_what_one_pass_finds(
    analysis: tuple[Analysis, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passes over ranges of accounts (bounded memory at L) find the same episodes, in the
    same order, as one pass over every candidate account."""
    result, _ = analysis
    args = _search_args(result)
    whole = search_episodes(*args)
    ranges: list[list[tuple[int, int]]] = []
    real = spoofing.account_ranges

    def counted(*a: Any) -> list[tuple[int, int]]:
        ranges.append(real(*a))
        return ranges[-1]

    monkeypatch.setattr(spoofing, "SEARCH_FILLS_PER_PASS", 1)
    monkeypatch.setattr(spoofing, "account_ranges", counted)
    assert search_episodes(*args) == whole
    # The accounts with episodes were searched in passes of their own.
    found = sorted({result.accounts.ids.index(e["account_id"]) for e in whole})
    passes = {i for p in found for i, (lo, hi) in enumerate(ranges[0]) if lo <= p < hi}
    assert len(found) >= 3 and len(passes) == len(found)


def _middle_fills(result: Analysis) -> pa.Table:
    """Each (account, symbol)'s one or two middle fill sizes and its fill count, as an engine
    that keeps the fills elsewhere sends them (``own_middle``; the Spark engine's ranks)."""
    trades, ids = result.trades, result.accounts.ids
    sizes: dict[tuple[str, str], list[float]] = {}
    for who in (trades.seller, trades.buyer):
        for acc, sym, qty in zip(who.tolist(), trades.symbol.tolist(), trades.qty.tolist(),
                                 strict=True):  # fmt: skip
            sizes.setdefault((ids[acc], trades.symbols[sym]), []).append(qty)
    rows: list[tuple[str, str, float, int]] = []
    for (acc, sym), qty in sorted(sizes.items()):
        qty.sort()
        n = len(qty)
        for rank in sorted({(n + 1) // 2, n // 2 + 1}):
            rows.append((acc, sym, qty[rank - 1], n))
    names = ["account_id", "symbol", "qty", "n"]
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(names)})


@pytest.mark.parametrize("per_pass", [1, 10**9])
def test_the_search_with_middle_fills_from_elsewhere_finds_what_it_finds_alone(
    analysis: tuple[Analysis, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, per_pass: int
) -> None:
    """An engine that keeps the fills elsewhere (Spark) sends each account's middle fill sizes
    instead of its fills' median: in one pass or a pass per account (each pass gets only its
    own accounts' middle sizes), the search finds the same episodes as from every fill."""
    result, _ = analysis
    args = _search_args(result)
    whole = search_episodes(*args)
    assert len({e["account_id"] for e in whole}) >= 3
    monkeypatch.setattr(spoofing, "SEARCH_FILLS_PER_PASS", per_pass)
    assert search_episodes(*args, own_middle=_middle_fills(result)) == whole


def test_one_sided_layering_cites_its_bait_orders_and_fills(
    analysis: tuple[Analysis, dict[str, Any]], store: FalkorEmbedded
) -> None:
    result, cited = analysis
    flag = flags_of(result, "LAYER")["spoofing"]
    episodes = flag.evidence["episodes"]
    assert {e["fill_trade_id"]: sorted(e["bait_order_ids"]) for e in episodes} == {
        t: sorted(o) for t, o in cited["LAYER"].items()
    }
    first = episodes[0]
    assert (first["bait_side"], first["fill_side"], first["bait_levels"]) == ("sell", "buy", 3)
    assert first["bait_over_fill"] == 120.0 and first["bait_over_account_median_fill"] == 120.0
    assert (first["bait_lead_ms"], first["bait_pulled_after_fill_ms"]) == (2_000, 300)
    assert "3 sell orders on 3 level(s)" in first["explanation"]
    # Written back: the flag's evidence names them, and they are nodes next to the account.
    stored = json.loads(
        store.read(
            "MATCH (:Account {account_id: 'LAYER'})-[:HAS_FLAG]->(f:Flag {current: true, "
            "clause: 'spoofing'}) RETURN f.evidence"
        ).scalar()
    )
    assert sorted(stored["trade_ids"]) == sorted(cited["LAYER"])
    assert sorted(stored["order_ids"]) == sorted(o for b in cited["LAYER"].values() for o in b)
    orders = store.read(
        "MATCH (:Account {account_id: 'LAYER'})-[:PLACED]->(o:Order) RETURN collect(o.order_id)"
    ).scalar()
    trades = store.read(
        "MATCH (:Account {account_id: 'LAYER'})-[:BOUGHT]->(t:Trade) RETURN collect(t.trade_id)"
    ).scalar()
    assert set(stored["order_ids"]) <= set(orders) and set(cited["LAYER"]) <= set(trades)


def test_bait_orders_are_written_back_from_the_rows_the_search_read(
    tmp_path: Path, store: FalkorEmbedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search hands its bait rows over whole: write-back makes the cited bait Order nodes
    from them, equal to the stored rows, without reading the orders again by id."""
    data, _ = flows()
    ingest_directory(data.write(tmp_path / "in"), store)
    cfg = AnalysisConfig()
    result = analyze(store, cfg)
    spoofers = [f for f in result.flags if f.clause == "spoofing"]
    assert len(spoofers) == 2
    for flag in spoofers:
        stored = result.events.lookup("orders", flag.orders).to_pylist()
        assert sorted(flag.cited_orders, key=lambda r: r["order_id"]) == stored
    looked_up: list[str] = []
    real = EventStore.lookup

    def lookup(self: EventStore, table: str, keys: list[str], **kw: Any) -> Any:
        looked_up.append(table)
        return real(self, table, keys, **kw)

    monkeypatch.setattr(EventStore, "lookup", lookup)
    named = {o for f in spoofers for o in f.orders}
    rows = {r["order_id"]: r for f in spoofers for r in f.cited_orders}
    write_analysis(store, result, cfg)
    assert "orders" not in looked_up
    fields = ", ".join(f"o.{name}" for name in ORDERS.schema.names)
    nodes = store.read(f"MATCH (:Account)-[:PLACED]->(o:Order) RETURN {fields}").rows
    written = {row[0]: dict(zip(ORDERS.schema.names, row, strict=True)) for row in nodes}
    assert named <= set(written)

    def same(a: Any, b: Any) -> bool:
        # The graph keeps a double to 15 significant digits (100.14999999999999 reads 100.15).
        return bool(a == pytest.approx(b, rel=1e-12)) if isinstance(b, float) else a == b

    assert all(same(written[o][k], v) for o in named for k, v in rows[o].items())


def test_a_bot_flag_cites_the_most_telling_orders_of_its_day(
    analysis: tuple[Analysis, dict[str, Any]], store: FalkorEmbedded
) -> None:
    """A flag without named orders cites a sample of each cited day, read from that day's
    file alone: quick cancels by size first, then other cancels, then API orders, at most
    ``ORDER_SAMPLES`` a day, ties by order id; the stored rows say which."""
    result, _ = analysis
    flag = flags_of(result, "PINGER")["unauthorized_bot"]
    [(symbol, day)] = flag.order_days
    rows = result.events.read("orders", where="account_id = 'PINGER'").to_pylist()

    def rank(o: dict[str, Any]) -> float:
        if o["final_status"] == "cancelled":
            return o["qty"] + (1e12 if o["ended_at"] - o["placed_at"] <= 1000 else 0)
        return 1.0 if o["channel"] == "api" else 0.0

    mine = [o for o in rows if o["symbol"] == symbol and o["placed_at"] // DAY_MS == day]
    best = sorted((o for o in mine if rank(o) > 0), key=lambda o: (-rank(o), o["order_id"]))
    expected = sorted(o["order_id"] for o in best[: writeback.ORDER_SAMPLES])
    assert len(mine) == 150 and flag.evidence["order_ids"] == expected
    stored = json.loads(
        store.read(
            "MATCH (:Account {account_id: 'PINGER'})-[:HAS_FLAG]->(f:Flag {current: true, "
            "clause: 'unauthorized_bot'}) RETURN f.evidence"
        ).scalar()
    )
    assert stored["order_ids"] == expected


def test_an_approved_api_account_that_baits_and_switches_is_flagged(
    analysis: tuple[Analysis, dict[str, Any]],
) -> None:
    result, cited = analysis
    flags = flags_of(result, "APISPOOF")
    assert set(flags) == {"spoofing"}  # approval spares it the bot clause, not this one
    episodes = flags["spoofing"].evidence["episodes"]
    assert {e["fill_trade_id"] for e in episodes} == set(cited["APISPOOF"])
    assert all(e["bait_pulled_after_fill_ms"] == -500 for e in episodes)  # pulled, then filled
    assert "pulled 500 ms before" in episodes[0]["explanation"]


def test_a_pinging_bot_without_a_switch_gets_the_bot_clause_only(
    analysis: tuple[Analysis, dict[str, Any]],
) -> None:
    result, _ = analysis
    flags = flags_of(result, "PINGER")
    assert set(flags) == {"unauthorized_bot"}
    assert (
        "quick cancels alone are not spoofing" in flags["unauthorized_bot"].evidence["not_spoofing"]
    )


def test_the_api_returns_a_spoofing_flag_with_its_episodes(
    analysis: tuple[Analysis, dict[str, Any]], store: FalkorEmbedded, tmp_path: Path
) -> None:
    """Over HTTP, on the account the flag is on: each episode names its bait and its fill."""
    import httpx

    from api.keys import KeyStore
    from api.main import create_app
    from linkscope.settings import Settings
    from testing.api_server import serving

    _, cited = analysis
    keys = tmp_path / "keys.json"
    _, key = KeyStore(keys).create("investigator", "spoofing test")
    settings = Settings(
        store=f"embedded:{store.path}", graph_name=store.graph_name, keys_file=str(keys)
    )
    with serving(create_app(settings)) as url:
        profile = httpx.get(
            url + "/v1/accounts/LAYER", headers={"Authorization": f"Bearer {key}"}, timeout=30
        ).json()
    [flag] = [f for f in profile["flags"] if f["clause"] == "spoofing"]
    episodes = flag["evidence"]["episodes"]
    assert {e["fill_trade_id"]: sorted(e["bait_order_ids"]) for e in episodes} == {
        t: sorted(o) for t, o in cited["LAYER"].items()
    }
    assert all(e["explanation"] for e in episodes)
