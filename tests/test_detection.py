"""Detectors and verdicts on small hand-made data sets, on the real embedded store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analytics.config import AnalysisConfig
from analytics.run import Analysis, analyze
from analytics.writeback import write_analysis
from graph.falkor_embedded import FalkorEmbedded
from ingest import contract
from ingest.pipeline import ingest_directory
from tests.helpers import ACCOUNTS_HEADER, TRADES_HEADER, header, write_csv

T0 = 1_790_000_000_000
HOUR = 3_600_000
LOGINS = header(contract.LOGINS)
FUNDING = header(contract.FUNDING)
ORDERS = header(contract.ORDERS)
HISTORY = header(contract.ENFORCEMENT_HISTORY)


class Data:
    def __init__(self) -> None:
        self.accounts: list[list[Any]] = []
        self.logins: list[list[Any]] = []
        self.funding: list[list[Any]] = []
        self.trades: list[list[Any]] = []
        self.orders: list[list[Any]] = []
        self.history: list[list[Any]] = []

    def account(self, aid: str, kind: str = "retail", api: bool = False) -> None:
        self.accounts.append([aid, T0 - 400 * 24 * HOUR, 2, "DE", kind, str(api).lower(), "active"])
        self.logins.append([aid, T0, f"10.{len(self.accounts)}.0.1", f"dev-{aid}", "ua", "app"])
        self.funding.append([f"F-{aid}", aid, T0, "deposit", "bank", f"own-{aid}", "USDT", 100])

    def trade(
        self, seller: str, buyer: str, ts: int, qty: float = 1.0, symbol: str = "BTC_USDT"
    ) -> None:
        tid = f"T{len(self.trades):06d}"
        self.trades.append([tid, ts, symbol, 100.0, qty, buyer, seller, "buy", "spot"])

    def write(self, directory: Path) -> Path:
        write_csv(directory / "accounts.csv", ACCOUNTS_HEADER, self.accounts)
        write_csv(directory / "logins.csv", LOGINS, self.logins)
        write_csv(directory / "funding.csv", FUNDING, self.funding)
        write_csv(directory / "trades.csv", TRADES_HEADER, self.trades)
        if self.orders:
            write_csv(directory / "orders.csv", ORDERS, self.orders)
        if self.history:
            write_csv(
                directory / "enforcement_history.csv",
                ["account_id", "ts", "action", "clause", "case_id"],
                self.history,
            )
        return directory


def market(data: Data, users: int = 30) -> None:
    """A market maker meeting many ordinary users, back and forth: the look-alike of a cycle
    (users' buys and sells differ in size, as they do: nobody's position returns to zero)."""
    data.account("MM", "market_maker", api=True)
    for i in range(users):
        data.account(f"U{i:02d}")
        for k in range(4):
            ts = T0 + (i * 7 + k) * HOUR
            if k % 2:
                data.trade("MM", f"U{i:02d}", ts, 2.5 + (i % 2))
            else:
                data.trade(f"U{i:02d}", "MM", ts, 1.0 + (i % 3))


def run(
    store: FalkorEmbedded, data: Data, tmp: Path, cfg: AnalysisConfig | None = None
) -> Analysis:
    ingest_directory(data.write(tmp / "in"), store)
    cfg = cfg or AnalysisConfig()
    analysis = analyze(store, cfg)
    write_analysis(store, analysis, cfg)
    return analysis


def group_of(analysis: Analysis, account: str) -> Any:
    pos = analysis.accounts.ids.index(account)
    return next((g for g in analysis.groups if pos in g.members), None)


def named(analysis: Analysis, members: list[int]) -> set[str]:
    return {analysis.accounts.ids[m] for m in members}


def test_ring_without_shared_identifiers_is_found_and_household_cleared(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = Data()
    market(data)
    for aid in ("R1", "R2", "R3", "H1", "H2"):
        data.account(aid)
    for k in range(5):  # five full cycles R1 -> R2 -> R3 -> R1, a few seconds apart
        ts = T0 + k * 5 * HOUR + 17_000
        data.trade("R1", "R2", ts, 3.0, "ETH_USDT")
        data.trade("R2", "R3", ts + 2_000, 3.0, "ETH_USDT")
        data.trade("R3", "R1", ts + 4_000, 3.0, "ETH_USDT")
    for aid in ("H1", "H2"):  # a household: one device, one bank account, no trading together
        data.logins.append([aid, T0 + 60_000, "192.0.2.7", "dev-family", "ua", "app"])
        data.funding.append([f"FH-{aid}", aid, T0, "deposit", "bank", "family-bank", "USDT", 50])
    analysis = run(store, data, tmp_path)

    ring = group_of(analysis, "R1")
    assert ring is not None and named(analysis, ring.members) == {"R1", "R2", "R3"}
    assert ring.verdict == "violation" and "wash_trading" in ring.clauses
    wash = ring.evidence["wash"][0]
    assert wash["cycle_completions"] == 5 and len(wash["trade_ids"]) == 15
    assert set(wash["net_position_ratio"].values()) == {0.0}
    assert {r for r in ring.roles.values()} == {"counterparty"}  # linked only by trading

    household = group_of(analysis, "H1")
    assert household is not None and named(analysis, household.members) == {"H1", "H2"}
    assert household.verdict == "cleared" and household.clauses == []
    assert household.action == "none"
    assert "no trading among members" in household.reasons[-1]
    assert {link["kind"] for link in household.evidence["links"]} >= {"device", "funding"}

    assert group_of(analysis, "MM") is None  # many back-and-forth counterparties, no group
    assert not any(
        w for w in analysis.findings.wash if analysis.accounts.ids.index("MM") in w.members
    )


def test_repeat_offender_escalates_and_first_time_is_frozen(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = Data()
    market(data, users=10)
    for ring in ("A", "B"):
        members = [f"{ring}{i}" for i in range(3)]
        for aid in members:
            data.account(aid)
            data.logins.append(
                [aid, T0 + 5_000, f"198.51.100.{ord(ring)}", f"shared-{ring}", "ua", "app"]
            )
        for k in range(4):
            ts = T0 + k * 3 * HOUR
            for j, aid in enumerate(members):
                data.trade(aid, members[(j + 1) % 3], ts + j * 1_000, 500.0, "SOL_USDT")
    # B0's sibling account was frozen for wash trading before; it is linked to B0 only by a
    # shared bank account, so it is handled with the group.
    data.account("B-old")
    data.funding.append(["FB1", "B0", T0, "deposit", "bank", "bank-B", "USDT", 10])
    data.funding.append(["FB2", "B-old", T0, "deposit", "bank", "bank-B", "USDT", 10])
    data.history.append(["B-old", T0 - 90 * 24 * HOUR, "frozen", "wash_trading", "C-1"])
    analysis = run(store, data, tmp_path)
    first, repeat = group_of(analysis, "A0"), group_of(analysis, "B0")
    assert first.verdict == repeat.verdict == "violation"
    assert first.action == "freeze_pending_review"
    assert repeat.action == "restrict_new_positions"
    assert any(
        h["account"] == "B-old" and h["action"] == "frozen" for h in repeat.evidence["history"]
    )
    assert any("repeat" in r for r in repeat.reasons)
    assert repeat.roles[analysis.accounts.ids.index("B0")] == "controller_candidate"


def test_order_detectors_and_missing_orders(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = Data()
    market(data, users=12)
    data.account("BOT")
    data.account("APPROVED", api=True)
    data.account("SPOOF")
    day = (T0 // 86_400_000 + 2) * 86_400_000
    for aid in ("BOT", "APPROVED"):
        for j in range(150):
            placed = day + 3_600_000 + j * 2_000 + (j % 3)
            data.orders.append(
                [
                    f"O-{aid}-{j}",
                    aid,
                    "BTC_USDT",
                    "buy",
                    "limit",
                    100,
                    0.1,
                    placed,
                    placed + 500,
                    "filled",
                    0.1,
                    "api",
                ]
            )
    for j in range(60):  # big orders pulled within a second, hardly anything filled
        placed = day + 7_200_000 + j * 9_000 + (j * 7919) % 5_000
        data.orders.append(
            [
                f"O-S-{j}",
                "SPOOF",
                "BTC_USDT",
                "sell",
                "limit",
                100,
                80.0,
                placed,
                placed + 300,
                "cancelled",
                0,
                "web",
            ]
        )
    for i in range(12):
        data.orders.append(
            [
                f"O-U-{i}",
                f"U{i:02d}",
                "BTC_USDT",
                "buy",
                "limit",
                100,
                1.0 + i % 3,
                day + i * 999_000,
                day + i * 999_000 + 60_000,
                "filled",
                1.0,
                "app",
            ]
        )
    analysis = run(store, data, tmp_path)
    flags = {(analysis.accounts.ids[f.account], f.clause): f for f in analysis.flags}
    assert ("BOT", "unauthorized_bot") in flags and ("APPROVED", "unauthorized_bot") not in flags
    bot = flags[("BOT", "unauthorized_bot")].evidence
    assert bot["days"][0]["via_api"] == 150 and bot["order_ids"]
    # Large orders pulled within a second, but never a fill of its own on the other side: no
    # switch, so not spoofing (bait-and-switch cases: tests/test_spoofing.py).
    assert ("SPOOF", "spoofing") not in flags
    assert {c for a, c in flags if a.startswith("U")} == set()
    assert not analysis.findings.data_gaps

    exported = store.read(
        "MATCH (:Account {account_id: 'BOT'})-[:HAS_FLAG]->(f:Flag {current: true}) RETURN f.evidence"
    ).scalar()
    assert json.loads(exported)["days"][0]["placed"] == 150


def test_limit_breach_uses_the_configured_limit_and_exempts_market_makers(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = Data()
    market(data, users=40)  # MM: 160 trades in the period, spread over days
    data.account("BUSY")
    for j in range(30):
        data.trade("BUSY", "MM", (T0 // 86_400_000 + 3) * 86_400_000 + j * 60_000, 0.5)
    cfg = AnalysisConfig.model_validate({"behaviour": {"trade_limits": {"spot": 20}}})
    analysis = run(store, data, tmp_path, cfg)
    breaches = {
        analysis.accounts.ids[f.account] for f in analysis.flags if f.clause == "limit_breach"
    }
    assert "BUSY" in breaches and "MM" not in breaches
    day = next(f for f in analysis.flags if f.clause == "limit_breach").evidence["days"][0]
    assert (day["trades"], day["limit"]) == (30, 20)
    assert analysis.findings.data_gaps == [
        "no orders data: spoofing and unauthorized-bot detection not assessed"
    ]


def test_a_ring_that_changes_symbol_every_cycle_is_found(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    """No pair trades one symbol twice, yet the same pairs keep meeting: a repeated relation."""
    data = Data()
    market(data)
    for aid in ("Q1", "Q2", "Q3"):
        data.account(aid)
    for k in range(6):
        ts, symbol = T0 + k * 7 * HOUR, f"SYM{k}_USDT"
        data.trade("Q1", "Q2", ts, 2.0, symbol)
        data.trade("Q2", "Q3", ts + 1_000, 2.0, symbol)
        data.trade("Q3", "Q1", ts + 2_000, 2.0, symbol)
    analysis = run(store, data, tmp_path)
    ring = group_of(analysis, "Q1")
    assert ring is not None and named(analysis, ring.members) == {"Q1", "Q2", "Q3"}
    assert ring.verdict == "violation" and "wash_trading" in ring.clauses
    assert sum(w["cycle_completions"] for w in ring.evidence["wash"]) == 6


def test_a_wash_set_whose_cycles_never_close_in_the_window_still_cites_its_trades(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    """Issue 14: a suspected wash set with 4 trades reported ``trade_ids: []`` (its cycles were
    found but none completed within ``cycle_window_s``, and only completions were cited)."""
    data = Data()
    market(data)
    for aid in ("S1", "S2"):
        data.account(aid)
        data.logins.append([aid, T0 + 30_000, "198.51.100.40", "dev-shared", "ua", "app"])
    for k in range(4):  # back and forth, five hours apart: a cycle, never closed within 1 h
        seller, buyer = ("S1", "S2") if k % 2 == 0 else ("S2", "S1")
        data.trade(seller, buyer, T0 + k * 5 * HOUR, 3.0, "ETH_USDT")
    analysis = run(store, data, tmp_path)

    group = group_of(analysis, "S1")
    assert group is not None and "wash_trading" in group.clauses
    wash = group.evidence["wash"][0]
    assert wash["trades"] == 4 and wash["cycle_completions"] == 0
    assert wash["cited"] == "set_trades"
    stored = json.loads(
        store.read(
            "MATCH (g:Group {current: true, group_id: $g}) RETURN g.evidence", {"g": group.group_id}
        ).scalar()
    )["wash"][0]
    assert sorted(stored["trade_ids"]) == sorted(row[0] for row in data.trades[-4:])
    # The cited fills are Trade nodes in the graph, as the completed cycles' fills are.
    found = store.read(
        "UNWIND $ids AS i MATCH (:Account)-[:SOLD]->(t:Trade {trade_id: i}) RETURN count(t)",
        {"ids": stored["trade_ids"]},
    ).scalar()
    assert found == 4
