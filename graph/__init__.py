"""Graph store access: one backend interface, an embedded FalkorDB and a Neo4j implementation."""

from graph.backend import GraphBackend, QueryResult
from graph.store import open_store

__all__ = ["GraphBackend", "QueryResult", "open_store"]
