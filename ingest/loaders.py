"""One loader per contract file: turns validated rows into batched, idempotent graph writes.

``write`` runs on the ingest's writer thread, one batch at a time and in file order, so a
batch's duplicate check always sees every earlier batch committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph import statements as st
from graph.backend import GraphBackend, QueryResult

log = logging.getLogger(__name__)


@dataclass
class WriteCounts:
    ingested: int = 0
    duplicate: int = 0

    def add(self, ingested: int, duplicate: int) -> None:
        self.ingested += ingested
        self.duplicate += duplicate


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

    def finish(self) -> Callable[[], None] | None:
        """Writes of what was gathered across batches, to run on the writer thread after the
        file's last batch (beside the next file's reading); None: nothing is left."""
        return None


class AccountLoader(Loader):
    """New accounts are created whole; a stored one reaches ``write`` only when the stored
    check found it identical (other values are quarantined), so it is not written again."""

    def write(self, rows: list[dict[str, Any]]) -> None:
        new = [r for r in rows if r["account_id"] not in self.nodes]
        if new:
            names = [c for c in new[0] if c != "k"]
            result = self.store.run(st.CREATE_ACCOUNTS, st.columns(new, names))
            for account_id, node_id in result.rows:
                self.nodes[account_id] = int(node_id)
        self.counts.add(len(new), len(rows) - len(new))


# A window of (account, identifier) pairs whose login times are gathered before they go to
# the store: first as large as one statement, then, while a fifth of a window's accounts were
# in earlier windows (a file in time order), four times larger each time up to the cap (~400
# bytes a pair in Python).
LOGIN_FIRST_WINDOW: int | None = None  # None: one statement
LOGIN_FLUSH_AT = 500_000
LOGIN_REPEATED = 0.2
# A window also ends at this many logins: a few accounts logging in all day hold few pairs.
LOGIN_ROWS_AT = 2_000_000


def login_statement_pairs(accounts: int) -> int:
    """Pairs per login statement, by the graph's size. At 1M accounts fewer, larger statements
    were faster (L's logins: 275 s in 10k-pair statements, 247 s in 50k; a fixed cost per
    statement that grows with the graph is the likely cause, inferred, not measured apart),
    while at 100k accounts 20k-pair statements left the server's heap ~14 MB larger than 10k
    (270 against 256 MB after M's logins)."""
    return max(10_000, min(50_000, accounts // 20))


Gathered = tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], list[int]], int]
# How many of a batch's rows a statement's result says are new.
NewRows = Callable[[QueryResult], int]
# Statements with their parameters and how each counts new rows, and the rows they stand for.
Prepared = tuple[list[tuple[str, dict[str, list[Any]], NewRows]], int]


def _logins_created(result: QueryResult) -> int:
    return int(result.scalar() or 0)


def _none_counted(result: QueryResult) -> int:
    return 0


def _relationships_created(result: QueryResult) -> int:
    return result.relationships_created


class PreparedLoader(Loader):
    """A loader whose ``prepare`` builds whole statements on the ingest thread, so the writer
    thread only sends them (for L's funding it spent ~34 s of Python building them)."""

    def write(self, rows: Prepared) -> None:
        statements, count = rows
        added = 0
        for statement, params, new_rows in statements:
            added += new_rows(self.store.run(statement, params))
        self.counts.add(added, count - added)


class LoginLoader(PreparedLoader):
    """Login times per (account, IP) and (account, device), gathered across batches on the
    ingest thread and written once per pair and window (on the writer thread, while the next
    batches are read; the last window while the next file is read).

    A venue's login export is in time order: a batch then holds one login of most of its
    accounts, and a write per batch merged every pair again and again (M's logins sorted by
    time loaded at 18.8k rows/s that way, now ~30k; grouped by account ~55k either way). A
    file grouped by account keeps small windows, written as they fill, beside the reading."""

    def __init__(self, store: GraphBackend, run_id: str, account_nodes: dict[str, int]) -> None:
        super().__init__(store, run_id, account_nodes)
        self._gathered: Gathered = ({}, {}, 0)
        pairs = login_statement_pairs(len(account_nodes))
        self.chunk = min(pairs, store.max_batch_rows or pairs)
        self.window = LOGIN_FIRST_WINDOW or self.chunk
        self._seen: set[str] = set()  # accounts of the windows written so far

    def prepare(self, rows: list[dict[str, Any]]) -> Prepared | None:
        ips, devices, count = self._gathered
        for row in rows:
            account, ts = row["account_id"], row["ts"]
            if (ip := row.get("ip")) is not None:
                ips.setdefault((account, ip), []).append(ts)
            if (device := row.get("device_id")) is not None:
                devices.setdefault((account, device), []).append(ts)
        self._gathered = (ips, devices, count + len(rows))
        if len(ips) + len(devices) < self.window and count + len(rows) < LOGIN_ROWS_AT:
            return None
        accounts = {a for a, _ in ips} | {a for a, _ in devices}
        if len(accounts & self._seen) > LOGIN_REPEATED * len(accounts):
            self.window = min(4 * self.window, LOGIN_FLUSH_AT)
        self._seen |= accounts
        self._gathered = ({}, {}, 0)
        return self._statements((ips, devices, count + len(rows)))

    def finish(self) -> Callable[[], None] | None:
        gathered, self._gathered = self._gathered, ({}, {}, 0)
        if not gathered[2]:
            return None
        window = self._statements(gathered)
        return lambda: self.write(window)

    def _statements(self, gathered: Gathered) -> Prepared:
        """A window's statements with their parameters."""
        ips, devices, count = gathered
        statements: list[tuple[str, dict[str, list[Any]], NewRows]] = []
        for statement, pairs_of, column in (
            (st.MERGE_LOGIN_IPS, ips, "ip"),
            (st.MERGE_LOGIN_DEVICES, devices, "device_id"),
        ):
            pairs = sorted(pairs_of.items())
            for start in range(0, len(pairs), self.chunk):
                part = pairs[start : start + self.chunk]
                params: dict[str, list[Any]] = {
                    "node": [self.nodes[account] for (account, _), _ in part],
                    column: [key for (_, key), _ in part],
                    "times": [sorted(set(times)) for _, times in part],
                    "k": list(range(len(part))),
                }
                if column == "ip":
                    params["version"] = [6 if ":" in ip else 4 for ip in params["ip"]]
                # a login is new when its (account, ip, ts) was not stored: IP statements count
                new_rows = _logins_created if column == "ip" else _none_counted
                statements.append((statement, params, new_rows))
        return statements, count


class FundingLoader(PreparedLoader):
    """Deposits, withdrawals and internal transfers."""

    COLS = ("node", "source_key", "method", "ref", "event_id", "ts", "asset", "amount")
    TRANSFER_COLS = (
        "from_node",
        "to_node",
        "event_id",
        "ts",
        "asset",
        "amount",
        "method",
        "account_id",
        "direction",
    )

    def prepare(self, rows: list[dict[str, Any]]) -> Prepared:
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
        statements: list[tuple[str, dict[str, list[Any]], NewRows]] = [
            (statement, st.columns(part, cols), _relationships_created)
            for statement, part, cols in (
                (st.MERGE_DEPOSITS, deposits, self.COLS),
                (st.MERGE_WITHDRAWALS, withdrawals, self.COLS),
                (st.MERGE_TRANSFERS, transfers, self.TRANSFER_COLS),
            )
            if part
        ]
        return statements, len(rows)


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
