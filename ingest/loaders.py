"""One loader per contract file: turns validated rows into batched, idempotent graph writes.

``write`` runs on the ingest's writer thread, one batch at a time and in file order, so a
batch's duplicate check always sees every earlier batch committed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from graph import statements as st
from graph.backend import GraphBackend, PreparedQuery, QueryResult

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
                added += self.store.run(statement, st.columns(part, cols)).relationships_created
        self.counts.add(added, len(rows) - added)


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
    "enforcement_history": EnforcementLoader,
}
