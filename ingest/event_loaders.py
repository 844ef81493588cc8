"""Loaders for fills and orders: rows go to the event store; the graph gets what is a graph.

Per fill, the graph keeps only the aggregated counterparty relationship ``TRADES_WITH`` (seller
-> buyer per symbol: trades, quantity, quote, first and last time) of pairs that traded at
least ``pair_min_trades`` times; orders give the derived event table ``order_days``. Both are
computed by DuckDB from the Parquet rows, never one row at a time.

A load marks its aggregate ``dirty`` before it commits rows and clean after the graph holds
their aggregates; a load that finds it dirty (an earlier one died in between) rebuilds the
aggregate from the event store, so the graph always ends equal to the events.

``commit`` works in this process (DuckDB, Parquet); the graph writes it returns run on the
ingest's writer thread, so the store's core writes one file's aggregates while this process
validates and commits the next file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from events.store import CommitResult, DaySink, EventStore, Stager
from events.tables import DAY_MS, ORDER_DAYS
from graph import statements as st
from graph.backend import GraphBackend
from ingest.order_days import SORT_KEYS, order_day_stats

log = logging.getLogger(__name__)

CHUNK = 20_000
PAIR_FIELDS = ("trades", "qty", "quote", "first_ts", "last_ts")

GraphWrites = Callable[[], None]


class EventLoader:
    """Stages valid rows per batch (``write``); ``commit`` stores them and returns the graph
    writes that follow from them."""

    table = ""
    state_key = ""
    reads_inserted = True  # ``plan`` reads the commit's ``inserted`` rows

    def __init__(
        self,
        store: GraphBackend,
        events: EventStore,
        run_id: str,
        account_nodes: dict[str, int],
        pair_min_trades: int = 2,
    ) -> None:
        self.store = store
        self.pair_min_trades = pair_min_trades
        self.events = events
        self.run_id = run_id
        self.nodes = account_nodes
        self.stager: Stager = events.stager(self.table, run_id)
        self.chunk = min(CHUNK, store.max_batch_rows or CHUNK)

    def write(self, rows: list[dict[str, Any]], lines: list[int]) -> None:
        self.stager.append_rows(rows, lines)

    def claim(self) -> bool:
        """Mark the graph's aggregate as out of step with the events until this load's writes
        are done; True when an earlier load left it so (it is then rebuilt from every event).

        Runs on the graph-writer thread when the file starts, behind the earlier files' graph
        writes, so reading the file does not wait for them; ``commit`` waits for it instead,
        as no event may land before the mark is stored."""
        rebuild = bool(self.store.run(st.GET_STATE, {"key": self.state_key}).scalar())
        self.store.run(st.SET_STATE, {"key": self.state_key, "dirty": True, "run_id": self.run_id})
        return rebuild

    def release(self) -> None:
        """Undo ``claim`` for a load abandoned before any of its events landed."""
        self.store.run(st.SET_STATE, {"key": self.state_key, "dirty": False, "run_id": self.run_id})

    def commit(self, rebuild: bool) -> tuple[CommitResult, GraphWrites]:
        """Store the staged events (``claim`` must have returned ``rebuild``)."""
        if rebuild:
            log.warning("an earlier load was interrupted: rebuilding %s from events", self.table)
        with self.events.commit(
            self.stager, self.day_written, keep_inserted=self.reads_inserted
        ) as (result, con):
            writes = self.rebuild if rebuild else self.plan(con, result)

        def apply() -> None:
            writes()
            self.store.run(
                st.SET_STATE, {"key": self.state_key, "dirty": False, "run_id": self.run_id}
            )

        return result, apply

    def abandon(self) -> None:
        self.stager.discard()

    def day_written(self, day: int) -> DaySink:
        """Where a day's whole content goes as the commit writes it: for per-day statistics."""
        return _NoSink()

    def plan(self, con: duckdb.DuckDBPyConnection, result: CommitResult) -> GraphWrites:
        """The graph writes that the newly stored rows (table ``inserted``) call for."""
        raise NotImplementedError

    def rebuild(self) -> None:
        """Recompute the graph's aggregate from every stored event."""
        raise NotImplementedError


