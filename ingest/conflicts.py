"""Conflicting duplicates: the same natural key with different content.

A row whose key was seen before with the same content is a duplicate (re-ingest changes
nothing); with different content it is a conflict, quarantined rather than silently dropped or
written over the first. Within a file the rows seen so far are remembered as fingerprints;
against the store, the stored content of keys not seen in this file is read back.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from graph import statements as st
from graph.backend import GraphBackend
from ingest.contract import ACCOUNTS, TRADES, FileSpec

# Files keyed by one id column: the ones where a conflict is a real contradiction (two trades
# with one trade_id). Logins and enforcement actions are keyed by most of what they hold.
LEDGER_FILES = ("accounts", "funding", "trades", "orders")


def content_of(spec: FileSpec) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's values other than its key, in contract order: what two duplicates must share."""
    names = [c.name for c in spec.columns if c.name not in spec.key]
    get = operator.itemgetter(*names)
    return get if len(names) > 1 else lambda row: (get(row),)


def content(spec: FileSpec, row: dict[str, Any]) -> tuple[Any, ...]:
    return content_of(spec)(row)


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
    """The rows of one file seen so far, as sorted arrays of (key hash, content hash, line).

    24 bytes a row (a dict of Python ints took ~170): 60 MB for the 2.5M trades of the M
    benchmark. Each batch is looked up with one ``searchsorted`` and merged in with one insert.
    """

    def __init__(self, spec: FileSpec) -> None:
        self.spec = spec
        self.key = spec.key[0]
        self.content = content_of(spec)
        self.keys = np.empty(0, dtype=np.int64)
        self.fingerprints = np.empty(0, dtype=np.int64)
        self.lines = np.empty(0, dtype=np.int64)

    def check(self, rows: list[dict[str, Any]], lines: list[int]) -> list[int | None]:
        """Per row: None if its key is new to this file (it is then remembered), else the line
        of the first row with that key, negated when that row's content differs (a conflict)."""
        n = len(rows)
        if n == 0:
            return []
        key = self.key
        key_hashes = np.fromiter((hash(r[key]) for r in rows), dtype=np.int64, count=n)
        prints = list(map(hash, map(self.content, rows)))
        at = np.searchsorted(self.keys, key_hashes)
        found = np.zeros(n, dtype=bool)
        if len(self.keys):
            inside = at < len(self.keys)
            found[inside] = self.keys[at[inside]] == key_hashes[inside]
        known_print = np.zeros(n, dtype=np.int64)
        known_line = np.zeros(n, dtype=np.int64)
        known_print[found] = self.fingerprints[at[found]]
        known_line[found] = self.lines[at[found]]
        batch: dict[int, tuple[int, int]] = {}
        result: list[int | None] = []
        for kh, fp, line, hit, old_fp, old_line in zip(
            key_hashes.tolist(),
            prints,
            lines,
            found.tolist(),
            known_print.tolist(),
            known_line.tolist(),
            strict=True,
        ):
            if not hit:
                earlier = batch.get(kh)
                if earlier is None:
                    batch[kh] = (fp, line)
                    result.append(None)
                    continue
                old_fp, old_line = earlier
            result.append(old_line if old_fp == fp else -old_line)
        self._add(batch)
        return result

    def _add(self, batch: dict[int, tuple[int, int]]) -> None:
        if not batch:
            return
        keys = np.fromiter(batch.keys(), dtype=np.int64, count=len(batch))
        order = np.argsort(keys)
        values = list(batch.values())
        prints = np.fromiter((v[0] for v in values), dtype=np.int64, count=len(values))[order]
        lines = np.fromiter((v[1] for v in values), dtype=np.int64, count=len(values))[order]
        keys = keys[order]
        where = np.searchsorted(self.keys, keys)
        self.keys = np.insert(self.keys, where, keys)
        self.fingerprints = np.insert(self.fingerprints, where, prints)
        self.lines = np.insert(self.lines, where, lines)

    def forget(self, row: dict[str, Any]) -> None:
        """Drop a row found in conflict later (with the store): its copies conflict too."""
        kh = hash(row[self.key])
        at = int(np.searchsorted(self.keys, kh))
        if at < len(self.keys) and self.keys[at] == kh:
            self.keys = np.delete(self.keys, at)
            self.fingerprints = np.delete(self.fingerprints, at)
            self.lines = np.delete(self.lines, at)


# (store, rows) -> keys of rows stored before with other values.
StoredConflicts = Callable[[GraphBackend, list[dict[str, Any]]], set[str]]

_ACCOUNTS = """UNWIND $ids AS id
MATCH (a:Account {account_id: id})
RETURN a.account_id, a.created_at, a.kyc_level, a.country, a.account_type, a.api_authorized,
    a.status"""


def _account_conflicts(store: GraphBackend, rows: list[dict[str, Any]]) -> set[str]:
    found = store.run(_ACCOUNTS, {"ids": [r["account_id"] for r in rows]}).rows
    stored = {row[0]: tuple(row[1:]) for row in found}
    values = content_of(ACCOUNTS)
    return {
        r["account_id"]
        for r in rows
        if r["account_id"] in stored and not same_content(values(r), stored[r["account_id"]])
    }


# Compared on the server: reading 40k stored trades back into Python would double the CPU of
# a re-ingest. Floats compare exactly: equal input parses to the same double both times.
_TRADE_CONFLICTS = (
    st.ROWS
    + """WITH i, $trade_id[i] AS key
MATCH (t:Trade {trade_id: key})
MATCH (s)-[:SOLD]->(t)<-[:BOUGHT]-(b)
WITH i, key, t, s, b
WHERE t.ts <> $ts[i] OR t.symbol <> $symbol[i] OR t.price <> $price[i] OR t.qty <> $qty[i]
    OR b.account_id <> $buyer_id[i] OR s.account_id <> $seller_id[i]
    OR coalesce(t.taker_side, '') <> coalesce($taker_side[i], '')
    OR coalesce(t.buy_order_id, '') <> coalesce($buy_order_id[i], '')
    OR coalesce(t.sell_order_id, '') <> coalesce($sell_order_id[i], '')
    OR t.market <> $market[i]
RETURN key"""
)


def _trade_conflicts(store: GraphBackend, rows: list[dict[str, Any]]) -> set[str]:
    params = st.columns(rows, [c.name for c in TRADES.columns])
    return {row[0] for row in store.run(_TRADE_CONFLICTS, params).rows}


# Files whose stored rows can be compared by key (orders are stored as daily aggregates and
# funding events as relationships without a key index: checked within the file only).
STORED: dict[str, tuple[StoredConflicts, str]] = {
    "accounts": (_account_conflicts, "MATCH (a:Account) RETURN a.account_id LIMIT 1"),
    "trades": (_trade_conflicts, "MATCH (t:Trade) RETURN t.trade_id LIMIT 1"),
}


class StoredCheck:
    """Finds rows whose key the store already holds (from an earlier run) with other values."""

    def __init__(self, spec: FileSpec, store: GraphBackend) -> None:
        self.spec = spec
        self.store = store
        entry = STORED.get(spec.name)
        # Into a store holding none of these rows there is nothing to compare with.
        self.find = entry[0] if entry and store.run(entry[1]).rows else None

    def conflicts(self, rows: list[dict[str, Any]]) -> set[str]:
        """Keys of ``rows`` stored before with different content."""
        if self.find is None or not rows:
            return set()
        return self.find(self.store, rows)
