"""The temporal cycle search behind the API: window, flows cache, answer model."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict

from analytics.temporal_cycles import Flows, Limits, load_flows, search
from analytics.window import resolve_window
from api.cycle_schemas import CycleSearchOut
from events.store import EventStore
from graph import investigation_statements as q
from graph.backend import GraphBackend
from linkscope.errors import ConfigError, InputError, NotFound


class FlowCache:
    """The last window's flows, per data version: building them reads every fill of the window
    (9-16 s at M on the shared test machine), a search on them stays within its time budget.
    One entry by default: at M one window's arrays take ~330 MB per API process."""

    def __init__(self, size: int = 1) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], Flows] = OrderedDict()
        self._building: dict[tuple[object, ...], threading.Lock] = {}

    def get(
        self, version: str, events: EventStore, store: GraphBackend, since: int, until: int,
        min_amount: float,
    ) -> Flows:  # fmt: skip
        key = (str(events.root), version, since, until, min_amount)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:  # one build per key, however many requests ask at once
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            try:
                flows = load_flows(events, store, since, until, min_amount=min_amount)
                with self._lock:
                    self._entries[key] = flows
                    while len(self._entries) > self._size:
                        self._entries.popitem(last=False)
            finally:
                with self._lock:
                    self._building.pop(key, None)
        return flows


def group_members(store: GraphBackend, group_id: str) -> list[str]:
    members = [str(r[0]) for r in store.read(q.GROUP_MEMBER_IDS, {"group_id": group_id}).rows]
    if not members:
        raise NotFound(f"no current group {group_id!r}")
    return members


def find_cycles(
    cache: FlowCache,
    version: str,
    events: EventStore,
    store: GraphBackend,
    seeds: list[str],
    *,
    window: str = "30d",
    until: str | None = None,
    max_length: int = 6,
    min_amount: float = 0.0,
) -> CycleSearchOut:
    try:
        span = resolve_window(events, window=window, until=until)
    except ConfigError as exc:  # a person's window or time, not the server's settings
        raise InputError(str(exc)) from exc
    if span.since is None or span.until is None:
        raise InputError("no fills are loaded: there is no window to search")
    flows = cache.get(version, events, store, span.since, span.until, min_amount)
    found = search(flows, seeds, Limits(max_length=max_length))
    return CycleSearchOut.model_validate(
        {**asdict(found), "loops": [asdict(lp) for lp in found.loops], "seeds": list(found.seeds)}
    )
