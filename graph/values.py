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


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Deeper values than this are refused: FalkorDB's parameter parser and the client's recursive
# quoting both fail on deep nesting (a RecursionError or a server error, i.e. a 500).
MAX_PARAM_DEPTH = 32


def param_problem(value: Any) -> str | None:
    """Why a query parameter value cannot be sent to the store as it is, or None.

    The engines store 64-bit integers: FalkorDB silently turns a larger one into the int64
    maximum, so out-of-range integers are refused rather than changed. Map keys are written
    backtick-quoted into FalkorDB's parameter header, which has no escape for a backtick.
    Iterative, so a deeply nested value cannot exhaust the stack while being checked.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_PARAM_DEPTH:
            return f"values nested deeper than {MAX_PARAM_DEPTH} levels are not supported"
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return (
                    f"integer of {item.bit_length()} bits is outside the signed 64-bit range "
                    f"({INT64_MIN}..{INT64_MAX}) the store keeps; pass it as a string or float"
                )
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                return "numbers must be finite (no NaN or Infinity)"
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, Mapping):
            for key, v in item.items():
                if not isinstance(key, str) or not key:
                    return "map keys must be non-empty strings"
                if "`" in key:
                    return f"map keys cannot contain a backtick: {key[:40]!r}"
                stack.append((v, depth + 1))
        else:
            return f"unsupported value type {type(item).__name__}"
    return None
