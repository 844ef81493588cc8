"""The analysis reads order statistics a day at a time and keeps the rows its detectors can use:
the same rows and the same typical order sizes as a whole read filtered afterwards, on
generated data with realistic order flow in the real event store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from analytics.behaviour import bot_rows
from analytics.config import AnalysisConfig
from analytics.order_candidates import read_order_candidates
from analytics.projection import (
    Accounts,
    FloatArray,
    OrderDays,
    Window,
    read_accounts,
    read_order_days,
)
from analytics.run import order_rows
from analytics.spoofing import candidate_days
from events.location import events_for
from events.store import EventStore
from events.tables import DAY_MS
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth.generator import GeneratorConfig, generate
from tests.helpers import drop


@pytest.fixture(scope="module")
def loaded(
    store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EventStore, Accounts]]:
    data = tmp_path_factory.mktemp("orders")
    generate(data, GeneratorConfig(accounts=2_000, seed=12))
    store = FalkorEmbedded(store_path, "order_candidates")
    try:
        ingest_directory(data / "input", store)
        yield events_for(store), read_accounts(store)
    finally:
        drop(store)
        store.close()


def _oracle_typical(days: OrderDays) -> FloatArray:
    """Per symbol, the median of the mean order size over all its rows, by a mask per symbol."""
    mean_size = days.qty_placed / np.maximum(days.placed, 1)
    return np.array(
        [float(np.median(mean_size[days.symbol == s])) for s in range(len(days.symbols))]
    )


def _same(a: OrderDays, b: OrderDays) -> None:
    assert a.symbols == b.symbols
    for name in ("account", "symbol", "day", "placed", "via_api", "max_qty", "gap_mad_ms"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("days_in_window", [None, 2])
def test_day_at_a_time_keeps_what_a_whole_read_filtered_keeps(
    loaded: tuple[EventStore, Accounts], days_in_window: int | None
) -> None:
    events, accounts = loaded
    window = Window()
    if days_in_window is not None:
        first = events.days("order_days")[1]
        window = Window(first * DAY_MS, (first + days_in_window) * DAY_MS)
    cfg = AnalysisConfig()
    whole = read_order_days(events, accounts, window)
    typical = _oracle_typical(whole)
    bots = bot_rows(whole, accounts, cfg.behaviour)
    spoof = candidate_days(whole, typical, cfg.behaviour)
    assert spoof.sum() > 0 and (bots.sum() > 0 or days_in_window)  # rows of both detectors
    assert (bots | spoof).sum() < len(whole) / 10  # and most rows are of no use to them

    found = read_order_candidates(events, accounts, window, order_rows(accounts, cfg))

    assert found.rows == len(whole)
    np.testing.assert_array_equal(found.typical, typical)
    _same(found.days, whole.take(bots | spoof))
    assert len(set(found.days.day.tolist())) > 1  # kept from several days' files


def test_an_empty_window_reads_nothing(loaded: tuple[EventStore, Accounts]) -> None:
    events, accounts = loaded
    window = Window(0, DAY_MS)  # 1970-01-01
    found = read_order_candidates(events, accounts, window, order_rows(accounts, AnalysisConfig()))
    assert (found.rows, len(found.days)) == (0, 0)
