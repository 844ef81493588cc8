"""The analysts' lane: ad-hoc Cypher runs beside the hot reads, never in their place.

Analyst queries may run for tens of seconds. They get their own small thread pool (not the
default pool the sync endpoints use, nor the hot reads' pool in ``api.cache``), at most
``cypher_concurrency`` at once and ``cypher_per_caller`` per key; a request waits up to
``cypher_queue_ms`` for a slot and is then answered 429 with ``Retry-After``. The embedded store
starts with query threads to spare for them (``LINKSCOPE_STORE_THREADS``), so the hot reads
always find an engine thread free.

The slots are lock files (``flock``) in a directory every worker process of one API shares, so
the limits hold for the whole API, not per ``--workers`` process; the kernel frees a dead
process' slots.
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread

from linkscope.errors import TooManyRequests

POLL_S = 0.05


class CypherLane:
    def __init__(self, directory: Path, total: int, per_caller: int, queue_s: float) -> None:
        self.directory = directory
        self.total, self.per_caller, self.queue_s = total, per_caller, queue_s
        self._threads: anyio.CapacityLimiter | None = None

    @asynccontextmanager
    async def slot(self, caller: str, limit_s: float) -> AsyncIterator[None]:
        """Hold one of the lane's slots for ``caller``'s query of at most ``limit_s``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.queue_s
        while True:
            held = self._take(caller, limit_s)
            if isinstance(held, list):
                break
            if time.monotonic() >= deadline:
                reason, full = held
                raise TooManyRequests(f"{reason}; try again later", self._retry_after(full))
            await asyncio.sleep(POLL_S)
        try:
            yield
        finally:
            for fd in held:
                os.close(fd)  # closing releases the lock

    def _take(self, caller: str, limit_s: float) -> list[int] | tuple[str, list[str]]:
        """Lock a slot of the caller's and one of the lane's, or say which was full."""
        name = re.sub(r"[^A-Za-z0-9_-]", "_", caller)
        own = [f"caller-{name}-{j}" for j in range(self.per_caller)]
        mine = self._lock_one(own, limit_s)
        if mine is None:
            n = self.per_caller
            return f"this key already runs {n} Cypher quer{'y' if n == 1 else 'ies'}", own
        shared = [f"slot-{i}" for i in range(self.total)]
        lane = self._lock_one(shared, limit_s)
        if lane is None:
            os.close(mine)
            return f"{self.total} Cypher queries are already running", shared
        return [lane, mine]

    def _lock_one(self, names: list[str], limit_s: float) -> int | None:
        for name in names:
            fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            # The file says when its query must have ended: Retry-After for the others.
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(time.time() + limit_s).encode(), 0)
            return fd
        return None

    def _retry_after(self, names: list[str]) -> int:
        """Seconds until one of these slots' queries must have ended (its time limit), >= 1."""
        ends = []
        for name in names:
            try:
                ends.append(float((self.directory / name).read_text() or 0))
            except (OSError, ValueError):
                continue
        soonest = min((e for e in ends if e > time.time()), default=time.time())
        return max(1, math.ceil(soonest - time.time()))

    async def run[T](self, fn: Callable[[], T]) -> T:
        """Run a store call in the lane's own threads."""
        if self._threads is None:
            self._threads = anyio.CapacityLimiter(self.total)
        return await anyio.to_thread.run_sync(fn, limiter=self._threads)
