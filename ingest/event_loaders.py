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

from events.store import CommitResult, EventStore, Stager
from events.tables import DAY_MS
from graph import statements as st
from graph.backend import GraphBackend

log = logging.getLogger(__name__)

CHUNK = 20_000
PAIR_FIELDS = ("trades", "qty", "quote", "first_ts", "last_ts")
DAYS_PER_PASS = 4  # order days whose statistics are computed in one DuckDB pass (bounds memory)

GraphWrites = Callable[[], None]


class EventLoader:
    """Stages valid rows per batch (``write``); ``commit`` stores them and returns the graph
    writes that follow from them."""

    table = ""
    state_key = ""

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

    def commit(self) -> tuple[CommitResult, GraphWrites]:
        rebuild = bool(self.store.run(st.GET_STATE, {"key": self.state_key}).scalar())
        if rebuild:
            log.warning("an earlier load was interrupted: rebuilding %s from events", self.table)
        self.store.run(st.SET_STATE, {"key": self.state_key, "dirty": True, "run_id": self.run_id})
        with self.events.commit(self.stager) as (result, con):
            writes = self.rebuild if rebuild else self.plan(con, result)

        def apply() -> None:
            writes()
            self.store.run(
                st.SET_STATE, {"key": self.state_key, "dirty": False, "run_id": self.run_id}
            )

        return result, apply

    def abandon(self) -> None:
        self.stager.close()
        self.stager.path.unlink(missing_ok=True)

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
        if self.events.count("trades") == result.inserted:  # the first fills: nothing to add to
            source = "inserted"
        else:
            source = (
                f"(SELECT f.* FROM {self.events.scan('trades')} f SEMI JOIN "
                "(SELECT DISTINCT seller_id, buyer_id, symbol FROM inserted) t "
                "USING (seller_id, buyer_id, symbol))"
            )
        pairs = con.sql(_PAIRS_SQL.format(source=source, min=self.pair_min_trades)).to_arrow_table()
        fresh = not self.store.run(st.ANY_TRADE_PAIR).rows
        return lambda: self._write_pairs(
            pairs, st.CREATE_TRADE_PAIRS if fresh else st.SET_TRADE_PAIRS
        )

    def rebuild(self) -> None:
        while int(self.store.run(st.DELETE_TRADE_PAIRS, {"limit": 200_000}).scalar() or 0):
            pass
        with self.events.connection() as con:
            pairs = con.sql(
                _PAIRS_SQL.format(source=self.events.scan("trades"), min=self.pair_min_trades)
            ).to_arrow_table()
        self._write_pairs(pairs, st.CREATE_TRADE_PAIRS)

    def _write_pairs(self, pairs: pa.Table, statement: str) -> None:
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

    def plan(self, con: duckdb.DuckDBPyConnection, result: CommitResult) -> GraphWrites:
        self.derive(list(result.days))
        return lambda: None

    def rebuild(self) -> None:
        self.derive(self.events.days("orders"))

    def derive(self, days: list[int]) -> None:
        for start in range(0, len(days), DAYS_PER_PASS):
            part = days[start : start + DAYS_PER_PASS]
            scan = self.events.scan("orders", min(part) * DAY_MS, (max(part) + 1) * DAY_MS)
            day_list = ", ".join(str(int(d)) for d in part)
            with self.events.connection() as con:
                stats = con.sql(
                    order_day_sql(
                        f"(SELECT * FROM {scan} WHERE placed_at // {DAY_MS} IN ({day_list}))"
                    )
                ).to_arrow_table()
            self.events.replace_days("order_days", stats, part)


def order_day_sql(source: str) -> str:
    """Statistics per (account, symbol, UTC day) of the orders in ``source``.

    Gap statistics (time between consecutive orders) are measured where a day has at least
    three orders: mean, coefficient of variation, median and median absolute deviation (robust
    to a stray human order among a bot's).
    """
    return f"""
WITH o AS (
    SELECT *, placed_at // {DAY_MS} AS day, ended_at - placed_at AS life,
        final_status = 'cancelled' AS is_cancel,
        placed_at - lag(placed_at) OVER (
            PARTITION BY account_id, symbol, placed_at // {DAY_MS} ORDER BY placed_at, order_id
        ) AS gap
    FROM {source}
),
med AS (
    SELECT account_id, symbol, day, quantile_disc(gap, 0.5) AS gap_median
    FROM o WHERE gap IS NOT NULL GROUP BY ALL
)
SELECT o.account_id, o.symbol, o.day,
    count(*) AS placed,
    count(*) FILTER (WHERE is_cancel) AS cancelled,
    count(*) FILTER (WHERE final_status = 'filled') AS filled,
    count(*) FILTER (WHERE final_status = 'partially_filled') AS partially_filled,
    count(*) FILTER (WHERE final_status = 'rejected') AS rejected,
    count(*) FILTER (WHERE final_status = 'open') AS open,
    count(*) FILTER (WHERE channel = 'api') AS via_api,
    count(*) FILTER (WHERE side = 'buy') AS buys,
    sum(qty) AS qty_placed,
    coalesce(sum(qty - filled_qty) FILTER (WHERE is_cancel), 0.0) AS qty_cancelled,
    sum(filled_qty) AS qty_filled,
    sum(qty * coalesce(price, 0.0)) AS notional_placed,
    max(qty) AS max_qty,
    count(*) FILTER (WHERE is_cancel AND life <= 1000) AS cancelled_within_1s,
    count(*) FILTER (WHERE is_cancel AND life <= 10000) AS cancelled_within_10s,
    coalesce(sum(life) FILTER (WHERE is_cancel), 0)::BIGINT AS cancel_lifetime_ms_sum,
    CASE WHEN count(gap) >= 2 THEN avg(gap) END AS gap_mean_ms,
    CASE WHEN count(gap) >= 2 AND avg(gap) > 0 THEN stddev_pop(gap) / avg(gap)
         WHEN count(gap) >= 2 THEN 0.0 END AS gap_cv,
    CASE WHEN count(gap) >= 2 THEN any_value(m.gap_median)::DOUBLE END AS gap_median_ms,
    CASE WHEN count(gap) >= 2 THEN quantile_disc(abs(gap - m.gap_median), 0.5)::DOUBLE END
        AS gap_mad_ms,
    min(placed_at) AS first_placed_at,
    max(placed_at) AS last_placed_at
FROM o LEFT JOIN med m USING (account_id, symbol, day)
GROUP BY o.account_id, o.symbol, o.day
ORDER BY o.account_id, o.symbol, o.day"""


EVENT_LOADERS: dict[str, type[EventLoader]] = {"trades": TradeEvents, "orders": OrderEvents}
