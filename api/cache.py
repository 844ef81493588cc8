"""Read caches for the hot endpoints. Answers are keyed by the data version they were read at:
the latest ingest, the current analysis run (a run's groups never change once written) and the
number of decisions made. The version itself is read at most once per ``CURRENT_TTL_S`` per
process: a new run or a decision made through another worker process shows within a second;
one made through this process, at once."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import anyio
import anyio.to_thread

from graph import api_statements as q
from graph.backend import GraphBackend

CURRENT_TTL_S = 1.0
MAX_ENTRIES = 50_000


async def off_loop[T](fn: Callable[[], T]) -> T:
    """Run a short store call in its own small thread pool: slow endpoints (which run in the
    default pool) cannot starve the hot paths of threads."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(HOT_THREADS)
    return await anyio.to_thread.run_sync(fn, limiter=_limiter)


HOT_THREADS = 16
_limiter: anyio.CapacityLimiter | None = None


class Version(NamedTuple):
    ingest: str
    run_id: str | None
    decisions: int


class ReadCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._current: tuple[float, Version] = (0.0, Version("", None, 0))

    def version(self, store: GraphBackend) -> Version:
        """(ingest marker, current analysis run, decisions made): what cached answers depend on."""
        at, value = self._current
        if time.monotonic() - at < CURRENT_TTL_S:
            return value
        rows = store.read(q.DATA_VERSION).rows
        ingested, runs, run_id, decisions = rows[0] if rows else (None, 0, None, 0)
        value = Version(
            f"{ingested}/{runs}", str(run_id) if run_id is not None else None, int(decisions or 0)
        )
        self._current = (time.monotonic(), value)
        return value

    def cached_version(self) -> tuple[bool, Version]:
        """The data version if known fresh, without touching the store."""
        at, value = self._current
        return time.monotonic() - at < CURRENT_TTL_S, value

    def expire_version(self) -> None:
        """After a write through this process: read the version again on the next request."""
        self._current = (0.0, self._current[1])

    def lookup(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return True, self._entries[key]
        return False, None

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        found, value = self.lookup(key)
        if found:
            return value
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value
