"""Turn driver objects (nodes, relationships, paths) into plain JSON-ready values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """Recursively convert driver values; nodes and relationships become tagged dicts."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    kind = type(value).__name__
    if kind == "Node":
        return _node(value)
    if kind in ("Edge", "Relationship") or hasattr(value, "relation"):
        return _relationship(value)
    if kind == "Path":
        return _path(value)
    return str(value)


def _node(node: Any) -> dict[str, Any]:
    element_id = getattr(node, "element_id", None) or getattr(node, "id", None)
    props = dict(getattr(node, "properties", None) or dict(node.items()))
    return {
        "_kind": "node",
        "_id": str(element_id),
        "_labels": sorted(getattr(node, "labels", []) or []),
        "properties": plain(props),
    }


def _relationship(rel: Any) -> dict[str, Any]:
    if hasattr(rel, "relation"):  # FalkorDB Edge
        rel_type, src, dst = rel.relation, rel.src_node, rel.dest_node
        element_id = rel.id
        props = dict(rel.properties or {})
    else:  # neo4j Relationship
        rel_type, element_id = rel.type, rel.element_id
        src, dst = rel.start_node.element_id, rel.end_node.element_id
        props = dict(rel.items())
    if not isinstance(src, int | str):
        src = getattr(src, "id", src)
    if not isinstance(dst, int | str):
        dst = getattr(dst, "id", dst)
    return {
        "_kind": "relationship",
        "_id": str(element_id),
        "_type": rel_type,
        "_start": str(src),
        "_end": str(dst),
        "properties": plain(props),
    }


def _path(path: Any) -> dict[str, Any]:
    nodes = path.nodes() if callable(getattr(path, "nodes", None)) else path.nodes
    rels = (
        path.edges()
        if callable(getattr(path, "edges", None))
        else getattr(path, "relationships", [])
    )
    return {
        "_kind": "path",
        "nodes": [plain(n) for n in nodes],
        "relationships": [plain(r) for r in rels],
    }
