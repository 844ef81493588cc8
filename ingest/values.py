"""Parsers for the contract's value types. Each raises ``ValueError`` with a reason a person can act on."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Parser = Callable[[Any], Any]

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _text(raw: Any) -> str:
    return raw if isinstance(raw, str) else str(raw)


def parse_id(raw: Any) -> str:
    value = _text(raw).strip()
    if not value:
        raise ValueError("empty id")
    return value


def parse_ts(raw: Any) -> int:
    """ISO 8601 with an offset or Z, or integer epoch milliseconds; returns UTC epoch ms."""
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueError("timestamp has no UTC offset")
        return int(raw.timestamp() * 1000)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _epoch_ms(raw)
    text = _text(raw).strip()
    if not text:
        raise ValueError("empty timestamp")
    if text.lstrip("-").isdigit():
        if len(text) > 20:  # longer than any int64; int() of a huge text is slow
            raise ValueError(f"epoch milliseconds out of range (years 1..9999): {text[:24]}…")
        return _epoch_ms(int(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not ISO 8601 or epoch milliseconds: {text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without offset or Z: {text[:40]!r}")
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


# The epoch ms of 0001-01-01 and 9999-12-31T23:59:59.999Z: what ISO 8601 text can say. The store
# keeps int64 and FalkorDB turns a larger integer into the int64 maximum without a word.
EPOCH_MS_MIN, EPOCH_MS_MAX = -62_135_596_800_000, 253_402_300_799_999


def _epoch_ms(value: int) -> int:
    if not EPOCH_MS_MIN <= value <= EPOCH_MS_MAX:
        raise ValueError(f"epoch milliseconds out of range (years 1..9999): {str(value)[:24]}")
    return value


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("boolean is not a number")
    if isinstance(raw, int | float | Decimal):
        value = float(raw)
    else:
        text = _text(raw).strip()
        if not text:
            raise ValueError("empty number")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"not a decimal number: {text[:40]!r}") from None
    if not math.isfinite(value):
        raise ValueError("number is not finite")
    return value


def parse_positive(raw: Any) -> float:
    value = _number(raw)
    if value <= 0:
        raise ValueError(f"must be > 0, got {value:g}")
    return value


def parse_non_negative(raw: Any) -> float:
    value = _number(raw)
    if value < 0:
        raise ValueError(f"must be >= 0, got {value:g}")
    return value


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean (true/false, 1/0, yes/no): {text[:20]!r}")


def parse_ip(raw: Any) -> str:
    """Canonical text of an IPv4 or IPv6 address (zero-padded IPv4 and IPv6 forms compare equal)."""
    text = _text(raw).strip()
    if not text:
        raise ValueError("empty IP address")
    if "." in text and ":" not in text:
        parts = text.split(".")
        if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts):
            octets = [int(p) for p in parts]
            if all(o <= 255 for o in octets):
                return ".".join(str(o) for o in octets)
        raise ValueError(f"not an IPv4 address: {text[:45]!r}")
    try:
        address = ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        raise ValueError(f"not an IP address: {text[:45]!r}") from None
    mapped = address.ipv4_mapped
    return str(mapped) if mapped is not None else address.compressed


def enum_of(*allowed: str, default: str | None = None) -> Parser:
    choices = frozenset(allowed)

    def parse(raw: Any) -> str:
        text = _text(raw).strip().lower()
        if not text and default is not None:
            return default
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(sorted(choices))}; got {text[:30]!r}")
        return text

    parse.choices = choices  # type: ignore[attr-defined]  # the column-wise check reads them
    return parse


def int_between(low: int, high: int) -> Parser:
    def parse(raw: Any) -> int:
        text = _text(raw).strip()
        try:
            value = int(float(text)) if not isinstance(raw, int) else raw
        except ValueError:
            raise ValueError(f"not an integer: {text[:20]!r}") from None
        if not low <= value <= high or (not isinstance(raw, int) and float(text) != value):
            raise ValueError(f"must be an integer {low}..{high}, got {text[:20]!r}")
        return value

    return parse


def parse_country(raw: Any) -> str:
    text = _text(raw).strip().upper()
    if len(text) != 2 or not text.isascii() or not text.isalpha():
        raise ValueError(f"not an ISO 3166-1 alpha-2 code: {text[:10]!r}")
    return text


def parse_text(raw: Any) -> str:
    return _text(raw).strip()
