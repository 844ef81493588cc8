"""One loader per contract file: turns validated rows into batched, idempotent graph writes.

``write`` runs on the ingest's writer thread, one batch at a time and in file order, so a
batch's duplicate check always sees every earlier batch committed.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from graph import statements as st
from graph.backend import GraphBackend, PreparedQuery, QueryResult
from ingest.contract import ORDERS
from ingest.seen import SeenFilter

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
PAIR_CHUNK = 20_000
# Pair totals held in memory before they are added to the store (~350 bytes each).
PAIR_FLUSH_AT = 500_000
REBUILD_CHUNK = 200_000


@dataclass
class WriteCounts:
    ingested: int = 0
    duplicate: int = 0

    def add(self, ingested: int, duplicate: int) -> None:
        self.ingested += ingested
        self.duplicate += duplicate


Send = Callable[[PreparedQuery], "Future[QueryResult]"]


class Loader:
    """Base. Per batch: ``prepare`` (ingest thread, pure Python), ``write`` (writer thread, the
    store), ``after`` (ingest thread, with what ``write`` returned); ``finish`` after the last.
    """

    def __init__(self, store: GraphBackend, run_id: str, account_nodes: dict[str, int]) -> None:
        self.store = store
        self.run_id = run_id
        self.nodes = account_nodes
        self.counts = WriteCounts()

    def prepare(self, rows: list[dict[str, Any]]) -> Any:
        return rows

    def write(self, rows: Any) -> Any:
        raise NotImplementedError

    def after(self, written: Any) -> None:
        """Bookkeeping on the ingest thread once a batch is committed."""

    def finish(self, send: Send) -> None:
        """Flush anything aggregated across batches (the writer is idle; ``send`` queues on it)."""


class AccountLoader(Loader):
    def write(self, rows: list[dict[str, Any]]) -> None:
        known = sum(1 for r in rows if r["account_id"] in self.nodes)
        names = [c for c in rows[0] if c != "k"]
        result = self.store.run(st.UPSERT_ACCOUNTS, st.columns(rows, names))
        for account_id, node_id in result.rows:
            self.nodes[account_id] = int(node_id)
        self.counts.add(len(rows) - known, known)


def _times_by(rows: Iterable[dict[str, Any]], field_name: str) -> dict[tuple[str, str], set[int]]:
    grouped: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row in rows:
        if row.get(field_name) is not None:
            grouped[(row["account_id"], row[field_name])].add(row["ts"])
    return grouped


class LoginLoader(Loader):
    def write(self, rows: list[dict[str, Any]]) -> None:
        ips = _times_by(rows, "ip")
        ip_rows = [
            {
                "node": self.nodes[acc],
                "ip": ip,
                "version": 6 if ":" in ip else 4,
                "times": sorted(times),
            }
            for (acc, ip), times in sorted(ips.items())
        ]
        added = int(
            self.store.run(
                st.MERGE_LOGIN_IPS, st.columns(ip_rows, ["node", "ip", "version", "times"])
            ).scalar()
            or 0
        )
        devices = _times_by(rows, "device_id")
        if devices:
            dev_rows = [
                {"node": self.nodes[acc], "device_id": dev, "times": sorted(times)}
                for (acc, dev), times in sorted(devices.items())
            ]
            self.store.run(
                st.MERGE_LOGIN_DEVICES, st.columns(dev_rows, ["node", "device_id", "times"])
            )
        # A login event is new when its (account, ip, ts) was not stored before.
        self.counts.add(added, len(rows) - added)


class FundingLoader(Loader):
    COLS = ("node", "source_key", "method", "ref", "event_id", "ts", "asset", "amount")

    def write(self, rows: list[dict[str, Any]]) -> None:
        deposits: list[dict[str, Any]] = []
        withdrawals: list[dict[str, Any]] = []
        transfers: list[dict[str, Any]] = []
        for row in rows:
            row = dict(row, node=self.nodes[row["account_id"]])
            other = self.nodes.get(row["counterparty_ref"]) if row["method"] == "internal" else None
            if other is not None:
                outgoing = row["direction"] == "withdrawal"
                row["from_node"] = row["node"] if outgoing else other
                row["to_node"] = other if outgoing else row["node"]
                transfers.append(row)
                continue
            row["source_key"] = f"{row['method']}:{row['counterparty_ref']}"
            row["ref"] = row["counterparty_ref"]
            (deposits if row["direction"] == "deposit" else withdrawals).append(row)
        added = 0
        for statement, part, cols in (
            (st.MERGE_DEPOSITS, deposits, self.COLS),
            (st.MERGE_WITHDRAWALS, withdrawals, self.COLS),
            (
                st.MERGE_TRANSFERS,
                transfers,
                (
                    "from_node",
                    "to_node",
                    "event_id",
                    "ts",
                    "asset",
                    "amount",
                    "method",
                    "account_id",
                    "direction",
                ),
            ),
        ):
            if part:
                params = st.columns(part, cols)
                params["run_id"] = self.run_id
                added += int(self.store.run(statement, params).scalar() or 0)
        self.counts.add(added, len(rows) - added)


PAIR_FIELDS = ("trades", "qty", "quote", "first_ts", "last_ts")


def _done(result: QueryResult) -> Future[QueryResult]:
    future: Future[QueryResult] = Future()
    future.set_result(result)
    return future


@dataclass
class _TradeJob:
    rows: list[dict[str, Any]]
    to_check: list[str]
    prepared: PreparedQuery


class TradeLoader(Loader):
    """Trades become Trade nodes; their (seller, buyer, symbol) totals go to TRADES_WITH.

    The totals are added once per newly created trade. If an earlier ingest died between
    creating trades and adding their totals, the state node is still ``dirty`` and the totals
    are rebuilt from the Trade nodes instead.
    """

    COLS = (
        "trade_id",
        "ts",
        "symbol",
        "price",
        "qty",
        "market",
        "taker_side",
        "buy_order_id",
        "sell_order_id",
        "seller",
        "buyer",
    )

    def __init__(self, store: GraphBackend, run_id: str, account_nodes: dict[str, int]) -> None:
        super().__init__(store, run_id, account_nodes)
        state = store.run(st.GET_STATE, {"key": "trade_pairs"}).scalar()
        self.rebuild = bool(state)
        # (seller node, buyer node, symbol) -> [trades, qty, quote, first_ts, last_ts]
        self.pairs: dict[tuple[int, int, str], list[Any]] = {}
        self._marked = False
        # Into a store with no trades, only ids seen earlier in this run can already exist.
        self.seen = SeenFilter() if not store.run(st.ANY_TRADE).rows else None
        self.pairs_are_new = self.seen is not None and not store.run(st.ANY_TRADE_PAIR).rows

    def prepare(self, rows: list[dict[str, Any]]) -> _TradeJob:
        ids = [r["trade_id"] for r in rows]
        to_check = ids
        if self.seen is not None:
            maybe = self.seen.check_and_add(ids)
            to_check = [i for i, m in zip(ids, maybe.tolist(), strict=True) if m]
        nodes = self.nodes
        for r in rows:
            r["seller"] = nodes[r["seller_id"]]
            r["buyer"] = nodes[r["buyer_id"]]
        return _TradeJob(
            rows, to_check, self.store.prepare(st.CREATE_TRADES, st.columns(rows, self.COLS))
        )

    def write(self, job: _TradeJob) -> list[dict[str, Any]]:
        rows, prepared = job.rows, job.prepared
        if job.to_check:
            existing = {
                r[0] for r in self.store.run(st.EXISTING_TRADES, {"ids": job.to_check}).rows
            }
            if existing:
                rows = [r for r in rows if r["trade_id"] not in existing]
                prepared = self.store.prepare(st.CREATE_TRADES, st.columns(rows, self.COLS))
        if rows:
            if not self._marked:
                self.store.run(
                    st.SET_STATE, {"key": "trade_pairs", "dirty": True, "run_id": self.run_id}
                )
                self._marked = True
            self.store.execute(prepared)
        self.counts.add(len(rows), len(job.rows) - len(rows))
        return rows

    def after(self, written: list[dict[str, Any]]) -> None:
        if not self.rebuild:
            self._accumulate(written)
            if len(self.pairs) >= PAIR_FLUSH_AT:
                self._flush_pairs(lambda prepared: _done(self.store.execute(prepared)))

    def _accumulate(self, rows: list[dict[str, Any]]) -> None:
        pairs = self.pairs
        for r in rows:
            key = (r["seller"], r["buyer"], r["symbol"])
            qty, ts = r["qty"], r["ts"]
            pair = pairs.get(key)
            if pair is None:
                pairs[key] = [1, qty, qty * r["price"], ts, ts]
                continue
            pair[0] += 1
            pair[1] += qty
            pair[2] += qty * r["price"]
            if ts < pair[3]:
                pair[3] = ts
            if ts > pair[4]:
                pair[4] = ts

    def finish(self, send: Send) -> None:
        if self.rebuild:
            self._rebuild_pairs()
        else:
            self._flush_pairs(send)
        if self._marked or self.rebuild:
            self.store.run(
                st.SET_STATE, {"key": "trade_pairs", "dirty": False, "run_id": self.run_id}
            )

    def _flush_pairs(self, send: Send) -> None:
        """Add the totals gathered so far to TRADES_WITH and forget them (bounds memory)."""
        # Before any flush of a run into a store without pairs, every pair is new: CREATE, which
        # FalkorDB runs ~1.6x faster than MERGE. Later flushes may meet their own pairs: MERGE.
        statement = st.CREATE_TRADE_PAIRS if self.pairs_are_new else st.ADD_TRADE_PAIRS
        self.pairs_are_new = False
        items = list(self.pairs.items())
        self.pairs = {}
        pending: Future[QueryResult] | None = None
        for start in range(0, len(items), PAIR_CHUNK):
            chunk = items[start : start + PAIR_CHUNK]
            params: dict[str, Any] = {
                "seller": [key[0] for key, _ in chunk],
                "buyer": [key[1] for key, _ in chunk],
                "symbol": [key[2] for key, _ in chunk],
                "k": list(range(len(chunk))),
            }
            for position, name in enumerate(PAIR_FIELDS):
                params[name] = [totals[position] for _, totals in chunk]
            prepared = self.store.prepare(statement, params)
            if pending is not None:
                pending.result()
            pending = send(prepared)
        if pending is not None:
            pending.result()

    def _rebuild_pairs(self) -> None:
        log.warning("an earlier ingest was interrupted: rebuilding counterparty totals from trades")
        while int(self.store.run(st.DELETE_TRADE_PAIRS, {"limit": REBUILD_CHUNK}).scalar() or 0):
            pass
        self.store.run(st.REBUILD_TRADE_PAIRS)


@dataclass
class _OrderDay:
    placed: int = 0
    cancelled: int = 0
    filled: int = 0
    partially_filled: int = 0
    rejected: int = 0
    open: int = 0
    via_api: int = 0
    buys: int = 0
    qty_placed: float = 0.0
    qty_cancelled: float = 0.0
    qty_filled: float = 0.0
    notional_placed: float = 0.0
    max_qty: float = 0.0
    cancelled_within_1s: int = 0
    cancelled_within_10s: int = 0
    cancel_lifetime_ms_sum: int = 0
    placed_times: list[int] = field(default_factory=list)
    samples: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)


# What an evidence Order node keeps: every contract column but the ids it is keyed and linked by.
ORDER_EVIDENCE_FIELDS = tuple(
    c.name for c in ORDERS.columns if c.name not in ("order_id", "account_id")
)


class OrderLoader(Loader):
    """Orders are aggregated per (account, symbol, UTC day) into ORDERS_ON statistics.

    A day's figures are replaced by the latest file that carries that day, so re-ingest is
    exact. Raw Order nodes are kept only as evidence: per (account, symbol, day) the largest
    and the fastest-cancelled orders, and orders sent through the API channel.
    """

    SAMPLES_PER_DAY = 20
    TIMES_PER_DAY = 5_000  # enough to measure timing regularity; bounds memory per key

    def __init__(self, store: GraphBackend, run_id: str, account_nodes: dict[str, int]) -> None:
        super().__init__(store, run_id, account_nodes)
        self.days: dict[tuple[str, str, int], _OrderDay] = {}
        self.order_hashes: set[int] = set()  # duplicate orders within this run

    def write(self, rows: list[dict[str, Any]]) -> None:
        new = 0
        for r in rows:
            id_hash = hash(r["order_id"])
            if id_hash in self.order_hashes:
                continue
            self.order_hashes.add(id_hash)
            new += 1
            self._add(r)
        # Orders count as new or duplicate once their days are compared with the store (finish).
        self.counts.add(0, len(rows) - new)

    def _add(self, r: dict[str, Any]) -> None:
        key = (r["account_id"], r["symbol"], r["placed_at"] // DAY_MS)
        day = self.days.get(key)
        if day is None:
            day = self.days[key] = _OrderDay()
        status = r["final_status"]
        day.placed += 1
        setattr(day, status, getattr(day, status) + 1)
        day.via_api += r["channel"] == "api"
        day.buys += r["side"] == "buy"
        day.qty_placed += r["qty"]
        day.qty_filled += r["filled_qty"]
        day.notional_placed += r["qty"] * (r["price"] or 0.0)
        day.max_qty = max(day.max_qty, r["qty"])
        lifetime = None
        if r["ended_at"] is not None:
            lifetime = r["ended_at"] - r["placed_at"]
        if status == "cancelled":
            day.qty_cancelled += r["qty"] - r["filled_qty"]
            if lifetime is not None:
                day.cancel_lifetime_ms_sum += lifetime
                day.cancelled_within_1s += lifetime <= 1_000
                day.cancelled_within_10s += lifetime <= 10_000
        if len(day.placed_times) < self.TIMES_PER_DAY:
            day.placed_times.append(r["placed_at"])
        # Evidence ranking: large cancelled orders first, then quick cancels, then API orders.
        rank = 0.0
        if status == "cancelled":
            rank = r["qty"] + (1e12 if lifetime is not None and lifetime <= 1_000 else 0.0)
        elif r["channel"] == "api":
            rank = 1.0
        if rank > 0:
            props = {k: r[k] for k in ORDER_EVIDENCE_FIELDS}
            item = (rank, r["order_id"], props)
            if len(day.samples) < self.SAMPLES_PER_DAY:
                heapq.heappush(day.samples, item)
            elif item > day.samples[0]:
                heapq.heapreplace(day.samples, item)

    def finish(self, send: Send) -> None:
        day_rows: list[dict[str, Any]] = []
        order_rows: list[dict[str, Any]] = []
        for (account_id, symbol, day_no), day in sorted(self.days.items()):
            node = self.nodes[account_id]
            stats = _day_stats(day)
            digest = hashlib.sha1(json.dumps(stats, sort_keys=True).encode()).hexdigest()
            day_rows.append(
                {
                    "node": node,
                    "symbol": symbol,
                    "day": day_no,
                    "stats": stats,
                    "digest": digest,
                    "placed": day.placed,
                }
            )
            order_rows.extend(
                {"node": node, "order_id": order_id, "props": dict(props, account_id=account_id)}
                for _, order_id, props in sorted(day.samples, key=lambda s: s[1])
            )
        changed = 0
        for start in range(0, len(day_rows), PAIR_CHUNK):
            chunk = day_rows[start : start + PAIR_CHUNK]
            params = st.columns(chunk, ["node", "symbol", "day", "stats", "digest", "placed"])
            changed += int(self.store.run(st.MERGE_ORDER_DAYS, params).scalar() or 0)
        total = sum(row["placed"] for row in day_rows)
        self.counts.add(changed, total - changed)
        for start in range(0, len(order_rows), PAIR_CHUNK):
            self.store.run(
                st.MERGE_ORDERS,
                st.columns(order_rows[start : start + PAIR_CHUNK], ["node", "order_id", "props"]),
            )


def _day_stats(day: _OrderDay) -> dict[str, Any]:
    stats = {k: v for k, v in vars(day).items() if k not in ("placed_times", "samples")}
    times = sorted(day.placed_times)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    if len(gaps) >= 2:
        mean = sum(gaps) / len(gaps)
        var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
        stats["gap_mean_ms"] = mean
        stats["gap_cv"] = (var**0.5) / mean if mean > 0 else 0.0
        median = float(sorted(gaps)[len(gaps) // 2])
        stats["gap_median_ms"] = median
        # Robust to the odd far-apart order (a human order hours before a bot's run on the same
        # day would blow the coefficient of variation up): median absolute deviation of gaps.
        stats["gap_mad_ms"] = float(sorted(abs(g - median) for g in gaps)[len(gaps) // 2])
    stats["first_placed_at"] = times[0] if times else None
    stats["last_placed_at"] = times[-1] if times else None
    return stats


class EnforcementLoader(Loader):
    def write(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            r["node"] = self.nodes[r["account_id"]]
            r["key"] = f"{r['account_id']}|{r['ts']}|{r['action']}"
        params = st.columns(
            rows, ["node", "key", "account_id", "ts", "action", "clause", "case_id"]
        )
        params["run_id"] = self.run_id
        added = int(self.store.run(st.MERGE_ENFORCEMENT, params).scalar() or 0)
        self.counts.add(added, len(rows) - added)


LOADERS: dict[str, type[Loader]] = {
    "accounts": AccountLoader,
    "logins": LoginLoader,
    "funding": FundingLoader,
    "trades": TradeLoader,
    "orders": OrderLoader,
    "enforcement_history": EnforcementLoader,
}
