"""A read-only overview of what the graph holds."""

from __future__ import annotations

import time
from typing import Any

from graph import case_statements as cs
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
    return {
        "store": store.description,
        "nodes": nodes,
        "relationships": rels,
        "runs": runs,
        "analysis": analysis_results(store),
    }


def analysis_results(store: GraphBackend) -> dict[str, Any]:
    """The latest analysis runs and what the current one found: groups per verdict, flags per
    clause (empty before the first run)."""
    runs = store.read(
        "MATCH (r:AnalysisRun) RETURN r.run_id AS run_id, r.status AS status, "
        "r.finished_at AS finished_at, r.groups AS groups, r.flags AS flags "
        "ORDER BY r.started_at DESC LIMIT 5"
    ).records()
    verdicts = store.read(
        "MATCH (g:Group {current: true}) RETURN g.verdict, count(g) ORDER BY g.verdict"
    ).rows
    clauses = store.read(
        "MATCH (f:Flag {current: true}) RETURN f.clause, count(f) ORDER BY f.clause"
    ).rows
    cases = store.read(cs.CASE_COUNTS, {"now": int(time.time() * 1000)}).rows
    return {
        "runs": runs,
        "groups": {str(v): int(n) for v, n in verdicts},
        "flags": {str(c): int(n) for c, n in clauses},
        "cases": {str(s): int(n) for s, n, _ in cases},
        "overdue": sum(int(o or 0) for *_, o in cases),
    }