class TradeEvents(EventLoader):
    """Pairs touched by the new fills get their totals over every stored fill (absolute, so a
    repeated write changes nothing); pairs with fewer than ``pair_min_trades`` fills stay out
    of the graph: one-off counterparties are most of a venue's pairs and say little."""

    table = "trades"
    state_key = "trade_pairs"

    def plan(self, con: duckdb.DuckDBPyConnection, result: CommitResult) -> GraphWrites:
        if not result.inserted:
            return lambda: None
        if self.events.count("trades") == result.inserted:
            # The first fills: their pairs are all the stored pairs, totalled on the writer
            # thread from the day files just written, beside the next file's reading (tens
            # of seconds at 10^7 fills) instead of before it.
            return lambda: self._write_pairs(self._all_pairs())
        source = (
            f"(SELECT f.* FROM {self.events.scan('trades')} f SEMI JOIN "
            "(SELECT DISTINCT seller_id, buyer_id, symbol FROM inserted) t "
            "USING (seller_id, buyer_id, symbol))"
        )
        pairs = con.sql(_PAIRS_SQL.format(source=source, min=self.pair_min_trades)).to_arrow_table()
        return lambda: self._write_pairs(pairs)

    def _all_pairs(self) -> pa.Table:
        source = scan = self.events.scan("trades")
        # Most pairs of a venue trade once, so a grouping of every fill by its pair makes a
        # group per fill or nearly (M: 15,135 of ~2.5M pairs trade twice). A first pass groups
        # 64-bit hashes of the pairs instead of their three strings and keeps the hashes seen
        # at least ``min`` times (a superset: hashes may collide); only their fills are totalled
        # exactly. M: 0.7 against 1.0 s. With a minimum of one it would keep every fill.
        if self.pair_min_trades > 1:
            source = (
                f"(SELECT * FROM {scan} WHERE hash(seller_id, buyer_id, symbol) IN ("
                f"SELECT hash(seller_id, buyer_id, symbol) FROM {scan} GROUP BY 1 "
                f"HAVING count(*) >= {int(self.pair_min_trades)}))"
            )
        with self.events.connection() as con:
            sql = _PAIRS_SQL.format(source=source, min=self.pair_min_trades)
            return con.sql(sql).to_arrow_table()

    def rebuild(self) -> None:
        while int(self.store.run(st.DELETE_TRADE_PAIRS, {"limit": 200_000}).scalar() or 0):
            pass
        self._write_pairs(self._all_pairs(), st.CREATE_TRADE_PAIRS)

    def _write_pairs(self, pairs: pa.Table, statement: str | None = None) -> None:
        if statement is None:  # asked here, on the writer thread, in order with its writes
            any_pair = self.store.run(st.ANY_TRADE_PAIR).rows
            statement = st.SET_TRADE_PAIRS if any_pair else st.CREATE_TRADE_PAIRS
        nodes = self.nodes
        for batch in pairs.to_batches(max_chunksize=self.chunk):
            columns = batch.to_pydict()  # one chunk at a time: Python objects stay bounded
            params: dict[str, Any] = {
                "seller": [nodes[a] for a in columns["seller_id"]],
                "buyer": [nodes[b] for b in columns["buyer_id"]],
                "symbol": columns["symbol"],
                "k": list(range(batch.num_rows)),
            }
            for name in PAIR_FIELDS:
                params[name] = columns[name]
            self.store.run(statement, params)


_PAIRS_SQL = """SELECT seller_id, buyer_id, symbol, count(*) AS trades, sum(qty) AS qty,
    sum(qty * price) AS quote, min(ts) AS first_ts, max(ts) AS last_ts
FROM {source} GROUP BY seller_id, buyer_id, symbol HAVING count(*) >= {min}
ORDER BY seller_id, buyer_id, symbol"""


class OrderEvents(EventLoader):
    """Orders stay in the event store; so do their statistics per (account, symbol, UTC day),
    the derived table ``order_days``, recomputed whole for every day a load touches.

    They are tabular and numerous (an active account has a row per symbol and day), so the
    graph gets them only as evidence: the analysis writes ``ORDERS_ON`` for the days it cites.
    """

    table = "orders"
    state_key = "order_days"
    # Its statistics come with each day (``day_written``); the day's staging can go as it lands.
    reads_inserted = False

    def plan(self, con: duckdb.DuckDBPyConnection, result: CommitResult) -> GraphWrites:
        return lambda: None  # each day's statistics were written with the day (day_written)

    def day_written(self, day: int) -> DaySink:
        return _OrderDayStats(self.events, day)

    def rebuild(self) -> None:
        for day in self.events.days("orders"):
            [path] = self.events.files("orders", day * DAY_MS, (day + 1) * DAY_MS)
            rows = pq.read_table(path).sort_by(SORT_KEYS)  # files of older versions were not sorted
            stats = self.day_written(day)
            stats.add(rows)
            stats.landed()


class _NoSink:
    def add(self, rows: pa.Table) -> None:
        pass

    def landed(self) -> None:
        pass


class _OrderDayStats:
    """A day's ``order_days`` rows, computed slice by slice (a slice holds whole accounts, so
    each (account, symbol) group is in one), replaced once the day has landed."""

    def __init__(self, events: EventStore, day: int) -> None:
        self.events, self.day = events, day
        self.parts: list[pa.Table] = []

    def add(self, rows: pa.Table) -> None:
        self.parts.append(order_day_stats(rows, self.day))

    def landed(self) -> None:
        stats = pa.concat_tables(self.parts) if self.parts else ORDER_DAYS.schema.empty_table()
        self.parts = []
        self.events.replace_days("order_days", stats, [self.day])


EVENT_LOADERS: dict[str, type[EventLoader]] = {"trades": TradeEvents, "orders": OrderEvents}
