"""Order statistics per (account, symbol, UTC day): the derived event table ``order_days``.

Computed with numpy from one day's orders sorted by (account_id, symbol, placed_at, order_id),
the order the day files are written in, so groups are runs of rows and the gaps between
consecutive orders are plain differences: no sort, no hash table. The spoofing and bot
detectors compare these figures; ``tests/test_order_days.py`` holds them to a SQL statement of
the same definition.

Gap statistics (time between consecutive orders of a group) are given where a group has at
least three orders: mean, coefficient of variation, median and median absolute deviation (robust
to a stray human order among a bot's); medians are the lower middle value (DuckDB's
``quantile_disc(x, 0.5)``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from events.tables import ORDER_DAYS, ORDERS

VALUE_BITS = 27  # a day has 86,400,000 ms < 2^27
SORT_KEYS = [(name, "ascending") for name in ORDERS.sort]


def order_day_stats(rows: pa.Table, day: int) -> pa.Table:
    """``order_days`` rows of one UTC day from that day's orders sorted by ``ORDERS.sort``."""
    n = rows.num_rows
    if n == 0:
        return ORDER_DAYS.schema.empty_table()
    account = rows.column("account_id").combine_chunks()
    symbol = rows.column("symbol").combine_chunks()
    change = np.ones(n, dtype=bool)
    change[1:] = _np(pc.not_equal(account.slice(1), account.slice(0, n - 1))) | _np(
        pc.not_equal(symbol.slice(1), symbol.slice(0, n - 1))
    )
    starts = np.flatnonzero(change)
    group = np.cumsum(change) - 1
    size = np.diff(np.append(starts, n))

    def count(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        return np.bincount(group[mask], minlength=len(starts)).astype(np.int64)

    def total(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(group, weights=values, minlength=len(starts))

    status = rows.column("final_status")
    placed_at = _ints(rows.column("placed_at"))
    ended = rows.column("ended_at")
    has_end = _np(pc.is_valid(ended))
    life = np.where(has_end, _ints(pc.fill_null(ended, 0)) - placed_at, 0)
    cancel = _is(status, "cancelled")
    qty = _floats(rows.column("qty"))
    filled_qty = _floats(rows.column("filled_qty"))
    price = _floats(pc.fill_null(rows.column("price"), 0.0))
    timed_cancel = cancel & has_end
    gaps = _gap_stats(placed_at, change, group, len(starts))
    columns = {
        "account_id": account.take(pa.array(starts)),
        "symbol": symbol.take(pa.array(starts)),
        "day": np.full(len(starts), day, dtype=np.int64),
        "placed": size.astype(np.int64),
        "cancelled": count(cancel),
        "filled": count(_is(status, "filled")),
        "partially_filled": count(_is(status, "partially_filled")),
        "rejected": count(_is(status, "rejected")),
        "open": count(_is(status, "open")),
        "via_api": count(_is(rows.column("channel"), "api")),
        "buys": count(_is(rows.column("side"), "buy")),
        "qty_placed": total(qty),
        "qty_cancelled": total(np.where(cancel, qty - filled_qty, 0.0)),
        "qty_filled": total(filled_qty),
        "notional_placed": total(qty * price),
        "max_qty": np.maximum.reduceat(qty, starts),
        "cancelled_within_1s": count(timed_cancel & (life <= 1000)),
        "cancelled_within_10s": count(timed_cancel & (life <= 10_000)),
        "cancel_lifetime_ms_sum": np.bincount(
            group, weights=np.where(timed_cancel, life, 0), minlength=len(starts)
        ).astype(np.int64),
        **gaps,
        "first_placed_at": np.minimum.reduceat(placed_at, starts),
        "last_placed_at": np.maximum.reduceat(placed_at, starts),
    }
    return pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in ORDER_DAYS.schema})


