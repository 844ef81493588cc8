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
from events.store import EventStore
from events.tables import DAY_MS, ORDER_DAYS, day_number

# Given the rows of a day and the symbols' typical order sizes: the rows to keep.
Keep = Callable[[OrderDays, FloatArray], BoolArray]


@dataclass(frozen=True)
class OrderCandidates:
    days: OrderDays  # the rows kept, sorted by (account, symbol, day)
    typical: FloatArray  # the typical order size of each symbol in ``days.symbols``
    rows: int  # account-symbol-days in the window, kept or not


def typical_order_qty(symbol: IntArray, mean_size: FloatArray, n_symbols: int) -> FloatArray:
    """The symbol's typical order: median over its account-days of the mean order size (every
    participant counts once a day, however many orders it sends); 0 for a symbol without
    rows."""
    typical = np.zeros(n_symbols)
    by_symbol = sort_order(symbol)  # a radix sort of few symbols (3.3 s at L as 64-bit keys)
    sizes = mean_size[by_symbol]
    bounds = np.searchsorted(symbol[by_symbol], np.arange(n_symbols + 1))
    for s in range(n_symbols):
        if bounds[s + 1] > bounds[s]:
            typical[s] = float(np.median(sizes[bounds[s] : bounds[s + 1]]))
    return typical


def mean_order_size(qty_placed: FloatArray, placed: IntArray) -> FloatArray:
    return np.asarray(qty_placed / np.maximum(placed, 1), dtype=np.float64)


def read_order_candidates(
    events: EventStore, accounts: Accounts, window: Window, keep: Keep
) -> OrderCandidates:
    days = _window_days(events, window)
    ids = pa.array(accounts.ids, type=pa.string())
    # First pass: the symbols and each row's mean order size, for the medians; the account
    # columns as Parquet's dictionaries, all days looked up in one call (a lookup hashes every
    # account: one call a day was 10 s of L's 34).
    names: set[str] = set()
    sizes: list[tuple[list[str], IntArray, FloatArray]] = []
    account_chunks: list[pa.Array] = []
    for day in days:
        table = _read_day(events, day, ["account_id", "symbol", "placed", "qty_placed"])
        account_chunks.extend(table.column("account_id").chunks)
        local = distinct_strings(table.column("symbol"))
        names.update(local)
        code = codes_in(table.column("symbol"), pa.array(local, type=pa.string()))[0]
        placed = np.asarray(table.column("placed").fill_null(0).to_numpy(), dtype=np.int64)
        qty = np.asarray(table.column("qty_placed").fill_null(-1.0).to_numpy(), dtype=np.float64)
        sizes.append((local, code, mean_order_size(qty, placed)))
    symbols = sorted(names)
    bounds = np.cumsum([0] + [len(code) for _, code, _ in sizes])
    rows = int(bounds[-1])
    typical = _typical(sizes, symbols)
    del sizes
    account = account_positions(_one_type(account_chunks), ids)
    del account_chunks
    # Second pass: every column, a day at a time, only the rows a detector can use.
    kept: list[OrderDays] = []
    for k, day in enumerate(days):
        table = _read_day(events, day, ORDER_DAYS.columns)
        part = order_days_of(table, ids, symbols, account=account[bounds[k] : bounds[k + 1]])
        kept.append(part.take(np.flatnonzero(keep(part, typical))))
    if not kept:
        empty = order_days_of(ORDER_DAYS.schema.empty_table(), ids, symbols)
        return OrderCandidates(empty, typical, 0)
    found = OrderDays.concat(kept)
    return OrderCandidates(
        found.take(sort_order(found.account, found.symbol, found.day)), typical, rows
    )


def _typical(sizes: list[tuple[list[str], IntArray, FloatArray]], symbols: list[str]) -> FloatArray:
    position = {s: i for i, s in enumerate(symbols)}
    codes = []
    for local, code, _ in sizes:
        to_global = np.array([position[s] for s in local] + [-1], dtype=np.int64)
        codes.append(to_global[code])  # -1 (a null symbol) indexes the trailing -1
    if not codes:
        return np.zeros(len(symbols))
    symbol = np.concatenate(codes)
    mean_size = np.concatenate([m for _, _, m in sizes])
    known = symbol >= 0
    return typical_order_qty(symbol[known], mean_size[known], len(symbols))


def _one_type(chunks: list[pa.Array]) -> pa.ChunkedArray:
    """Chunks of one column from several files as one column (a file written without
    dictionaries gives plain strings: then every chunk goes plain)."""
    if len({c.type for c in chunks}) > 1:
        chunks = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in chunks]
    return pa.chunked_array(chunks, type=chunks[0].type if chunks else pa.string())


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
