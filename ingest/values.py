"""Parsers for the contract's value types. Each raises ``ValueError`` with a reason a person can act on."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

Parser = Callable[[Any], Any]

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators. An id holding one
# looks equal to another id on screen, breaks line-based tools downstream, and NUL is refused
# by the store's query parser (one such id used to fail a whole ingest).
# C0/C1 controls and DEL. Not U+2028/U+2029: they are separators (Zl, Zp), not controls, an
# exchange may hold them in an id, and every page escapes them (the hostile-id UI test ingests
# such ids on purpose).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Free text (user agents, clauses) may hold tabs and line breaks, not other C0 controls or DEL.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCALARS = (str, int, float, Decimal, datetime, date)
_DIGITS = frozenset("0123456789")


def _text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, _SCALARS):
        # Parquet list/struct/map/binary columns arrive as list, dict, tuple or bytes.
        raise ValueError(f"{type(raw).__name__} value where a plain value is expected")
    return str(raw)


def is_control_free(text: str) -> bool:
    """No C0/C1 control character or DEL: what an id may not contain."""
    return _CONTROL.search(text) is None


def control_char(text: str) -> str | None:
    """The first character an id may not contain, as ``U+XXXX``, or None."""
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def parse_id(raw: Any) -> str:
    if raw.__class__ is str:  # CSV: every value; the common case first
        value = raw.strip()
    elif isinstance(raw, bool | float):
        # 1.0 and True would silently become the ids "1.0" and "True".
        raise ValueError(f"id must be text or an integer, got {type(raw).__name__}")
    else:
        value = _text(raw).strip()
    if not value:
        raise ValueError("empty id")
    # isprintable() is C-fast and true for nearly every id; the regex decides the rest.
    if not value.isprintable():
        bad = control_char(value)
        if bad is not None:
            raise ValueError(f"id contains control character {bad}")
    return value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_ts(raw: Any) -> int:
    """ISO 8601 with an offset or Z, or integer epoch milliseconds; returns UTC epoch ms."""
    if raw.__class__ is str:
        text = raw.strip()
    elif isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueError("timestamp has no UTC offset")
        try:
            return int(raw.timestamp() * 1000)
        except (OverflowError, ValueError):
            raise ValueError(f"timestamp out of range: {raw!s}") from None
    elif isinstance(raw, bool | float):
        raise ValueError(f"timestamp must be text or integer epoch ms, got {type(raw).__name__}")
    elif isinstance(raw, int):
        return _epoch_ms(raw)
    else:
        text = _text(raw).strip()
    if not text:
        raise ValueError("empty timestamp")
    if text[-1] in _DIGITS and text.lstrip("-").isdigit():
        if not text.isascii() or len(text) > 19:  # ascii: "²" is a digit to isdigit()
            raise ValueError(f"epoch milliseconds out of range: {text[:40]!r}")
        return _epoch_ms(int(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not ISO 8601 or epoch milliseconds: {text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without offset or Z: {text[:40]!r}")
    try:
        delta = parsed - _EPOCH
    except OverflowError:  # year 1 with a positive offset is before year 1 in UTC
        raise ValueError(f"timestamp out of range: {text[:40]!r}") from None
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


# The epoch ms of 0001-01-01 and 9999-12-31T23:59:59.999Z: what ISO 8601 text can say. The store
# keeps int64 and FalkorDB turns a larger integer into the int64 maximum without a word.
EPOCH_MS_MIN, EPOCH_MS_MAX = -62_135_596_800_000, 253_402_300_799_999


def _epoch_ms(value: int) -> int:
    if not EPOCH_MS_MIN <= value <= EPOCH_MS_MAX:
        raise ValueError(f"epoch milliseconds out of range (years 1..9999): {str(value)[:24]}")
    return value


def ts_out_of_range(value: int, earliest_ms: int, latest_ms: int) -> str | None:
    """Why epoch-ms ``value`` is implausible (outside earliest..latest), or None."""
    if earliest_ms <= value <= latest_ms:
        return None
    return (
        f"timestamp {_iso(value)} outside the plausible range "
        f"{_iso(earliest_ms)} .. {_iso(latest_ms)}"
    )


def _iso(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{ms} ms"


def _number(raw: Any) -> float:
    if raw.__class__ is str:
        try:
            value = float(raw)  # float() ignores surrounding whitespace itself
        except ValueError:
            text = raw.strip()
            raise ValueError(
                f"not a decimal number: {text[:40]!r}" if text else "empty number"
            ) from None
    elif isinstance(raw, bool):
        raise ValueError("boolean is not a number")
    elif isinstance(raw, int | float | Decimal):
        try:
            value = float(raw)
        except OverflowError:
            raise ValueError("number is not finite (too large to represent)") from None
    else:
        text = _text(raw).strip()
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"not a decimal number: {text[:40]!r}") from None
    if value - value != 0.0:  # NaN or infinity; cheaper than math.isfinite
        raise ValueError("number is not finite (NaN, infinity, or too large to represent)")
    return value


def number_too_large(value: float, maximum: float) -> str | None:
    """Why ``value`` (already finite) exceeds ``maximum`` in magnitude, or None."""
    if abs(value) <= maximum:
        return None
    return f"{value:g} is larger than the maximum {maximum:g}"


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
        if isinstance(raw, bool):
            raise ValueError(f"must be an integer {low}..{high}, got a boolean")
        text = _text(raw).strip()
        try:
            value = int(float(text)) if not isinstance(raw, int) else raw
        except (ValueError, OverflowError):
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
    value = _text(raw).strip()
    found = _TEXT_CONTROL.search(value)
    if found is not None:
        raise ValueError(f"text contains control character U+{ord(found.group()):04X}")
    return value
