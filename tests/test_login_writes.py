"""Login times reach the graph once per (account, identifier) and gathering window, whatever
the file's row order, on the real embedded store."""

from __future__ import annotations

import itertools
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from graph import statements as st
from graph.falkor_embedded import FalkorEmbedded
from ingest import loaders
from ingest.contract import ACCOUNTS, LOGINS
from ingest.pipeline import ingest_directory
from tests.helpers import drop, header, rows_per_statement, snapshot, write_csv

_graphs = itertools.count()
T0 = 1_790_000_000_000


def _logins() -> list[list[Any]]:
    """12 accounts, each with 1-3 IPs and a device, 4-9 logins per pair, a repeated row."""
    rng = random.Random(5)
    rows: list[list[Any]] = []
    for a in range(12):
        for k in range(1 + a % 3):
            ip = f"10.0.{a % 4}.{k}" if a % 5 else f"2001:db8::{a}:{k}"
            for _ in range(4 + (a + k) % 6):
                rows.append([f"A{a}", T0 + rng.randrange(10**9), ip, f"dev-{a}", "ua", "web"])
    rows.append(list(rows[7]))  # the same login twice
    return rows


def _write_files(folder: Path, rows: list[list[Any]]) -> None:
    accounts = [[f"A{a}", "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", "active"]
                for a in range(12)]  # fmt: skip
    write_csv(folder / "accounts.csv", header(ACCOUNTS), accounts)
    write_csv(folder / "logins.csv", header(LOGINS), rows)


def _load(base: Path, store_path: Path, rows: list[list[Any]]) -> tuple[Any, tuple[int, int]]:
    folder = base / f"d{next(_graphs)}"
    _write_files(folder, rows)
    store = FalkorEmbedded(store_path, f"logins{next(_graphs)}")
    try:
        summary = ingest_directory(folder, store, batch_size=10)
        logins = next(f for f in summary.files if f.name == "logins")
        again = next(f for f in ingest_directory(folder, store).files if f.name == "logins")
        assert (again.ingested, again.duplicate) == (0, len(rows))  # re-running changes nothing
        return snapshot(store), (logins.ingested, logins.duplicate)
    finally:
        drop(store)
        store.close()


@pytest.mark.parametrize(
    ("first", "cap", "rows_at"),
    [(3, 3, 10**6), (3, 12, 10**6), (7, 7, 10**6), (10**6, 10**6, 10**6), (10**6, 10**6, 15)],
)
def test_time_ordered_logins_equal_logins_grouped_by_account(
    tmp_path: Path,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    first: int,
    cap: int,
    rows_at: int,
) -> None:
    rows = _logins()
    grouped = _load(tmp_path, store_path, sorted(rows, key=lambda r: (r[0], r[2], r[1])))
    monkeypatch.setattr(loaders, "LOGIN_FIRST_WINDOW", first)  # windows of a few pairs
    monkeypatch.setattr(loaders, "LOGIN_FLUSH_AT", cap)
    monkeypatch.setattr(loaders, "LOGIN_ROWS_AT", rows_at)  # or of a few logins
    by_time = _load(tmp_path, store_path, sorted(rows, key=lambda r: r[1]))
    assert by_time == grouped
    assert grouped[1] == (len(rows) - 1, 1)


def _pairs_sent(
    tmp_path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[list[Any]]
) -> int:
    with monkeypatch.context() as patch:
        sent = rows_per_statement(patch, st.MERGE_LOGIN_IPS)
        _load(tmp_path, store_path, rows)
    return sum(sent)


