"""The event-store questions the API and the CLI ask: an account's fills and orders, paged,
and the fills among a set of accounts (a group's timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from events.store import EventStore


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_after: tuple[int, str] | None  # (time, key) of the last row when more follow


def trades_among(events: EventStore, accounts: list[str], limit: int) -> list[dict[str, Any]]:
    """Fills whose seller and buyer are both in ``accounts``, oldest first."""
    with events.connection() as con:
        con.register("members", pa.table({"a": pa.array(accounts, type=pa.string())}))
        table: pa.Table = con.sql(
            f"SELECT * FROM {events.scan('trades')} "
            "WHERE seller_id IN (SELECT a FROM members) AND buyer_id IN (SELECT a FROM members) "
            f"ORDER BY ts, trade_id LIMIT {int(limit)}"
        ).to_arrow_table()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def quote_assets(events: EventStore) -> list[str]:
    """The quote assets of the traded symbols (``BASE_QUOTE`` in the data contract)."""
    with events.connection() as con:
        rows = con.sql(f"SELECT DISTINCT symbol FROM {events.scan('trades')}").fetchall()
    return sorted({str(s).rpartition("_")[2] for (s,) in rows if s and "_" in str(s)})


def account_trades(
    events: EventStore,
    account_id: str,
    *,
    counterparty: str | None = None,
    symbol: str | None = None,
    since: int | None = None,
    until: int | None = None,
    after: tuple[int, str] | None = None,
    limit: int = 100,
) -> Page:
    """An account's fills (either side), by (ts, trade_id), from ``after`` on."""
    where = ["(seller_id = $acc OR buyer_id = $acc)"]
    params: dict[str, Any] = {"acc": account_id}
    if counterparty is not None:
        where.append("(seller_id = $other OR buyer_id = $other)")
        params["other"] = counterparty
    return _page(
        events, "trades", "ts", "trade_id", where, params, symbol, since, until, after, limit
    )


def account_orders(
    events: EventStore,
    account_id: str,
    *,
    symbol: str | None = None,
    status: str | None = None,
    since: int | None = None,
    until: int | None = None,
    after: tuple[int, str] | None = None,
    limit: int = 100,
) -> Page:
    """An account's orders by (placed_at, order_id), from ``after`` on."""
    where = ["account_id = $acc"]
    params: dict[str, Any] = {"acc": account_id}
    if status is not None:
        where.append("final_status = $status")
        params["status"] = status
    return _page(
        events, "orders", "placed_at", "order_id", where, params, symbol, since, until, after, limit
    )


def _page(
    events: EventStore,
    table: str,
    time: str,
    key: str,
    where: list[str],
    params: dict[str, Any],
    symbol: str | None,
    since: int | None,
    until: int | None,
    after: tuple[int, str] | None,
    limit: int,
) -> Page:
    if symbol is not None:
        where.append("symbol = $symbol")
        params["symbol"] = symbol
    if after is not None:
        where.append(f"({time} > $after_t OR ({time} = $after_t AND {key} > $after_k))")
        params["after_t"], params["after_k"] = after
        since = after[0] if since is None else max(since, after[0])
    sql = (
        f"SELECT * FROM {events.scan(table, since, until)} WHERE {' AND '.join(where)} "
        f"ORDER BY {time}, {key} LIMIT {int(limit) + 1}"
    )
    with events.connection() as con:
        found: pa.Table = con.sql(sql, params=params).to_arrow_table()
    rows = found.to_pylist()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, (int(rows[-1][time]), str(rows[-1][key])) if more and rows else None)
