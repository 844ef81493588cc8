"""A read-only overview of what the graph holds."""

from __future__ import annotations

from typing import Any

from graph.backend import GraphBackend

NODE_LABELS = (
    "Account",
    "IP",
    "Device",
    "FundingSource",
    "Trade",
    "Symbol",
    "Order",
    "EnforcementAction",
    "IngestRun",
)
REL_TYPES = (
    "USED_IP",
    "USED_DEVICE",
    "DEPOSIT_FROM",
    "WITHDRAW_TO",
    "TRANSFER",
    "SOLD",
    "BOUGHT",
    "TRADES_WITH",
    "ORDERS_ON",
    "PLACED",
    "SANCTIONED",
)


def inventory(store: GraphBackend) -> dict[str, Any]:
    nodes = {
        label: int(store.read(f"MATCH (n:{label}) RETURN count(n)").scalar() or 0)
        for label in NODE_LABELS
    }
    rels = {
        rel: int(store.read(f"MATCH ()-[r:{rel}]->() RETURN count(r)").scalar() or 0)
        for rel in REL_TYPES
    }
    runs = store.read(
        "MATCH (r:IngestRun) RETURN r.run_id AS run_id, r.status AS status, r.summary AS summary, "
        "r.started_at AS started_at ORDER BY r.started_at DESC LIMIT 5"
    ).records()
    return {"store": store.description, "nodes": nodes, "relationships": rels, "runs": runs}
