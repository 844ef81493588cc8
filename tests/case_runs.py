"""Analysis runs made of hand-made groups, for the case tests.

As tests/test_lineage.py does, the groups are given as member lists; here they go through what
a real run does after detection: stable ids and lineage (``assign_ids`` against the current
groups), the run and its groups written with the write-back's own statements and made current,
then ``sync_cases``, the step the pipeline runs after the write-back.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping

from analytics.cases import SyncReport, sync_cases
from analytics.lineage import assign_ids
from analytics.writeback import previous_groups
from graph import result_statements as rs
from graph.backend import GraphBackend
from graph.schema import ensure_schema

SLA = {"violation": 72.0, "suspected": 168.0, "manual": 168.0}
ACTION = {"violation": "freeze_pending_review", "suspected": "request_report", "cleared": "none"}


def add_accounts(store: GraphBackend, ids: list[str]) -> None:
    store.run(
        "UNWIND $ids AS aid MERGE (:Account {account_id: aid, account_type: 'retail'})",
        {"ids": ids},
    )


def write_run(
    store: GraphBackend,
    groups: list[tuple[list[str], str]],
    sla: Mapping[str, float] = SLA,
) -> tuple[str, list[str], SyncReport]:
    """Write one run of ``groups`` ((members, verdict) each) and let the cases follow it.
    Returns the run id, the groups' ids (in the order given) and what the sync did."""
    ensure_schema(store)
    add_accounts(store, sorted({a for members, _ in groups for a in members}))
    nodes = {
        str(r[0]): int(r[1])
        for r in store.read("MATCH (a:Account) RETURN a.account_id, id(a)").rows
    }
    lineage = assign_ids([m for m, _ in groups], previous_groups(store), 0.5)
    run_id = f"A-test-{uuid.uuid4().hex[:8]}"
    now = int(time.time() * 1000)
    store.run(
        rs.CREATE_RUN,
        {"run_id": run_id, "started_at": now, "config_digest": "test", "config": "{}"},
    )
    store.run(
        rs.CREATE_GROUPS,
        {
            "run_id": run_id,
            "assessed_at": now,
            "changed_at": [now for _ in groups],
            "quote": [100.0 for _ in groups],
            "members_preview": [sorted(m)[:10] for m, _ in groups],
            "group_id": [li.group_id for li in lineage],
            "verdict": [v for _, v in groups],
            "score": [
                0.9 if v == "violation" else 0.5 if v == "suspected" else 0.1 for _, v in groups
            ],
            "clauses": [["wash_trading"] if v != "cleared" else [] for _, v in groups],
            "recommended_action": [ACTION[v] for _, v in groups],
            "member_count": [len(m) for m, _ in groups],
            "reasons": [[f"hand-made {v} group"] for _, v in groups],
            "evidence": [json.dumps({"links": []}) for _ in groups],
            "lineage": [li.kind for li in lineage],
            "parents": [list(li.parents) for li in lineage],
            "member_nodes": [[nodes[a] for a in sorted(m)] for m, _ in groups],
            "member_roles": [["member" for _ in m] for m, _ in groups],
            "priority": [0.0 for _ in groups],
            "priority_reasons": [[] for _ in groups],
            "volume": [100.0 for _ in groups],
        },
    )
    store.run(
        rs.SWITCH_CURRENT,
        {"run_id": run_id, "finished_at": now, "groups": len(groups), "flags": 0},
    )
    report = sync_cases(store, run_id, sla)
    return run_id, [li.group_id for li in lineage], report
