"""The ingest stages each fill's accounts as positions among the known accounts, and the commit
codes a new day's accounts from them (``events.store.carried``) instead of looking every id up
again; rows staged without positions, and days with stored rows, are looked up as before. The
codes read back the day file's accounts row by row either way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from numpy.typing import NDArray

from events import store as event_store
from events.account_codes import AccountCodes
from events.location import events_for
from events.store import EventStore
from events.tables import DAY_MS
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from tests.helpers import ACCOUNTS_HEADER, TRADES_HEADER, drop, write_csv
from tests.test_detection import T0
from tests.test_event_store import DAY0, _accounts, _staged


def _fills(first: int, days: int, per_day: int) -> list[list[object]]:
    return [
        [f"T{d}-{k}", DAY0 + d * DAY_MS + k * 1_000, ["BTC_USDT", "ETH_USDT"][k % 2], 100, 1,
         f"A{(k * 7 + d) % 40}", f"A{(k * 3 + 1) % 40}", "buy", "spot"]
        for d in range(first, first + days)
        for k in range(per_day)
    ]  # fmt: skip


def _codes_read_back(events: EventStore) -> None:
    """Every day's codes name the day file's accounts, row by row."""
    reader = events.column_reader("trades")
    for column in ("seller_id", "buyer_id"):
        coded = reader.codes(column)
        assert coded is not None, "every day file has codes of its version"
        codes, registry = coded
        ids = pq.read_table(events.files("trades"), columns=[column])[column].to_pylist()
        assert registry.take(pa.array(codes)).to_pylist() == ids


def test_a_new_days_accounts_are_coded_from_the_staged_positions(
    tmp_path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "load"
    write_csv(folder / "accounts.csv", ACCOUNTS_HEADER, _accounts(40))
    write_csv(folder / "trades.csv", TRADES_HEADER, _fills(0, 3, 200))
    looked_up: list[int] = []
    original = AccountCodes.of_rows

    def spy(self: AccountCodes, table: str, rows: pa.Table) -> list[NDArray[np.int32]]:
        looked_up.append(rows.num_rows)
        return original(self, table, rows)

    monkeypatch.setattr(AccountCodes, "of_rows", spy)
    monkeypatch.setattr(event_store, "SLICE_ROWS", 150)  # several slices a day
    monkeypatch.setattr(event_store, "SAMPLE_EVERY", 1)
    with FalkorEmbedded(store_path, "positions") as store:
        try:
            summary = ingest_directory(folder, store)
            assert next(f for f in summary.files if f.name == "trades").ingested == 600
            assert looked_up == []  # no id was looked up again
            events = events_for(store)
            assert len(events.files("trades")) == 3
            _codes_read_back(events)
            # More fills of a stored day (old rows + new): looked up, and still right.
            more = tmp_path / "more"
            write_csv(more / "accounts.csv", ACCOUNTS_HEADER, _accounts(40))
            rows = [[f"X{k}", *r[1:]] for k, r in enumerate(_fills(2, 2, 50))]
            write_csv(more / "trades.csv", TRADES_HEADER, rows)
            summary = ingest_directory(more, store)
            assert next(f for f in summary.files if f.name == "trades").ingested == 100
            assert sum(looked_up) == 200 + 50  # day 2: its 200 stored + 50 new; day 3: none
            _codes_read_back(events)
        finally:
            drop(store)


def test_rows_staged_without_positions_are_looked_up(tmp_path: Path) -> None:
    """Rows staged row by row (as a CSV with quotes is) carry no positions."""
    events = EventStore(tmp_path / "events")
    rows = [
        [f"T{k}", T0 + k * 1_000, "BTC_USDT", 100, 1, f"A{k % 7}", f"A{(k + 3) % 7}", "buy", "spot"]
        for k in range(30)
    ]
    stager = _staged(events, rows, "load")
    stager.known = pa.array([f"A{k}" for k in range(7)])
    with events.commit(stager):
        pass
    _codes_read_back(events)
