"""A load looks for its keys among the stored rows only in the day files whose key range (by
their Parquet statistics) meets the load's: a daily load of sequentially numbered orders then
reads a day or two of keys, not the whole history; duplicates and conflicts are still found."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from events import store as event_store
from events.store import EventStore
from events.tables import DAY_MS
from tests.test_event_store import _orders


def _load(events: EventStore, rows: list[dict[str, object]], load: str) -> event_store.CommitResult:
    stager = events.stager("orders", load)
    stager.append_rows(rows, list(range(2, 2 + len(rows))))
    with events.commit(stager) as (result, _):
        return result


def _scanned(monkeypatch: pytest.MonkeyPatch, events: EventStore) -> list[list[str]]:
    """The day folders of every relation the store builds over chosen files, call by call."""
    calls: list[list[str]] = []
    original = events.scan_files

    def spy(table: str, files: list[Path]) -> str:
        calls.append(sorted(f.parent.name for f in files))
        return original(table, files)

    monkeypatch.setattr(events, "scan_files", spy)
    return calls


def _three_days(tmp_path: Path) -> EventStore:
    """Days 1-3 of 40 orders each, loaded one at a time: keys o1-0 .. o3-39."""
    events = EventStore(tmp_path / "events")
    for day in (1, 2, 3):
        _load(events, _orders(day, list(range(40))), f"day{day}")
    return events


def test_a_new_day_of_later_keys_reads_no_stored_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _three_days(tmp_path)
    calls = _scanned(monkeypatch, events)
    result = _load(events, _orders(4, list(range(40))), "day4")
    assert result.inserted == 40 and not result.duplicate and not result.conflicts
    assert all(files == [] for files in calls)  # the day files of days 1-3 were never read
    assert len(events.files("orders")) == 4


def test_a_conflict_with_an_older_day_is_found_in_the_days_the_keys_meet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _three_days(tmp_path)
    stored = {r["order_id"]: r for r in pq.read_table(events.files("orders")[1]).to_pylist()}
    again = dict(stored["o2-5"])
    changed = {**again, "order_id": "o2-7", "qty": 999.0}  # o2-7 is stored with qty 1.0
    rows = [*_orders(4, list(range(40))), again, changed]
    calls = _scanned(monkeypatch, events)
    result = _load(events, rows, "day4")
    assert result.inserted == 40 and result.duplicate == 1
    assert [(c.key, c.first_line) for c in result.conflicts] == [("o2-7", None)]
    # Keys o2-5 .. o4-39 meet days 2 and 3; day 1 (o1-0 .. o1-39) is never read.
    assert calls and all(files == ["day=1970-01-03", "day=1970-01-04"] for files in calls)
    day2 = pq.read_table(events.files("orders", 2 * DAY_MS, 3 * DAY_MS)).to_pylist()
    assert next(r for r in day2 if r["order_id"] == "o2-7")["qty"] == 1.0  # never overwritten


def test_a_day_file_without_key_statistics_is_always_read(tmp_path: Path) -> None:
    events = EventStore(tmp_path / "events")
    for day in (1, 2):
        _load(events, _orders(day, list(range(10))), f"day{day}")
    first, second = events.files("orders")
    table = pq.read_table(first)
    pq.write_table(table, first, write_statistics=False)
    assert events.files_meeting("orders", "x", "y") == [first]
    assert events.files_meeting("orders", "o2-3", "o2-4") == [first, second]
    assert events.files_meeting("orders", "o1-0", "o1-0") == [first]
    # The same load twice is one load, whatever the statistics say.
    result = _load(events, _orders(1, list(range(10))), "again")
    assert (result.inserted, result.duplicate) == (0, 10)