def test_each_pair_is_written_once_per_window(
    tmp_path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A time-ordered file in batches of 10 rows: one write per (account, IP) pair, not one per
    batch it appears in."""
    rows = sorted(_logins(), key=lambda r: r[1])
    pairs = len({(r[0], r[2]) for r in rows})
    # the first load writes each pair once; its re-run (same file) once more
    assert _pairs_sent(tmp_path, store_path, monkeypatch, rows) == 2 * pairs


def test_windows_grow_while_their_accounts_come_back(
    tmp_path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In time order most accounts come back in later windows: the windows grow, so fewer pairs
    are written again than with windows that stay small; grouped by account they stay small
    and a pair is written again only where a window's end cuts its account's rows."""
    by_time = sorted(_logins(), key=lambda r: r[1])
    monkeypatch.setattr(loaders, "LOGIN_FIRST_WINDOW", 4)
    monkeypatch.setattr(loaders, "LOGIN_FLUSH_AT", 4)
    fixed = _pairs_sent(tmp_path, store_path, monkeypatch, by_time)
    monkeypatch.setattr(loaders, "LOGIN_FLUSH_AT", 10**6)
    growing = _pairs_sent(tmp_path, store_path, monkeypatch, by_time)
    pairs = len({(r[0], r[2]) for r in by_time})
    grouped = sorted(by_time, key=lambda r: (r[0], r[2], r[1]))
    once = _pairs_sent(tmp_path, store_path, monkeypatch, grouped)
    # grouped, only a pair cut by a batch's end is in two windows: one per load at most
    assert 2 * pairs <= once <= 2 * pairs + 6 < growing < fixed


def test_statements_grow_with_the_graph_within_the_backends_cap(store_path: Path) -> None:
    """10k pairs per statement up to 200k accounts (M's server heap), larger beyond (L's
    statements each carry a cost that grows with the graph), never above the backend's cap."""
    assert loaders.login_statement_pairs(100_000) == 10_000
    assert loaders.login_statement_pairs(400_000) == 20_000
    assert loaders.login_statement_pairs(1_000_000) == 50_000
    assert loaders.login_statement_pairs(10**8) == 50_000
    store = FalkorEmbedded(store_path, f"logins{next(_graphs)}")
    try:
        nodes = {f"A{i}": i for i in range(1_000_000)}
        loader = loaders.LoginLoader(store, "run", nodes)
        assert (loader.chunk, loader.window) == (50_000, 50_000)
        store.max_batch_rows = 20_000  # as Neo4j's backend caps a statement
        assert loaders.LoginLoader(store, "run", nodes).chunk == 20_000
    finally:
        store.close()


def test_the_next_window_is_read_while_the_last_one_is_written(
    tmp_path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a window of logins is written, the ingest reads the batches of the next one: the
    store is not left idle while a whole window is read (at L, ~100 of 254 s were that)."""
    monkeypatch.setattr(loaders, "LOGIN_FIRST_WINDOW", 12)
    monkeypatch.setattr(loaders, "LOGIN_FLUSH_AT", 12)  # ~10 batches of 5 rows a window
    read_on = threading.Event()
    prepared = [0]  # batches prepared so far
    first_window: list[int] = []  # the batch whose prepare returned the first window
    released: list[bool] = []
    prepare, write = loaders.LoginLoader.prepare, loaders.LoginLoader.write

    def counting_prepare(self: loaders.LoginLoader, rows: list[dict[str, Any]]) -> Any:
        prepared[0] += 1
        if first_window and prepared[0] >= first_window[0] + 3:
            read_on.set()
        job = prepare(self, rows)
        if job is not None and not first_window:
            first_window.append(prepared[0])
        return job

    def waiting_write(self: loaders.LoginLoader, job: Any) -> None:
        if not released:  # the first window is written once three more batches were read
            released.append(read_on.wait(timeout=10))
        write(self, job)

    monkeypatch.setattr(loaders.LoginLoader, "prepare", counting_prepare)
    monkeypatch.setattr(loaders.LoginLoader, "write", waiting_write)
    rows = sorted(_logins(), key=lambda r: (r[0], r[2], r[1]))
    folder = tmp_path / "overlap"
    _write_files(folder, rows)
    store = FalkorEmbedded(store_path, f"logins{next(_graphs)}")
    try:
        summary = ingest_directory(folder, store, batch_size=5)
        logins = next(f for f in summary.files if f.name == "logins")
        assert released == [True]
        assert (logins.ingested, logins.duplicate) == (len(rows) - 1, 1)
        loaded = snapshot(store)
    finally:
        drop(store)
        store.close()
    monkeypatch.undo()
    assert loaded == _load(tmp_path, store_path, rows)[0]  # the same graph as a plain load
