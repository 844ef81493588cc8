"""What the event store holds: one Arrow schema per table, its key and its time column.

The column names and meanings are the contract's (``ingest/contract.py``, docs/ingest.md);
times are UTC epoch milliseconds, as in the graph. Any engine that reads Parquet (DuckDB, Spark, Polars, pyarrow)
reads these files without linkscope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Table:
    name: str
    schema: pa.Schema
    key: str
    time: str | None  # the column that decides the UTC day partition (None: derived by day)
    sort: tuple[str, ...]  # row order inside a partition (cheap range scans per symbol)
    # Columns with few distinct values a day, dictionary-encoded in Parquet; encoding unique ids
    # the same way costs ~40% of the write time for bigger files.
    repeated: tuple[str, ...] = ()
    # Columns with min/max statistics in each row group: those queries filter on (statistics
    # of every column cost 12% of an order day's write at 7.5M rows). None: every column.
    filtered: tuple[str, ...] | None = None
    # Columns whose values the contract fixes (the ingest checks them): the commit sorts and
    # lands them as one-byte codes over these values instead of strings. An L order day held
    # in Arrow is 632 instead of 876 MB (two days are held while one is written and the next
    # sorted) and sorts and writes ~15% faster. Day files read back as plain strings.
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # An ENUM sorts by its values' positions, not as text: a sort column must stay text.
        assert not set(self.enums) & set(self.sort), f"{self.name}: an enum column in the sort"

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    @property
    def landing_schema(self) -> pa.Schema:
        """The schema of a day's rows as the commit lands them: ``enums`` as dictionaries."""
        return pa.schema(
            [
                pa.field(f.name, pa.dictionary(pa.uint8(), pa.string()))
                if f.name in self.enums
                else f
                for f in self.schema
            ]
        )


TRADES = Table(
    "trades",
    pa.schema(
        [
            ("trade_id", pa.string()),
            ("ts", pa.int64()),
            ("symbol", pa.string()),
            ("price", pa.float64()),
            ("qty", pa.float64()),
            ("buyer_id", pa.string()),
            ("seller_id", pa.string()),
            ("taker_side", pa.string()),
            ("buy_order_id", pa.string()),
            ("sell_order_id", pa.string()),
            ("market", pa.string()),
        ]
    ),
    key="trade_id",
    time="ts",
    sort=("symbol", "ts", "trade_id"),
    # Not the accounts: a day's fills in symbol order hold most of a venue's busy accounts in
    # every row group, so their dictionaries save nothing. Without them an L day (856k fills,
    # 10^6 accounts) writes in 0.41 against 0.47 s and is 28.2 against 29.7 MB, an M day (85k
    # fills, 10^5 accounts) in 0.042 against 0.047 s; the analysis reads accounts as codes.
    repeated=("symbol", "taker_side", "market"),
    filtered=("trade_id", "ts", "symbol", "buyer_id", "seller_id"),
    enums={"taker_side": ("buy", "sell"), "market": ("spot", "futures")},
)

ORDERS = Table(
    "orders",
    pa.schema(
        [
            ("order_id", pa.string()),
            ("account_id", pa.string()),
            ("symbol", pa.string()),
            ("side", pa.string()),
            ("type", pa.string()),
            ("price", pa.float64()),
            ("qty", pa.float64()),
            ("placed_at", pa.int64()),
            ("ended_at", pa.int64()),
            ("final_status", pa.string()),
            ("filled_qty", pa.float64()),
            ("channel", pa.string()),
        ]
    ),
    key="order_id",
    time="placed_at",
    sort=("account_id", "symbol", "placed_at", "order_id"),
    repeated=("account_id", "symbol", "side", "type", "final_status", "channel"),
    filtered=("order_id", "account_id", "symbol", "placed_at", "ended_at"),
    enums={
        "side": ("buy", "sell"),
        "type": ("limit", "market"),
        "final_status": ("filled", "partially_filled", "cancelled", "open", "rejected"),
        "channel": ("web", "app", "api"),
    },
)

_INT = pa.int64()
_FLOAT = pa.float64()

# Derived from ``orders`` at ingest, one row per (account, symbol, UTC day): what the spoofing
# and bot detectors compare. Rewritten whole for every day a load touches.
_ORDER_DAY_FIELDS = (
    [("account_id", pa.string()), ("symbol", pa.string()), ("day", _INT)]
    + [(name, _INT) for name in ("placed", "cancelled", "filled", "partially_filled", "rejected",
                                 "open", "via_api", "buys")]
    + [(name, _FLOAT) for name in ("qty_placed", "qty_cancelled", "qty_filled",
                                   "notional_placed", "max_qty")]
    + [(name, _INT) for name in ("cancelled_within_1s", "cancelled_within_10s",
                                 "cancel_lifetime_ms_sum")]
    + [(name, _FLOAT) for name in ("gap_mean_ms", "gap_cv", "gap_median_ms", "gap_mad_ms")]
    + [("first_placed_at", _INT), ("last_placed_at", _INT)]
)  # fmt: skip
ORDER_DAYS = Table(
    "order_days",
    pa.schema(_ORDER_DAY_FIELDS),
    key="",
    time=None,
    sort=("account_id", "symbol"),
    repeated=("account_id", "symbol"),
)

TABLES = {t.name: t for t in (TRADES, ORDERS, ORDER_DAYS)}


def day_name(day: int) -> str:
    """Partition folder name of a UTC day number (days since 1970-01-01)."""
    return "day=" + (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def day_number(name: str) -> int:
    return (dt.date.fromisoformat(name.removeprefix("day=")) - dt.date(1970, 1, 1)).days