def _gap_stats(
    placed_at: NDArray[np.int64], change: NDArray[np.bool_], group: NDArray[np.int64], groups: int
) -> dict[str, pa.Array]:
    """Mean, coefficient of variation, median and MAD of the gaps of each group (null where a
    group has fewer than two gaps)."""
    inner = ~change  # a row with an earlier row in its group: it closes a gap
    gap = (placed_at[1:] - placed_at[:-1])[inner[1:]].astype(np.int64)
    owner = group[inner]
    count = np.bincount(owner, minlength=groups)
    enough = count >= 2
    safe = np.maximum(count, 1)
    mean = np.bincount(owner, weights=gap, minlength=groups) / safe
    spread = np.bincount(owner, weights=(gap - mean[owner]) ** 2, minlength=groups) / safe
    cv = np.where(mean > 0, np.sqrt(spread) / np.where(mean > 0, mean, 1.0), 0.0)
    median = _lower_median(gap, owner, count, groups)
    mad = _lower_median(np.abs(gap - median[owner].astype(np.int64)), owner, count, groups)

    def masked(values: NDArray[np.float64]) -> pa.Array:
        return pa.array(values.astype(np.float64), mask=~enough)

    return {
        "gap_mean_ms": masked(mean),
        "gap_cv": masked(cv),
        "gap_median_ms": masked(median),
        "gap_mad_ms": masked(mad),
    }


def _lower_median(
    values: NDArray[np.int64], owner: NDArray[np.int64], count: NDArray[np.int64], groups: int
) -> NDArray[np.float64]:
    """Per group, the value at index (k - 1) // 2 of its k sorted values (0 where k = 0);
    ``values`` come in runs by ``owner``, ascending."""
    out = np.zeros(groups, dtype=np.float64)
    if not len(values):
        return out
    ordered = _sorted_in_runs(values, owner, count)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    has = count > 0
    out[has] = ordered[(first + (count - 1) // 2)[has]]
    return out


def _sorted_in_runs(
    values: NDArray[np.int64], owner: NDArray[np.int64], count: NDArray[np.int64]
) -> NDArray[np.int64]:
    """``values`` sorted within each owner's run. Values are gaps within one day (0 <= v <
    2^27 ms), so a run's position among 32 neighbouring runs and its value sort as one 32-bit
    integer: runs are sorted 32 at a time, twice as fast as one sort of 64-bit (owner, value)
    keys of the whole day (3x faster than a two-key ``lexsort``)."""
    per_sort = 1 << (32 - VALUE_BITS)
    keys = ((owner & (per_sort - 1)).astype(np.uint32) << VALUE_BITS) | values.astype(np.uint32)
    bounds = [*np.concatenate(([0], np.cumsum(count)))[::per_sort].tolist(), len(values)]
    for lo, hi in itertools.pairwise(bounds):
        keys[lo:hi].sort()  # owners g .. g + 31, g a multiple of 32: their runs, in place
    return (keys & ((1 << VALUE_BITS) - 1)).astype(np.int64)


def _is(column: pa.Array | pa.ChunkedArray, value: str) -> NDArray[np.bool_]:
    """Rows holding ``value`` (null: False). A day as the commit lands it holds the contract's
    fixed columns as dictionaries (``Table.enums``): their codes are looked up, not their
    strings compared; a day read back from its file holds strings."""
    if not pa.types.is_dictionary(column.type):
        return _np(pc.equal(column, value))
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [np.zeros(0, dtype=bool)]
    for chunk in chunks:
        hit = np.append(_np(pc.equal(chunk.dictionary, value)), False)  # never empty
        rows = hit[pc.fill_null(chunk.indices, 0).to_numpy(zero_copy_only=False)]
        if chunk.null_count:
            rows &= _np(pc.is_valid(chunk))
        parts.append(rows)
    return np.concatenate(parts)


def _np(mask: pa.Array | pa.ChunkedArray) -> NDArray[np.bool_]:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _ints(column: pa.Array | pa.ChunkedArray) -> NDArray[np.int64]:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.int64)


def _floats(column: pa.Array | pa.ChunkedArray) -> NDArray[np.float64]:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
