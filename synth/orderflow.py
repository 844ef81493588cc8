"""The order flow behind fills, column-wise: each fill's two orders, market makers' quoting and
retail's unfilled orders.

A real venue sees many orders per fill: market makers keep two-sided quotes near the touch and
cancel and replace them within seconds (tens of orders per fill), retail places a few orders
per fill (market and limit, some cancelled, rejected or left open). Everything here works on
numpy arrays for one block of fills at a time, so memory stays bounded by the block and no
Python object exists per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from events.tables import ORDERS, TRADES
from synth.writer import ids, pick

STATUSES = ("filled", "partially_filled", "cancelled", "open", "rejected")
FILLED, PARTIAL, CANCELLED, OPEN, REJECTED = range(5)
CHANNELS = ("web", "app", "api")
WEB, APP, API = range(3)
SIDES = pa.array(["sell", "buy"])  # indexed by "is a buy"
TYPES = pa.array(["limit", "market"])  # indexed by "is a market order"

# The generator writes the contract's columns in the event store's order and types.
ORDER_SCHEMA = ORDERS.schema
TRADE_SCHEMA = TRADES.schema

Ints = np.ndarray[Any, np.dtype[np.int64]]
Floats = np.ndarray[Any, np.dtype[np.float64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class Flow:
    """How much order flow to write around the fills."""

    linked_share: float  # share of fill sides whose order is written (1.0: every fill, both)
    mm_quotes_per_fill: float  # quotes a market maker sends and cancels per fill it is part of
    retail_extra_per_fill: float  # unfilled orders (cancelled, rejected, open) per other side


# Realistic: a market maker sends ~11 orders per fill it takes part in (10 cancelled quotes and
# the one that fills); ~0.6 of fills have one, so with the 2 fill orders and ~1.3 retail extras
# that is ~9 orders per fill. Light: about the old sample (~0.15 orders per fill), for tests
# whose subject is not the order flow.
FLOWS = {
    "realistic": Flow(1.0, 10.0, 0.9),
    "light": Flow(0.06, 0.0, 0.05),
}
PLANTED = Flow(1.0, 0.0, 0.0)  # planted fills: both orders, no flow around them


@dataclass
class Fills:
    ts: Ints
    sym: Ints
    price: Floats
    qty: Floats
    buyer: Ints
    seller: Ints
    taker_buy: Bools
    buy_oid: Ints  # order number behind the buy side, -1: none written
    sell_oid: Ints

    def __len__(self) -> int:
        return len(self.ts)

    def block(self, start: int, stop: int) -> Fills:
        return Fills(*(getattr(self, k)[start:stop] for k in self.__dataclass_fields__))


@dataclass
class Orders:
    account: Ints
    sym: Ints
    buy: Bools
    market: Bools
    price: Floats  # NaN for a market order
    qty: Floats
    placed: Ints
    ended: Ints  # -1: not ended (open)
    status: Ints  # position in STATUSES
    filled: Floats
    channel: Ints  # position in CHANNELS

    def __len__(self) -> int:
        return len(self.placed)

    @staticmethod
    def concat(parts: list[Orders]) -> Orders:
        return Orders(
            *(np.concatenate([getattr(p, k) for p in parts]) for k in Orders.__dataclass_fields__)
        )

    def take(self, order: Ints) -> Orders:
        return Orders(*(getattr(self, k)[order] for k in self.__dataclass_fields__))


@dataclass(frozen=True)
class Market:
    """What the flow needs to know about accounts and the simulated period."""

    is_mm: Bools
    api: Bools
    end: int  # orders still working at this time stay open

    def channel(self, account: Ints) -> Ints:
        # Approved accounts trade through the API; others keep to one of web or app.
        own = np.where(account % 3 == 0, WEB, APP)
        return np.where(self.api[account], API, own).astype(np.int64)


def orders_for(
    fills: Fills, first: int, rng: np.random.Generator, flow: Flow, market: Market
) -> tuple[Orders, Ints, Ints]:
    """The block's orders, numbered ``first``, ``first + 1``, ... in placement order, and the
    numbers behind each fill's buy and sell side (kept where ``fills`` already has one)."""
    n = len(fills)
    account = np.concatenate([fills.buyer, fills.seller])
    is_buy = np.concatenate([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)])
    taker = np.concatenate([fills.taker_buy, ~fills.taker_buy])
    fill_of = np.concatenate([np.arange(n), np.arange(n)])
    side_oid = np.concatenate([fills.buy_oid, fills.sell_oid])
    wanted = (side_oid < 0) & (rng.random(2 * n) < flow.linked_share)
    linked = np.flatnonzero(wanted)
    parts = [
        _filled(fills, linked, account, is_buy, taker, fill_of, rng, market),
        _quotes(fills, account, fill_of, rng, flow, market),
        _extras(fills, account, is_buy, fill_of, rng, flow, market),
    ]
    orders = Orders.concat(parts)
    order = np.argsort(orders.placed, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    side_oid = side_oid.copy()
    side_oid[linked] = first + rank[: len(linked)]  # the filled orders come first in parts
    return orders.take(order), side_oid[:n], side_oid[n:]


def _filled(
    fills: Fills,
    sides: Ints,
    account: Ints,
    is_buy: Bools,
    taker: Bools,
    fill_of: Ints,
    rng: np.random.Generator,
    market: Market,
) -> Orders:
    """The order on one side of a fill: the taker's arrives and executes at once (market, or
    a limit priced through the touch); the maker's rested at the fill price, sometimes larger
    than the fill and cancelled (or still working) after it."""
    m = len(sides)
    acc, buy, tk, f = account[sides], is_buy[sides], taker[sides], fill_of[sides]
    ts, price, qty = fills.ts[f], fills.price[f], fills.qty[f]
    mm = market.is_mm[acc]
    u = rng.random((4, m))
    is_market = tk & ~mm & (u[0] < 0.6)
    through = price * (1 + np.where(buy, 1, -1) * 0.001 * u[1])
    limit_price = np.where(tk, np.round(through, 6), price)
    partial = ~tk & (u[2] < 0.25)
    size = np.where(partial, np.maximum(np.round(qty / (0.2 + 0.7 * u[3]), 6), qty), qty)
    resting = np.where(mm, rng.exponential(3_000, m), rng.exponential(1_200_000, m))
    wait = np.where(tk, 1 + 80 * u[1], resting).astype(np.int64)
    rest_after = np.where(mm, rng.exponential(2_000, m), rng.exponential(1_800_000, m))
    ended = np.where(partial, ts + rest_after.astype(np.int64), ts)
    ended = np.where(ended > market.end, -1, ended)  # the rest of the order still works
    return Orders(
        acc,
        fills.sym[f],
        buy,
        is_market,
        np.where(is_market, np.nan, limit_price),
        size,
        ts - wait,
        ended,
        np.where(partial, PARTIAL, FILLED).astype(np.int64),
        qty,
        market.channel(acc),
    )


def _quotes(
    fills: Fills,
    account: Ints,
    fill_of: Ints,
    rng: np.random.Generator,
    flow: Flow,
    market: Market,
) -> Orders:
    """A market maker's quotes around each of its fills: both sides within 20 bp of the fill
    price, of the sizes it trades, replaced within a few seconds."""
    sides = np.flatnonzero(market.is_mm[account])
    count = rng.poisson(flow.mm_quotes_per_fill, len(sides)) if flow.mm_quotes_per_fill else None
    rep = np.repeat(sides, count) if count is not None else sides[:0]
    k = len(rep)
    f = fill_of[rep]
    buy = rng.random(k) < 0.5
    away = 0.0001 + 0.0019 * rng.random(k)
    price = np.round(fills.price[f] * (1 + np.where(buy, -away, away)), 6)
    qty = np.maximum(np.round(fills.qty[f] * rng.lognormal(0, 0.5, k), 6), 1e-6)
    placed = fills.ts[f] - (30_000 * rng.random(k)).astype(np.int64)
    life = 20 + rng.exponential(1_500, k).astype(np.int64)
    acc = account[rep]
    return Orders(
        acc,
        fills.sym[f],
        buy,
        np.zeros(k, dtype=bool),
        price,
        qty,
        placed,
        placed + life,
        np.full(k, CANCELLED, dtype=np.int64),
        np.zeros(k),
        market.channel(acc),
    )


def _extras(
    fills: Fills,
    account: Ints,
    is_buy: Bools,
    fill_of: Ints,
    rng: np.random.Generator,
    flow: Flow,
    market: Market,
) -> Orders:
    """Other traders' orders that did not fill: limit orders away from the touch placed around
    their own fills, mostly cancelled after minutes, a few rejected, some still open at the end."""
    sides = np.flatnonzero(~market.is_mm[account])
    rep = np.repeat(sides, rng.poisson(flow.retail_extra_per_fill, len(sides)))
    k = len(rep)
    f = fill_of[rep]
    buy = np.where(rng.random(k) < 0.7, is_buy[rep], ~is_buy[rep])
    away = 0.002 + 0.028 * rng.random(k)
    price = np.round(fills.price[f] * (1 + np.where(buy, -away, away)), 6)
    qty = np.maximum(np.round(fills.qty[f] * rng.lognormal(0, 0.7, k), 6), 1e-6)
    placed = fills.ts[f] + rng.normal(0, 7_200_000, k).astype(np.int64)
    placed = np.minimum(placed, market.end - 1)
    life = 2_000 + rng.exponential(2_400_000, k).astype(np.int64)
    rejected = rng.random(k) < 0.03
    ended = np.where(rejected, placed, placed + life)
    still_open = ~rejected & (ended > market.end)
    status = np.where(rejected, REJECTED, np.where(still_open, OPEN, CANCELLED))
    acc = account[rep]
    return Orders(
        acc,
        fills.sym[f],
        buy,
        np.zeros(k, dtype=bool),
        price,
        qty,
        placed,
        np.where(still_open, -1, ended),
        status.astype(np.int64),
        np.zeros(k),
        market.channel(acc),
    )


def order_columns(
    orders: Orders, first: int, account_ids: pa.Array, symbols: pa.Array
) -> dict[str, Any]:
    """Arrow columns of numbered orders, in ``ORDER_SCHEMA``."""
    return {
        "order_id": ids("O", first + np.arange(len(orders))),
        "account_id": pick(account_ids, orders.account),
        "symbol": pick(symbols, orders.sym),
        "side": pick(SIDES, orders.buy.astype(np.int64)),
        "type": pick(TYPES, orders.market.astype(np.int64)),
        "price": orders.price,
        "qty": orders.qty,
        "placed_at": orders.placed,
        "ended_at": pa.array(orders.ended, mask=orders.ended < 0),
        "final_status": pick(pa.array(STATUSES), orders.status),
        "filled_qty": orders.filled,
        "channel": pick(pa.array(CHANNELS), orders.channel),
    }


def trade_columns(
    fills: Fills, first: int, account_ids: pa.Array, symbols: pa.Array
) -> dict[str, Any]:
    """Arrow columns of numbered fills, in ``TRADE_SCHEMA``."""
    n = len(fills)
    return {
        "trade_id": ids("T", first + np.arange(n)),
        "ts": fills.ts,
        "symbol": pick(symbols, fills.sym),
        "price": fills.price,
        "qty": fills.qty,
        "buyer_id": pick(account_ids, fills.buyer),
        "seller_id": pick(account_ids, fills.seller),
        "taker_side": pick(SIDES, fills.taker_buy.astype(np.int64)),
        "buy_order_id": ids("O", fills.buy_oid),
        "sell_order_id": ids("O", fills.sell_oid),
        "market": pick(pa.array(["spot"]), np.zeros(n, dtype=np.int64)),
    }
