"""Conflicting duplicates: the same natural key with different content.

A row whose key was seen before with the same content is a duplicate (re-ingest changes
nothing); with different content it is a conflict, quarantined rather than silently dropped or
written over the first. Within a file the rows seen so far are remembered as fingerprints;
against the store, the stored content of keys not seen in this file is read back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from graph.backend import GraphBackend
from ingest.contract import FileSpec

_MASK = (1 << 64) - 1

# Files keyed by one id column: the ones where a conflict is a real contradiction (two trades
# with one trade_id). Logins and enforcement actions are keyed by most of what they hold.
LEDGER_FILES = ("accounts", "funding", "trades", "orders")


def content(spec: FileSpec, row: dict[str, Any]) -> tuple[Any, ...]:
    """A row's values other than its key, in contract order: what two duplicates must share."""
    return tuple(row[c.name] for c in spec.columns if c.name not in spec.key)


def same_content(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """Equal, with floats equal to 12 significant digits (the store may print fewer)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, float) and isinstance(y, int | float) and not isinstance(y, bool):
            if not math.isclose(x, y, rel_tol=1e-12):
                return False
        elif x != y:
            return False
    return True


class KeyLedger:
    """Fingerprints of one file's rows by key: ~110 bytes a row, a hash pair and a line."""

    def __init__(self, spec: FileSpec) -> None:
        self.spec = spec
        self.key = spec.key[0]
        self.seen: dict[int, int] = {}

    def check(self, row: dict[str, Any], line: int) -> int | None:
        """None for a key not seen in this file (now remembered); else the earlier row's line,
        negated when that row had different content (a conflict)."""
        key_hash = hash(row[self.key])
        fingerprint = hash(content(self.spec, row)) & _MASK
        earlier = self.seen.get(key_hash)
        if earlier is None:
            self.seen[key_hash] = (line << 64) | fingerprint
            return None
        earlier_line = earlier >> 64
        return earlier_line if earlier & _MASK == fingerprint else -earlier_line

    def forget(self, row: dict[str, Any]) -> None:
        """Drop a row found in conflict later (with the store): its copies conflict too."""
        self.seen.pop(hash(row[self.key]), None)


StoredLookup = Callable[[GraphBackend, list[str]], dict[str, tuple[Any, ...]]]

_ACCOUNTS = """UNWIND $ids AS id
MATCH (a:Account {account_id: id})
RETURN a.account_id, a.created_at, a.kyc_level, a.country, a.account_type, a.api_authorized,
    a.status"""

_TRADES = """UNWIND $ids AS id
MATCH (t:Trade {trade_id: id})
MATCH (s)-[:SOLD]->(t)<-[:BOUGHT]-(b)
RETURN t.trade_id, t.ts, t.symbol, t.price, t.qty, b.account_id, s.account_id, t.taker_side,
    t.buy_order_id, t.sell_order_id, t.market"""


def _lookup(statement: str) -> StoredLookup:
    def lookup(store: GraphBackend, ids: list[str]) -> dict[str, tuple[Any, ...]]:
        return {row[0]: tuple(row[1:]) for row in store.run(statement, {"ids": ids}).rows}

    return lookup


# Files whose stored rows can be read back by key (orders are stored as daily aggregates and
# funding events as relationships without a key index: checked within the file only).
STORED: dict[str, tuple[StoredLookup, str]] = {
    "accounts": (_lookup(_ACCOUNTS), "MATCH (a:Account) RETURN a.account_id LIMIT 1"),
    "trades": (_lookup(_TRADES), "MATCH (t:Trade) RETURN t.trade_id LIMIT 1"),
}


class StoredCheck:
    """Compares rows whose key the store already holds (from an earlier run) with that row."""

    def __init__(self, spec: FileSpec, store: GraphBackend) -> None:
        self.spec = spec
        self.store = store
        entry = STORED.get(spec.name)
        # Into a store holding none of these rows there is nothing to compare with.
        self.lookup = entry[0] if entry and store.run(entry[1]).rows else None

    def conflicts(self, rows: list[dict[str, Any]]) -> set[str]:
        """Keys of ``rows`` stored before with different content."""
        if self.lookup is None or not rows:
            return set()
        key = self.spec.key[0]
        stored = self.lookup(self.store, [r[key] for r in rows])
        return {
            r[key]
            for r in rows
            if r[key] in stored and not same_content(content(self.spec, r), stored[r[key]])
        }
