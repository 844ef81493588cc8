"""Dependencies: the store connection, settings, the authenticated caller and role checks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.keys import Caller, KeyStore
from events.location import events_for
from events.store import EventStore
from graph.backend import GraphBackend
from linkscope.errors import Forbidden, StoreUnavailable
from linkscope.settings import Settings

log = logging.getLogger(__name__)

RETRY_AFTER_S = 1.0


class StoreHolder:
    """One store connection per app, reopened after the store failed (the API heals itself:
    an embedded server that died is started again on the next request)."""

    def __init__(self, settings: Settings, opener: Callable[[Settings], GraphBackend]) -> None:
        self.settings = settings.model_copy(
            update={"socket_timeout_s": settings.api_store_timeout_s}
        )
        self._open = opener
        self._store: GraphBackend | None = None
        self._failed: list[GraphBackend] = []
        self._lock = threading.Lock()
        self._retry_at = 0.0

    def peek(self) -> GraphBackend | None:
        return self._store

    def get(self) -> GraphBackend:
        with self._lock:
            if self._store is None:
                if time.monotonic() < self._retry_at:
                    raise StoreUnavailable("graph store unavailable; retrying shortly")
                try:
                    self._store = self._open(self.settings)
                except StoreUnavailable:
                    self._retry_at = time.monotonic() + RETRY_AFTER_S
                    raise
                self._close_failed()
            return self._store

    def failed(self, store: GraphBackend) -> None:
        """Drop a connection that failed; it is closed once its replacement is open.

        Closing it first would make this process the embedded server's last client, and the
        last client to leave stops the server: one timed-out query took the store down.
        """
        with self._lock:
            if self._store is store:
                self._store = None
                self._failed.append(store)

    def _close_failed(self) -> None:
        for store in self._failed:
            try:
                store.close()
            except Exception:  # the connection is already broken
                log.debug("closing a failed store connection", exc_info=True)
        self._failed.clear()

    def close(self) -> None:
        with self._lock:
            self._close_failed()
            if self._store is not None:
                self._store.close()
                self._store = None


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> AsyncIterator[GraphBackend]:
    holder: StoreHolder = request.app.state.store
    # Opening may start the embedded server (blocking): only then leave the event loop.
    store = holder.peek()
    if store is None:
        store = await run_in_threadpool(holder.get)
    try:
        yield store
    except StoreUnavailable:
        holder.failed(store)
        raise


async def get_caller(request: Request) -> Caller:
    checked: Caller | None = getattr(request.state, "caller", None)
    if checked is not None:  # verified by api.limits.RequestGate before the body was read
        return checked
    keys: KeyStore = request.app.state.keys
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return keys.verify(token.strip() if scheme.lower() == "bearer" else None)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[GraphBackend, Depends(get_store)]


def get_events(store: StoreDep, settings: SettingsDep) -> EventStore:
    return events_for(store, settings)


EventsDep = Annotated[EventStore, Depends(get_events)]
CallerDep = Annotated[Caller, Depends(get_caller)]


def require(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only ``roles`` (admin always)."""
    allowed = set(roles) | {"admin"}

    async def check(caller: CallerDep) -> Caller:
        if caller.role not in allowed:
            raise Forbidden(
                f"role {caller.role!r} may not do this; needs {' or '.join(sorted(allowed))}"
            )
        return caller

    return check


READERS = ("enforcement", "investigator", "analyst")
EnforcementOrInvestigator = Annotated[Caller, Depends(require("enforcement", "investigator"))]
AnyRole = Annotated[Caller, Depends(require(*READERS))]
Investigation = Annotated[Caller, Depends(require("investigator", "analyst"))]
Analyst = Annotated[Caller, Depends(require("analyst"))]
Admin = Annotated[Caller, Depends(require())]
