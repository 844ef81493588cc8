"""Reads of accounts: the profile and the breadth-first neighbourhood."""

from __future__ import annotations

import json
from typing import Any, Literal

from analytics.config import LinkageConfig
from analytics.linkage import specificity
from api.schemas import AccountFlag, AccountProfile, GraphEdge, GraphNode, Identifier, Neighborhood
from graph import api_statements as q
from graph.backend import GraphBackend
from graph.schema import NODE_KEYS
from linkscope.errors import NotFound, QueryError

KIND: dict[str, Literal["ip", "device", "funding"]] = {
    "IP": "ip",
    "Device": "device",
    "FundingSource": "funding",
}
DEFAULT_RELS = ("USED_IP", "USED_DEVICE", "DEPOSIT_FROM", "WITHDRAW_TO", "TRANSFER",
                "TRADES_WITH", "MEMBER_OF", "HAS_FLAG", "SANCTIONED")  # fmt: skip
ALLOWED_RELS = (
    *DEFAULT_RELS,
    "SOLD",
    "BOUGHT",
    "ORDERS_ON",
    "PLACED",
    "EVIDENCE",
    "ON",
    "CONCERNS",
)
BULKY = {"times", "evidence", "config", "reasons", "digest", "loaded_run", "updated_by"}


def profile_props(store: GraphBackend, account_id: str) -> dict[str, Any]:
    rows = store.read(q.ACCOUNT, {"account_id": account_id}).rows
    if not rows:
        raise NotFound(f"no account {account_id!r}")
    return {k: v for k, v in dict(rows[0][0]).items() if k not in BULKY}


def profile(store: GraphBackend, account_id: str, linkage: LinkageConfig) -> AccountProfile:
    """The account with its identifiers, specific as the current run's settings judge them
    (``linkage``), its current flags and its current group."""
    props = profile_props(store, account_id)
    identifiers = [
        Identifier(
            kind=KIND[label],
            value=value,
            relationship=rel,
            uses=int(uses),
            shared_by=int(shared),
            # Used by this account alone: fully specific (there is just nothing shared yet).
            specificity=1.0
            if int(shared) <= 1
            else round(specificity(int(shared), linkage, KIND[label]), 4),
        )
        for label, value, rel, uses, shared in store.read(
            q.ACCOUNT_IDENTIFIERS, {"account_id": account_id}
        ).rows
    ]
    flags = [
        AccountFlag(clause=c, score=float(s), evidence=json.loads(e or "{}"))
        for c, s, e in store.read(q.ACCOUNT_FLAGS, {"account_id": account_id}).rows
    ]
    group = store.read(q.ACCOUNT_GROUP, {"account_id": account_id}).rows
    return AccountProfile(
        account_id=account_id,
        properties=props,
        identifiers=identifiers,
        flags=flags,
        group_id=str(group[0][0]) if group else None,
    )


def _node(node_id: int, label: str, props: dict[str, Any]) -> GraphNode:
    key_prop = NODE_KEYS.get(label)
    key = str(props.get(key_prop)) if key_prop and props.get(key_prop) is not None else str(node_id)
    shown = {k: (v[:20] if isinstance(v, list) else v) for k, v in props.items() if k not in BULKY}
    return GraphNode(id=f"{label}:{key}", label=label, key=key, properties=shown)


def neighborhood(
    store: GraphBackend, account_id: str, depth: int, limit: int, rel: str | None
) -> Neighborhood:
    """Nodes and edges around the account, breadth first, at most ``limit`` nodes."""
    types = [t.strip().upper() for t in rel.split(",") if t.strip()] if rel else list(DEFAULT_RELS)
    unknown = sorted(set(types) - set(ALLOWED_RELS))
    if unknown:
        raise QueryError(
            f"unknown relationship types {unknown}; allowed: {', '.join(ALLOWED_RELS)}"
        )
    start = store.read(q.NODE_BY_KEY, {"account_id": account_id}).rows
    if not start:
        raise NotFound(f"no account {account_id!r}")
    start_id = int(start[0][0])
    nodes: dict[int, GraphNode] = {start_id: _node(start_id, "Account", dict(start[0][1]))}
    edges: dict[tuple[str, str, str], GraphEdge] = {}
    frontier = [start_id]
    truncated = False
    for _hop in range(depth):
        if not frontier:
            break
        budget = limit - len(nodes)
        rows = store.read(
            q.NEIGHBOURS, {"ids": frontier, "types": types, "limit": max(budget, 0) * 4 + 50}
        ).rows
        nxt: list[int] = []
        for src, dst, label, props, rtype, outgoing, rprops in rows:
            if label in ("Group", "Flag") and not dict(props).get("current"):
                continue  # earlier runs' results: history, and their ids repeat
            src, dst = int(src), int(dst)
            if dst not in nodes:
                if len(nodes) >= limit:
                    truncated = True
                    continue
                nodes[dst] = _node(dst, str(label), dict(props))
                nxt.append(dst)
            a, b = (nodes[src].id, nodes[dst].id) if outgoing else (nodes[dst].id, nodes[src].id)
            shown = {k: v for k, v in dict(rprops or {}).items() if k not in BULKY}
            edges.setdefault(
                (a, b, str(rtype)), GraphEdge(source=a, target=b, type=str(rtype), properties=shown)
            )
        frontier = nxt
    return Neighborhood(nodes=list(nodes.values()), edges=list(edges.values()), truncated=truncated)
