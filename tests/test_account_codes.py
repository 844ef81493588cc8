"""Account codes beside the day files (``events.account_codes``), on real loads into the real
event store and graph: the analysis reads the same fills through them as through the id
strings, codes never change once given, and codes of another version of a day are not used."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.projection import Trades, Window, read_accounts, read_trades
from events.account_codes import FOLDER, REGISTRY, AccountCodes
from events.location import events_for
from events.store import EventStore
from events.tables import DAY_MS
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from tests.helpers import ACCOUNTS_HEADER, TRADES_HEADER, write_csv
from tests.test_event_store import DAY0


def _load(base: Path, name: str, accounts: int, days: range, shift: int = 0) -> Path:
    write_csv(
        base / name / "accounts.csv",
        ACCOUNTS_HEADER,
        [
            [f"acct-{i:03d}", "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", "active"]
            for i in range(accounts)
        ],
    )
    write_csv(
        base / name / "trades.csv",
        TRADES_HEADER,
        [
            [f"{name}-{d}-{k}", DAY0 + d * DAY_MS + k * 60_000, f"S{k % 3}_USDT", 100 + k, 1,
             f"acct-{(7 * k + d + shift) % accounts:03d}", f"acct-{(3 * k + 1) % accounts:03d}",
             "buy", "spot"]
            for d in days
            for k in range(50)
        ],
    )  # fmt: skip
    return base / name


def _same(a: Trades, b: Trades) -> None:
    assert a.trade_id.equals(b.trade_id)
    for name in ("ts", "seller", "buyer", "symbol", "market", "qty", "price"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (a.symbols, a.markets) == (b.symbols, b.markets)


def _read(store: FalkorEmbedded, events: EventStore, window: Window = Window()) -> Trades:
    return read_trades(events, read_accounts(store), window)


def _coded(events: EventStore, window: Window = Window()) -> bool:
    reader = events.column_reader("trades", since=window.since, until=window.until)
    return reader.codes("seller_id") is not None and reader.codes("buyer_id") is not None


def _codes_file(events: EventStore, day: int) -> Path:
    """The codes file of the ``day``-th day file."""
    return events.root / FOLDER / "trades" / f"{events.files('trades')[day].parent.name}.parquet"


def _registry(events: EventStore) -> list[str]:
    return list(pq.read_table(events.root / FOLDER / REGISTRY).column(0).to_pylist())


def _without_codes(events: EventStore, work: Path) -> EventStore:
    """The same day files in another folder, without their codes."""
    copy = work / "uncoded"
    shutil.copytree(events.root, copy, ignore=shutil.ignore_patterns(FOLDER))
    return EventStore(copy)


def test_fills_read_through_codes_equal_fills_read_through_ids(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    ingest_directory(_load(tmp_path, "first", 5, range(2)), store)
    # New accounts, a day rewritten (day 1: old rows + new ones), new days.
    ingest_directory(_load(tmp_path, "second", 12, range(1, 4), shift=1), store)
    events = events_for(store)
    plain = _without_codes(events, tmp_path)
    windows = [Window(), Window(DAY0 + DAY_MS + 3_600_000, DAY0 + 3 * DAY_MS)]
    for window in windows:
        assert _coded(events, window) and not _coded(plain, window)
        _same(_read(store, events, window), _read(store, plain, window))
    registry = _registry(events)
    assert sorted(registry) == [f"acct-{i:03d}" for i in range(12)]


def test_codes_once_given_never_change(tmp_path: Path, store: FalkorEmbedded) -> None:
    ingest_directory(_load(tmp_path, "first", 5, range(2)), store)
    events = events_for(store)
    before = _registry(events)
    day0 = _codes_file(events, 0)
    codes0 = pq.read_table(day0)
    ingest_directory(_load(tmp_path, "second", 12, range(1, 4), shift=1), store)
    after = _registry(events)
    assert after[: len(before)] == before and len(after) == 12
    assert pq.read_table(day0).equals(codes0)  # a day the second load did not touch


def test_codes_of_another_version_of_a_day_are_not_used(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    ingest_directory(_load(tmp_path, "first", 5, range(2)), store)
    events = events_for(store)
    day1 = _codes_file(events, 1)
    old = pq.read_table(day1)
    ingest_directory(_load(tmp_path, "second", 12, range(1, 3), shift=1), store)
    expected = _read(store, _without_codes(events, tmp_path))
    assert _coded(events)
    pq.write_table(old, day1)  # day 1's codes of before the second load rewrote it
    assert not _coded(events)
    _same(_read(store, events), expected)
    (events.root / FOLDER / REGISTRY).unlink()
    assert not _coded(events)
    _same(_read(store, events), expected)


def test_codes_past_the_registry_are_not_used(tmp_path: Path, store: FalkorEmbedded) -> None:
    ingest_directory(_load(tmp_path, "first", 12, range(2)), store)
    events = events_for(store)
    expected = _read(store, _without_codes(events, tmp_path))
    registry = events.root / FOLDER / REGISTRY
    pq.write_table(pq.read_table(registry).slice(0, 3), registry)
    assert not _coded(events)
    _same(_read(store, events), expected)


def test_a_crash_between_a_days_codes_and_its_file_leaves_the_old_day_readable(
    tmp_path: Path, store: FalkorEmbedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The codes of a day land before the day file; dying between the two leaves codes of a
    version that is not there, which the reader ignores."""
    real_replace = os.replace
    fails_on = {"name": "part.parquet"}

    def day_file_fails(src: object, dst: object) -> None:
        if str(dst).endswith(fails_on["name"]):
            raise OSError("disk pulled")
        real_replace(src, dst)  # type: ignore[arg-type]

    ingest_directory(_load(tmp_path, "first", 5, range(2)), store)
    events = events_for(store)
    expected = _read(store, events)
    monkeypatch.setattr(os, "replace", day_file_fails)
    with pytest.raises(OSError, match="disk pulled"):
        ingest_directory(_load(tmp_path, "second", 12, range(1, 2), shift=1), store)
    monkeypatch.setattr(os, "replace", real_replace)
    assert not _coded(events)  # day 1's codes are of the version that did not land
    _same(_read(store, events), expected)
    # Dying as the registry lands leaves its temporary file; the next load removes it.
    fails_on["name"] = REGISTRY
    monkeypatch.setattr(os, "replace", day_file_fails)
    with pytest.raises(OSError, match="disk pulled"):
        ingest_directory(_load(tmp_path, "third", 14, range(1, 2), shift=2), store)
    monkeypatch.setattr(os, "replace", real_replace)
    assert list(events.root.rglob(".tmp-*"))
    ingest_directory(_load(tmp_path, "second", 12, range(1, 2), shift=1), store)
    assert not list(events.root.rglob(".tmp-*"))
    assert _coded(events)
    _same(_read(store, events), _read(store, _without_codes(events, tmp_path)))


