"""The event-store reads behind an evidence pack: a set of accounts' fills, their net position
in a symbol over time and their share of the symbol's volume per day."""

from __future__ import annotations

from typing import Any

from events.store import EventStore, in_list
from events.tables import DAY_MS


def fills_of(events: EventStore, accounts: list[str], cap: int) -> tuple[list[dict[str, Any]], int]:
    """The accounts' fills (either side), oldest first, at most ``cap``; and how many there are."""
    who = in_list(accounts)
    where = f"seller_id IN {who} OR buyer_id IN {who}"
    with events.connection() as con:
        rows: list[dict[str, Any]] = (
            con.sql(
                f"SELECT * FROM {events.scan('trades')} WHERE {where} ORDER BY ts, trade_id "
                f"LIMIT {int(cap)}"
            )
            .to_arrow_table()
            .to_pylist()
        )
        [(total,)] = con.sql(
            f"SELECT count(*) FROM {events.scan('trades')} WHERE {where}"
        ).fetchall()
    return rows, int(total)


def net_positions(
    events: EventStore, accounts: list[str], symbol: str, cap: int
) -> tuple[dict[str, list[tuple[int, float]]], dict[str, float]]:
    """Each account's running net position in ``symbol`` (bought minus sold, base quantity)
    after each of its fills, at most ``cap`` points per account (the first ones); and the
    final net position from all its fills. A self-trade moves nothing."""
    who = in_list(accounts)
    sides = f"""sides AS (
    SELECT buyer_id AS account_id, ts, trade_id, qty AS delta FROM {events.scan("trades")}
    WHERE symbol = $symbol AND buyer_id IN {who} AND buyer_id <> seller_id
    UNION ALL
    SELECT seller_id AS account_id, ts, trade_id, -qty AS delta FROM {events.scan("trades")}
    WHERE symbol = $symbol AND seller_id IN {who} AND buyer_id <> seller_id
)"""
    running = f"""WITH {sides},
running AS (
    SELECT account_id, ts, trade_id,
        sum(delta) OVER (PARTITION BY account_id ORDER BY ts, trade_id) AS position,
        row_number() OVER (PARTITION BY account_id ORDER BY ts, trade_id) AS n
    FROM sides
)
SELECT account_id, ts, position FROM running WHERE n <= {int(cap)}
ORDER BY account_id, ts, trade_id"""
    params = {"symbol": symbol}
    series: dict[str, list[tuple[int, float]]] = {a: [] for a in accounts}
    with events.connection() as con:
        for account, ts, position in con.sql(running, params=params).fetchall():
            series[str(account)].append((int(ts), float(position)))
        final = {
            str(a): float(p)
            for a, p in con.sql(
                f"WITH {sides} SELECT account_id, sum(delta) FROM sides GROUP BY account_id",
                params=params,
            ).fetchall()
        }
    return series, {a: final.get(a, 0.0) for a in accounts}


def daily_share(events: EventStore, accounts: list[str], symbol: str) -> list[dict[str, Any]]:
    """Per UTC day with trading in ``symbol`` by the accounts: the symbol's quote volume and
    fills, and those with one of the accounts on either side."""
    who = in_list(accounts)
    rows: list[dict[str, Any]] = []
    with events.connection() as con:
        for day, fills, quote, member_fills, member_quote in con.sql(
            f"""SELECT ts // {DAY_MS} AS day, count(*), sum(price * qty),
                count(*) FILTER (WHERE seller_id IN {who} OR buyer_id IN {who}),
                coalesce(sum(price * qty) FILTER (WHERE seller_id IN {who} OR buyer_id IN {who}), 0)
            FROM {events.scan("trades")} WHERE symbol = $symbol
            GROUP BY day HAVING count(*) FILTER (WHERE seller_id IN {who} OR buyer_id IN {who}) > 0
            ORDER BY day""",
            params={"symbol": symbol},
        ).fetchall():
            rows.append(
                {
                    "day": int(day),
                    "fills": int(fills),
                    "quote": float(quote),
                    "member_fills": int(member_fills),
                    "member_quote": float(member_quote),
                }
            )
    return rows
