"""The ``order_days`` rows the detectors can use, read a day at a time.

A venue's order statistics run to one row per account, symbol and day: 35M rows for a month of
a million accounts, several GB as arrays, of which the unauthorized-bot and spoofing detectors
keep a few thousand (API orders without approval, machine-regular timing, a largest order far
above the symbol's typical one). Both detectors judge each row on its own, given the symbol's
typical order size, which is a median over every row of the window. So the window is read
twice, one UTC day at a time: first the three columns the medians need, then every column,
keeping only the rows a detector's test selects. Memory follows the busiest day and the rows
kept, not the window; the flags are the ones a whole read gives (same rows, same medians).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from analytics.projection import (
    Accounts,
    BoolArray,
    FloatArray,
    IntArray,
    OrderDays,
    Window,
    account_positions,
    codes_in,
    distinct_strings,
    order_days_of,
    sort_order,
)
from events.id_index import IdIndex
from events.store import EventStore
from events.tables import DAY_MS, ORDER_DAYS, day_number

# Given the rows of a day and the symbols' typical order sizes: the rows to keep.
Keep = Callable[[OrderDays, FloatArray], BoolArray]


@dataclass(frozen=True)
class OrderCandidates:
    days: OrderDays  # the rows kept, sorted by (account, symbol, day)
    typical: FloatArray  # the typical order size of each symbol in ``days.symbols``
    rows: int  # account-symbol-days in the window, kept or not


def mean_order_size(qty_placed: FloatArray, placed: IntArray) -> FloatArray:
    return np.asarray(qty_placed / np.maximum(placed, 1), dtype=np.float64)


def read_order_candidates(
    events: EventStore, accounts: Accounts, window: Window, keep: Keep
) -> OrderCandidates:
    days = _window_days(events, window)
    ids = pa.array(accounts.ids, type=pa.string())
    # First pass: each row's account and mean order size and the symbols' rows, for the
    # medians. The accounts are hashed once (``IdIndex``; one ``index_in`` a day hashed every
    # account anew: 10 s of L's 34), and each day's rows are looked up as the day is read:
    # holding every day's account column until one lookup at the end, with the sizes coded
    # window-wide beside it, took 3.6 GB above the analysis's baseline at 10^6 accounts.
    index = IdIndex(ids)
    account: list[npt.NDArray[np.int32]] = []
    by_symbol: dict[str, list[FloatArray]] = {}
    for day in days:
        table = _read_day(events, day, ["account_id", "symbol", "placed", "qty_placed"])
        account.append(account_positions(table.column("account_id"), index).astype(np.int32))
        local = distinct_strings(table.column("symbol"))
        code = codes_in(table.column("symbol"), pa.array(local, type=pa.string()))[0]
        placed = np.asarray(table.column("placed").fill_null(0).to_numpy(), dtype=np.int64)
        qty = np.asarray(table.column("qty_placed").fill_null(-1.0).to_numpy(), dtype=np.float64)
        del table
        sizes = mean_order_size(qty, placed)
        order = sort_order(code + 1)  # a null symbol (-1) first, then the day's symbols
        bounds = np.searchsorted(code[order], np.arange(len(local) + 1))
        sizes = sizes[order]
        for k, name in enumerate(local):
            by_symbol.setdefault(name, []).append(sizes[bounds[k] : bounds[k + 1]])
    symbols = sorted(by_symbol)
    # The median does not depend on the order of the values: each symbol's days, joined.
    typical = np.array([_median(np.concatenate(by_symbol.pop(s))) for s in symbols])
    rows = sum(len(a) for a in account)
    # Second pass: every column, a day at a time, only the rows a detector can use.
    kept: list[OrderDays] = []
    for k, day in enumerate(days):
        table = _read_day(events, day, ORDER_DAYS.columns)
        part = order_days_of(table, ids, symbols, account=account[k].astype(np.int64))
        account[k] = np.zeros(0, dtype=np.int32)
        kept.append(part.take(np.flatnonzero(keep(part, typical))))
    if not kept:
        empty = order_days_of(ORDER_DAYS.schema.empty_table(), ids, symbols)
        return OrderCandidates(empty, typical, 0)
    found = OrderDays.concat(kept)
    return OrderCandidates(
        found.take(sort_order(found.account, found.symbol, found.day)), typical, rows
    )


def _median(values: FloatArray) -> float:
    """0 for a symbol without rows (a dictionary's value no row of the day holds)."""
    return float(np.median(values)) if len(values) else 0.0


def _window_days(events: EventStore, window: Window) -> list[int]:
    """The day partitions the window touches (the event store's own choice of files)."""
    files = events.files(ORDER_DAYS.name, window.since, window.until)
    return [day_number(f.parent.name) for f in files]


def _read_day(events: EventStore, day: int, columns: list[str]) -> pa.Table:
    return events.read_columns(
        ORDER_DAYS.name,
        columns,
        since=day * DAY_MS,
        until=(day + 1) * DAY_MS,
        dictionaries=True,
    )