def test_a_codes_file_cut_short_means_reading_the_ids(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    """Codes files are not fsynced (the day file is): one cut short by a crash of the machine
    is read as absent."""
    ingest_directory(_load(tmp_path, "first", 5, range(2)), store)
    events = events_for(store)
    expected = _read(store, _without_codes(events, tmp_path))
    day0 = _codes_file(events, 0)
    day0.write_bytes(day0.read_bytes()[:40])
    assert not _coded(events)
    _same(_read(store, events), expected)


def test_codes_keep_the_registry_and_give_new_ids_the_next_codes(tmp_path: Path) -> None:
    codes = AccountCodes(tmp_path)
    codes.register(pa.array(["b", "a", "c"]))
    seller = pa.chunked_array([pa.array(["a", None, "x", "b"]), pa.array(["y", "x"])])
    buyer = pa.chunked_array([pa.array([None, None], pa.string())])
    coded = codes.codes_of([seller, buyer])
    assert [c.tolist() for c in coded] == [[1, -1, 3, 0, 4, 3], [-1, -1]]
    assert codes.codes_of([pa.chunked_array([pa.array([None], pa.string())])])[0].tolist() == [-1]
    assert codes.codes_of([pa.chunked_array([], pa.string())])[0].tolist() == []
    codes._save()
    assert AccountCodes(tmp_path).registry().to_pylist() == ["b", "a", "c", "x", "y"]
    # Every id coded already (a day's usual case, looked up row by row): the same codes.
    known = [pa.chunked_array([pa.array(["y", None, "b"])]), pa.chunked_array([pa.array(["c"])])]
    assert [c.tolist() for c in codes.codes_of(known)] == [[4, -1, 0], [2]]
    assert len(codes._load()) == 5


def test_a_load_registers_its_accounts_once_whether_read_column_or_row_wise(
    tmp_path: Path, store: FalkorEmbedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging tells the commit which accounts its rows name, so the registry is written
    once per load, before any day lands: also for accounts only rows read row-wise name (a
    quoted line break sends the rest of a file to the row-wise reader)."""
    base = _load(tmp_path, "mixed", 12, range(2))  # the fills name acct-000 .. acct-011
    write_csv(
        base / "accounts.csv",
        ACCOUNTS_HEADER,
        [
            [f"acct-{i:03d}", "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", "active"]
            for i in range(14)
        ],
    )
    lines = (base / "trades.csv").read_text().splitlines(keepends=True)
    cells = lines[-1].split(",")  # acct-012 and acct-013: named by the last row only
    lines[-1] = ",".join([*cells[:5], "acct-012", "acct-013", *cells[7:]])
    cells = lines[30].rstrip("\n").split(",")  # a quoted line break, in a row then rejected
    lines[30] = ",".join([*cells[:-1], '"sp\not"']) + "\n"
    cells = lines[11].rstrip("\n").split(",")  # a seller nobody knows
    lines[11] = ",".join([*cells[:5], "nobody", *cells[6:]]) + "\n"
    (base / "trades.csv").write_text("".join(lines))
    saves: list[int] = []
    original = AccountCodes._save

    def counted(self: AccountCodes) -> None:
        saves.append(len(self._load()) - self._stored)
        original(self)

    monkeypatch.setattr(AccountCodes, "_save", counted)
    summary = ingest_directory(base, store, batch_size=20)
    trades = next(f for f in summary.files if f.name == "trades")
    assert (trades.ingested, trades.quarantined) == (98, 2)
    events = events_for(store)
    named = pq.read_table(events.files("trades"), columns=["seller_id", "buyer_id"])
    used = set(named.column(0).to_pylist()) | set(named.column(1).to_pylist())
    assert {"acct-012", "acct-013"} <= used
    assert set(_registry(events)) == used
    assert [n for n in saves if n] == [14]  # one write added codes: the commit's, for all
    assert _coded(events)
