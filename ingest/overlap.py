"""Running the stages of a column-wise ingest side by side (pyarrow and numpy release the GIL,
so a thread per stage keeps both cores busy): read and parse the next block while the last one
is checked and the one before is staged."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

_DONE = object()


def prefetched[T](items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced by a thread of its own, at most ``depth`` ahead of the consumer.

    An exception in the producer is raised in the consumer at the point it occurred; a consumer
    that stops early stops the producer at its next item."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put(item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(_Failure(exc))
        slots.put(_DONE)

    worker = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]  # anything else came from ``items``
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.05)
        worker.join()


def mapped_in_order[T, R](
    work: Callable[[T], R], items: Iterator[T], pool: ThreadPoolExecutor, ahead: int = 2
) -> Iterator[tuple[T, R]]:
    """``(item, work(item))`` in the order of ``items``, with up to ``ahead`` items in work."""
    pending: deque[tuple[T, Future[R]]] = deque()
    for item in items:
        pending.append((item, pool.submit(work, item)))
        if len(pending) > ahead:
            first, future = pending.popleft()
            yield first, future.result()
    while pending:
        first, future = pending.popleft()
        yield first, future.result()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
