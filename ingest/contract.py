"""The input data contract (v1) as data: files, columns, keys, types (described in
docs/ingest.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ingest import values as v

if TYPE_CHECKING:
    from linkscope.settings import Settings

DAY_MS = 86_400_000
# The first crypto exchange opened in 2010; nothing in these exports can be older.
EARLIEST_TS_MS = int(datetime(2009, 1, 1, tzinfo=UTC).timestamp() * 1000)
# Bounds that keep every stored number, and every sum of them, finite: 1e15 base units or
# quote currency is far above any real order, and a sum of a billion such values is still
# nowhere near float overflow (1.8e308).
MAX_NUMBER = 1e15
MAX_NOTIONAL = 1e15


@dataclass(frozen=True)
class Limits:
    """Plausibility bounds a valid row must meet (settings ``LINKSCOPE_INGEST_*``)."""

    max_number: float = MAX_NUMBER
    max_notional: float = MAX_NOTIONAL
    earliest_ms: int = EARLIEST_TS_MS
    latest_ms: int = field(default_factory=lambda: int(time.time() * 1000) + DAY_MS)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        now_ms = int(time.time() * 1000)
        return cls(
            max_number=settings.ingest_max_number,
            max_notional=settings.ingest_max_notional,
            earliest_ms=int(settings.ingest_earliest_ts.timestamp() * 1000),
            latest_ms=now_ms + int(settings.ingest_future_tolerance_s * 1000),
        )


ACCOUNT_TYPES = ("retail", "institutional", "market_maker")
CHANNELS = ("web", "app", "api")


@dataclass(frozen=True)
class Column:
    name: str
    parse: v.Parser
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required_file: bool = False
    account_refs: tuple[str, ...] = field(default=())

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


ACCOUNTS = FileSpec(
    "accounts",
    (
        Column("account_id", v.parse_id),
        Column("created_at", v.parse_ts),
        Column("kyc_level", v.int_between(0, 3), required=False),
        Column("country", v.parse_country, required=False),
        Column("account_type", v.enum_of(*ACCOUNT_TYPES, default="retail"), False, "retail"),
        Column("api_authorized", v.parse_bool, False, False),
        Column(
            "status", v.enum_of("active", "frozen", "closed", default="active"), False, "active"
        ),
    ),
    key=("account_id",),
    required_file=True,
)

LOGINS = FileSpec(
    "logins",
    (
        Column("account_id", v.parse_id),
        Column("ts", v.parse_ts),
        Column("ip", v.parse_ip),
        Column("device_id", v.parse_id, required=False),
        Column("user_agent", v.parse_text, required=False),
        Column("channel", v.enum_of(*CHANNELS), required=False),
    ),
    key=("account_id", "ts", "ip", "device_id"),
    account_refs=("account_id",),
)

FUNDING = FileSpec(
    "funding",
    (
        Column("event_id", v.parse_id),
        Column("account_id", v.parse_id),
        Column("ts", v.parse_ts),
        Column("direction", v.enum_of("deposit", "withdrawal")),
        Column("method", v.enum_of("crypto", "bank", "card", "p2p", "internal")),
        Column("counterparty_ref", v.parse_id),
        Column("asset", v.parse_id),
        Column("amount", v.parse_positive),
    ),
    key=("event_id",),
    account_refs=("account_id",),
)

TRADES = FileSpec(
    "trades",
    (
        Column("trade_id", v.parse_id),
        Column("ts", v.parse_ts),
        Column("symbol", v.parse_id),
        Column("price", v.parse_positive),
        Column("qty", v.parse_positive),
        Column("buyer_id", v.parse_id),
        Column("seller_id", v.parse_id),
        Column("taker_side", v.enum_of("buy", "sell"), required=False),
        Column("buy_order_id", v.parse_id, required=False),
        Column("sell_order_id", v.parse_id, required=False),
        Column("market", v.enum_of("spot", "futures", default="spot"), False, "spot"),
    ),
    key=("trade_id",),
    required_file=True,
    account_refs=("buyer_id", "seller_id"),
)

ORDERS = FileSpec(
    "orders",
    (
        Column("order_id", v.parse_id),
        Column("account_id", v.parse_id),
        Column("symbol", v.parse_id),
        Column("side", v.enum_of("buy", "sell")),
        Column("type", v.enum_of("limit", "market")),
        Column("price", v.parse_positive, required=False),
        Column("qty", v.parse_positive),
        Column("placed_at", v.parse_ts),
        Column("ended_at", v.parse_ts, required=False),
        Column(
            "final_status",
            v.enum_of("filled", "partially_filled", "cancelled", "open", "rejected"),
        ),
        Column("filled_qty", v.parse_non_negative, False, 0.0),
        Column("channel", v.enum_of(*CHANNELS), required=False),
    ),
    key=("order_id",),
    account_refs=("account_id",),
)

ENFORCEMENT_HISTORY = FileSpec(
    "enforcement_history",
    (
        Column("account_id", v.parse_id),
        Column("ts", v.parse_ts),
        Column(
            "action", v.enum_of("warning", "report_requested", "frozen", "restricted", "closed")
        ),
        Column("clause", v.parse_text, required=False),
        Column("case_id", v.parse_id, required=False),
    ),
    key=("account_id", "ts", "action"),
    account_refs=("account_id",),
)

# Load order matters: every other file refers to accounts.
ALL_FILES: tuple[FileSpec, ...] = (ACCOUNTS, LOGINS, FUNDING, TRADES, ORDERS, ENFORCEMENT_HISTORY)
BY_NAME = {spec.name: spec for spec in ALL_FILES}


NUMBER_PARSERS = (v.parse_positive, v.parse_non_negative)


def number_columns(spec: FileSpec) -> tuple[str, ...]:
    return tuple(c.name for c in spec.columns if c.parse in NUMBER_PARSERS)


def ts_columns(spec: FileSpec) -> tuple[str, ...]:
    return tuple(c.name for c in spec.columns if c.parse is v.parse_ts)


# Per file: the (price, quantity) columns whose product is a notional value.
NOTIONAL = {"trades": ("price", "qty"), "orders": ("price", "qty")}


def notional_too_large(price: float, qty: float, maximum: float) -> str | None:
    """Why price * qty exceeds ``maximum``, or None (the product itself may overflow to inf)."""
    product = price * qty
    if product <= maximum:
        return None
    return f"price * qty = {product:g} is larger than the maximum notional {maximum:g}"


def bounds_rule(spec: FileSpec, row: dict[str, Any], limits: Limits) -> tuple[str, str] | None:
    """Plausibility of parsed values: numbers, notional values, timestamps; (column, reason)."""
    numbers, times, notional = _SHAPES.get(spec.name) or _shape(spec)
    top = limits.max_number
    for name in numbers:
        x = row[name]
        if x is not None and (x > top or x < -top):
            return name, v.number_too_large(x, top) or ""
    if notional is not None:
        price = row[notional[0]]
        if price is not None and price * row[notional[1]] > limits.max_notional:
            reason = notional_too_large(price, row[notional[1]], limits.max_notional)
            return notional[0], reason or ""
    low, high = limits.earliest_ms, limits.latest_ms
    for name in times:
        t = row[name]
        if t is not None and not low <= t <= high:
            return name, v.ts_out_of_range(t, low, high) or ""
    return None


def _shape(spec: FileSpec) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, str] | None]:
    return number_columns(spec), ts_columns(spec), NOTIONAL.get(spec.name)


def row_rule(spec: FileSpec, row: dict[str, Any]) -> tuple[str, str] | None:
    """Rules across columns; returns (column, reason) for the first one broken."""
    if spec is ORDERS:
        if row["type"] == "limit" and row.get("price") is None:
            return "price", "required for a limit order"
        if row.get("ended_at") is not None and row["ended_at"] < row["placed_at"]:
            return "ended_at", "earlier than placed_at"
        if row["filled_qty"] > row["qty"] * (1 + 1e-9):
            return "filled_qty", "greater than qty"
    return None


_SHAPES = {spec.name: _shape(spec) for spec in ALL_FILES}
