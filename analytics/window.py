"""Which fills and orders an analysis reads: a sliding window over the loaded days."""

from __future__ import annotations

import re

from analytics.projection import Window
from events.store import EventStore
from events.tables import DAY_MS
from ingest.values import parse_ts
from linkscope.errors import ConfigError

_UNITS = {"d": DAY_MS, "h": 3_600_000}


def parse_duration(text: str) -> int:
    """``30d`` or ``12h`` -> milliseconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([dh])\s*", text)
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(f"window {text!r}: use a positive number of days or hours, e.g. 30d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_time(text: str) -> int:
    """ISO 8601 with an offset or Z, epoch ms, or a plain date (UTC midnight)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        text = text.strip() + "T00:00:00Z"
    try:
        return parse_ts(text)
    except ValueError as exc:
        raise ConfigError(f"time {text!r}: {exc}") from exc


def resolve_window(
    events: EventStore,
    *,
    window: str | None = None,
    since: str | None = None,
    until: str | None = None,
    default_days: int | None = None,
) -> Window:
    """``since``/``until`` as given; a ``window`` (or the config's default length) ends at
    ``until`` or, without one, at the end of the latest loaded UTC day of fills or orders."""
    end = parse_time(until) if until else None
    start = parse_time(since) if since else None
    length = parse_duration(window) if window else None
    if length is None and start is None and default_days is not None:
        length = default_days * DAY_MS
    if length is not None:
        if start is not None:
            raise ConfigError("give either a window or a start time, not both")
        if end is None:
            days = events.days("trades") + events.days("orders")
            end = (max(days) + 1) * DAY_MS if days else None
        start = None if end is None else end - length
    if start is not None and end is not None and start >= end:
        raise ConfigError("the window is empty: its start is not before its end")
    return Window(start, end)
