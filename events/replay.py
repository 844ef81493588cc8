"""Order and trade replay: some accounts' orders and fills in one symbol and time range, against
the market's trades in it. Every list is capped; the totals say how much there was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.store import EventStore, in_list
from events.tables import DAY_MS

# Orders rest for a while before the range starts: those placed this long before it and
# still live when it starts are part of the picture (spoofing bait often rests minutes).
LOOKBACK_MS = DAY_MS


@dataclass(frozen=True)
class Replay:
    symbol: str
    since: int
    until: int
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    market: list[dict[str, Any]]
    totals: dict[str, int]  # rows in the range per list, before the cap

    @property
    def capped(self) -> bool:
        return any(
            self.totals[name] > len(rows)
            for name, rows in (
                ("orders", self.orders),
                ("fills", self.fills),
                ("market", self.market),
            )
        )


def busiest(events: EventStore, accounts: list[str]) -> tuple[str, int, int] | None:
    """The symbol the accounts filled most in and the UTC day of their last fill in it:
    (symbol, day start, day end) in epoch ms, or None when they have no fills."""
    if not accounts:
        return None
    who = in_list(accounts)
    with events.connection() as con:
        found = con.sql(
            f"SELECT symbol, count(*) AS n, max(ts) AS last FROM {events.scan('trades')} "
            f"WHERE seller_id IN {who} OR buyer_id IN {who} "
            "GROUP BY symbol ORDER BY n DESC, symbol LIMIT 1"
        ).fetchall()
    if not found:
        return None
    row = found[0]
    start = int(row[2]) // DAY_MS * DAY_MS
    return str(row[0]), start, start + DAY_MS


def replay(
    events: EventStore, accounts: list[str], symbol: str, since: int, until: int, cap: int
) -> Replay:
    """The accounts' orders live in [since, until) (placed before ``until``, not ended before
    ``since``; an order still open has not ended), their fills and the market's trades in the
    range, oldest first, ``cap`` each. Orders placed more than ``LOOKBACK_MS`` before ``since``
    are not looked at."""
    who = in_list(accounts)
    params = {"symbol": symbol, "since": since, "until": until}
    order_where = (
        f"account_id IN {who} AND symbol = $symbol AND placed_at < $until "
        "AND (ended_at IS NULL OR ended_at >= $since)"
    )
    fill_where = f"symbol = $symbol AND (seller_id IN {who} OR buyer_id IN {who})"
    orders_scan = events.scan("orders", since - LOOKBACK_MS, until)
    trades_scan = events.scan("trades", since, until)
    with events.connection() as con:

        def used(sql: str) -> dict[str, Any]:  # DuckDB refuses parameters a query lacks
            return {k: v for k, v in params.items() if f"${k}" in sql}

        def rows(sql: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (
                con.sql(sql, params=used(sql)).to_arrow_table().to_pylist()
            )
            return found

        def total(relation: str, where: str) -> int:
            sql = f"SELECT count(*) FROM {relation} WHERE {where}"
            [(n,)] = con.sql(sql, params=used(sql)).fetchall()
            return int(n)

        orders = rows(
            f"SELECT * FROM {orders_scan} WHERE {order_where} ORDER BY placed_at, order_id LIMIT {cap}"
        )
        fills = rows(
            f"SELECT * FROM {trades_scan} WHERE {fill_where} ORDER BY ts, trade_id LIMIT {cap}"
        )
        market = rows(
            "SELECT trade_id, ts, price, qty, taker_side FROM "
            f"{trades_scan} WHERE symbol = $symbol ORDER BY ts, trade_id LIMIT {cap}"
        )
        totals = {
            "orders": total(orders_scan, order_where),
            "fills": total(trades_scan, fill_where),
            "market": total(trades_scan, "symbol = $symbol"),
        }
    return Replay(symbol, since, until, orders, fills, market, totals)
