"""Once the accounts are in, the event files (fills, orders) load beside the graph files
(logins, funding, history), on the real embedded stores; a failure on one lane stops both."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate
from tests.helpers import drop, snapshot

WAIT_S = 60.0
LOGIN_ROWS = 2_220  # in the file generated below


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lanes") / "data"
    generate(out, GeneratorConfig(accounts=300, seed=4, order_flow="light"))
    with (out / "input" / "logins.csv").open() as logins:
        assert sum(1 for _ in logins) - 1 == LOGIN_ROWS
    return out / "input"


Hook = Callable[[str, int | None], Callable[[int | None], None]]


def test_orders_load_while_the_logins_wait_for_the_graph(data: Path, store: FalkorEmbedded) -> None:
    """The logins' first batch waits until the orders file has started: with one lane the
    orders could not start before the logins end, and the load would stop at the wait."""
    orders_started = threading.Event()
    logins_waited: list[bool] = []

    def progress(name: str, total: int | None) -> Callable[[int | None], None]:
        def advance(rows: int | None) -> None:
            if name.startswith("orders") and rows:
                orders_started.set()
            if name.startswith("logins") and rows and not logins_waited:
                logins_waited.append(orders_started.wait(WAIT_S))

        return advance

    summary = ingest_directory(data, store, progress=progress)
    assert logins_waited == [True]
    counts = {f.name: (f.read, f.quarantined) for f in summary.files}
    assert [f.name for f in summary.files] == [
        "accounts", "logins", "funding", "trades", "orders", "enforcement_history"
    ]  # fmt: skip
    assert all(bad == 0 for _, bad in counts.values()), counts
    assert all(counts[name][0] > 0 for name in ("accounts", "logins", "trades", "orders"))
    assert summary.usable


def test_lanes_load_what_one_file_at_a_time_loads(
    data: Path, store: FalkorEmbedded, store_path: Path
) -> None:
    """Logins held back until the orders are done end in the same graph and counts as logins
    that finish first."""
    orders_done = threading.Event()

    def progress(name: str, total: int | None) -> Callable[[int | None], None]:
        def advance(rows: int | None) -> None:
            if name.startswith("orders") and rows is None:
                orders_done.set()
            if name.startswith("logins") and rows:
                orders_done.wait(WAIT_S)

        return advance

    late = ingest_directory(data, store, progress=progress)
    other = FalkorEmbedded(store_path, "lanes-other")
    try:
        early = ingest_directory(data, other)
        assert snapshot(store) == snapshot(other)
        assert [(f.name, f.ingested, f.duplicate, f.quarantined) for f in late.files] == [
            (f.name, f.ingested, f.duplicate, f.quarantined) for f in early.files
        ]
    finally:
        drop(other)
        other.close()


def test_a_failure_on_the_event_lane_stops_the_graph_files(
    data: Path, store: FalkorEmbedded
) -> None:
    logins_batches: list[int] = []
    failed = threading.Event()

    def progress(name: str, total: int | None) -> Callable[[int | None], None]:
        def advance(rows: int | None) -> None:
            if name.startswith("orders") and rows:
                failed.set()
                raise RuntimeError("disk gone")
            if name.startswith("logins") and rows:
                logins_batches.append(rows)
                # The orders fail while the logins are under way; each later batch then takes
                # long enough for the event lane to report its failure.
                if failed.wait(WAIT_S):
                    time.sleep(0.2)

        return advance

    with pytest.raises(RuntimeError, match="disk gone"):
        ingest_directory(data, store, progress=progress, batch_size=200)
    assert 0 < sum(logins_batches) < LOGIN_ROWS // 2  # stopped, not at the file's end
    run = store.run("MATCH (r:IngestRun) RETURN r.status").rows
    assert run == [["failed"]]
