"""The embedded server starts with allocator settings that hand large freed blocks back to the
system (a query's parameters, a batch of rows), so its memory stays near what it uses. The
server overwrites its own environment block (its process title), so the settings are seen at
work: the memory a large parameter leaves behind, beside a server told otherwise."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from graph.falkor_embedded import SERVER_MALLOC_ENV, FalkorEmbedded

MB = 1_000_000


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def left_behind(path: Path) -> float:
    """Server memory (MB) still held after queries with large parameters have returned."""
    store = FalkorEmbedded(path, "linkscope")
    try:
        pid = store.server_pid
        assert pid is not None
        server = psutil.Process(pid)
        base = server.memory_info().rss
        for size in (24 * MB, 16 * MB, 16 * MB):
            assert store.run("RETURN size($p) AS n", {"p": "x" * size}).scalar() == size
        # Redis trims an idle connection's query buffer on its own clock: the least over a while.
        least = server.memory_info().rss
        for _ in range(16):
            time.sleep(0.25)
            least = min(least, server.memory_info().rss)
        return float(least - base) / 2**20
    finally:
        store.close()


def test_large_blocks_go_back_to_the_system(tmp_path: Path) -> None:
    before = {k: os.environ.get(k) for k in SERVER_MALLOC_ENV}
    ours = left_behind(tmp_path / "ours")
    assert {k: os.environ.get(k) for k in SERVER_MALLOC_ENV} == before  # ours left as it was
    # A variable set before wins: here glibc's own growth of the mapping threshold.
    with environment({"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_ARENA_MAX": "8"}):
        told_otherwise = left_behind(tmp_path / "otherwise")
    assert ours < 12, ours
    assert told_otherwise > 30, told_otherwise
