"""Answers from the per-data-version read cache, computed off the event loop on a miss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from fastapi import Request

from api.cache import ReadCache, Version, off_loop
from graph.backend import GraphBackend


async def data_version(request: Request, store: GraphBackend) -> Version:
    cache: ReadCache = request.app.state.cache
    fresh, version = cache.cached_version()
    return version if fresh else await off_loop(lambda: cache.version(store))


async def current_run(request: Request, store: GraphBackend) -> str | None:
    return (await data_version(request, store)).run_id


async def cached[T](request: Request, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """From the per-run cache, or computed off the event loop (store calls block)."""
    cache: ReadCache = request.app.state.cache
    found, value = cache.lookup(key)
    if found:
        return cast(T, value)
    return cast(T, await off_loop(lambda: cache.get(key, compute)))
