"""Which event store goes with a graph store."""

from __future__ import annotations

from pathlib import Path

from events.store import EventStore
from graph.backend import GraphBackend
from linkscope.settings import Settings, get_settings


def events_for(store: GraphBackend, settings: Settings | None = None) -> EventStore:
    """``LINKSCOPE_EVENTS_DIR`` if set, else the folder beside the graph (``store.events_dir``)."""
    settings = settings or get_settings()
    root = Path(settings.events_dir) if settings.events_dir else store.events_dir
    return EventStore(root, memory_limit=settings.events_memory_limit)
