"""The analysts' lane: ad-hoc Cypher runs beside the hot reads, never in their place.

Analyst queries may run for tens of seconds. They get their own small thread pool (not the
default pool the sync endpoints use, nor the hot reads' pool in ``api.cache``), at most
``cypher_concurrency`` at once per API process and ``cypher_per_caller`` per key; a request
waits up to ``cypher_queue_ms`` for a slot and is then answered 429 with ``Retry-After``. The
embedded store starts with query threads to spare for them (``LINKSCOPE_STORE_THREADS``), so
the hot reads always find an engine thread free.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread

from linkscope.errors import TooManyRequests


class CypherLane:
    def __init__(self, total: int, per_caller: int, queue_s: float) -> None:
        self.total, self.per_caller, self.queue_s = total, per_caller, queue_s
        self._running: Counter[str] = Counter()
        self._ends: dict[int, float] = {}  # slot -> latest end (its query's time limit)
        self._tokens = itertools.count()
        self._changed: asyncio.Condition | None = None
        self._threads: anyio.CapacityLimiter | None = None

    def _free(self, caller: str) -> bool:
        return sum(self._running.values()) < self.total and self._running[caller] < self.per_caller

    def _retry_after(self) -> int:
        """Seconds until a running query must have ended (its time limit), at least 1."""
        soonest = min(self._ends.values(), default=time.monotonic())
        return max(1, math.ceil(soonest - time.monotonic()))

    @asynccontextmanager
    async def slot(self, caller: str, limit_s: float) -> AsyncIterator[None]:
        """Hold one of the lane's slots for ``caller``'s query of at most ``limit_s``."""
        if self._changed is None:  # built on the event loop that uses it
            self._changed = asyncio.Condition()
        changed = self._changed
        deadline = time.monotonic() + self.queue_s
        async with changed:
            while not self._free(caller):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._refusal(caller)
                try:
                    await asyncio.wait_for(changed.wait(), remaining)
                except TimeoutError:
                    raise self._refusal(caller) from None
            self._running[caller] += 1
            token = next(self._tokens)
            self._ends[token] = time.monotonic() + limit_s
        try:
            yield
        finally:
            async with changed:
                self._running[caller] -= 1
                del self._ends[token]
                changed.notify_all()

    def _refusal(self, caller: str) -> TooManyRequests:
        if self._running[caller] >= self.per_caller:
            what = f"this key already runs {self.per_caller} Cypher quer{'y' if self.per_caller == 1 else 'ies'}"
        else:
            what = f"{self.total} Cypher queries are already running"
        return TooManyRequests(f"{what}; try again later", self._retry_after())

    async def run[T](self, fn: Callable[[], T]) -> T:
        """Run a store call in the lane's own threads."""
        if self._threads is None:
            self._threads = anyio.CapacityLimiter(self.total)
        return await anyio.to_thread.run_sync(fn, limiter=self._threads)
