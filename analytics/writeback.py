"""Write an analysis into the graph (Group, MEMBER_OF, EVIDENCE, Flag) and switch to it atomically."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from analytics.assessment import GroupAssessment
from analytics.behaviour import Flag
from analytics.config import AnalysisConfig
from analytics.projection import identifier_keys, trade_ids
from analytics.run import Analysis
from graph import result_statements as rs
from graph.backend import GraphBackend
from graph.schema import ensure_schema

log = logging.getLogger(__name__)

CHUNK = 500


def previous_groups(store: GraphBackend) -> dict[str, frozenset[str]]:
    """Membership of the current groups, for stable ids."""
    return {str(r[0]): frozenset(map(str, r[1])) for r in store.read(rs.CURRENT_MEMBERSHIP).rows}


def write_analysis(store: GraphBackend, analysis: Analysis, cfg: AnalysisConfig) -> str:
    """Write the run's results, make them current in one statement, prune old runs."""
    ensure_schema(store)
    run_id = f"A{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
    now = int(time.time() * 1000)
    store.run(
        rs.CREATE_RUN,
        {
            "run_id": run_id,
            "started_at": now,
            "config_digest": cfg.digest(),
            "config": json.dumps(cfg.model_dump(mode="json"), sort_keys=True),
        },
    )
    _resolve_evidence(store, analysis)
    accounts = analysis.accounts
    groups = analysis.groups
    before = {str(r[0]): r[1:] for r in store.read(rs.CURRENT_ASSESSMENTS).rows}
    changed_at = [_changed_at(g, before.get(g.group_id), now) for g in groups]
    for start in range(0, len(groups), CHUNK):
        chunk = groups[start : start + CHUNK]
        store.run(
            rs.CREATE_GROUPS,
            {
                "run_id": run_id,
                "assessed_at": now,
                "changed_at": changed_at[start : start + CHUNK],
                "quote": [g.evidence["trading_among_members"]["quote"] for g in chunk],
                "members_preview": [[accounts.ids[m] for m in g.members[:10]] for g in chunk],
                "group_id": [g.group_id for g in chunk],
                "verdict": [g.verdict for g in chunk],
                "score": [g.score for g in chunk],
                "clauses": [g.clauses for g in chunk],
                "recommended_action": [g.action for g in chunk],
                "member_count": [len(g.members) for g in chunk],
                "reasons": [g.reasons for g in chunk],
                "evidence": [dumps(g.evidence) for g in chunk],
                "lineage": [g.lineage for g in chunk],
                "parents": [list(g.parents) for g in chunk],
                "member_nodes": [[int(accounts.node_ids[m]) for m in g.members] for g in chunk],
                "member_roles": [[g.roles[m] for m in g.members] for g in chunk],
            },
        )
    rows: list[tuple[str, int, str, float, str]] = []
    for g in groups:
        rows.extend(
            (g.group_id, node, kind, weight, why) for node, kind, weight, why in g.identifiers
        )
        rows.extend(
            (
                g.group_id,
                int(analysis.trades.node[t]),
                "wash_trade",
                1.0,
                "trade in a completed wash cycle",
            )
            for t in g.trades
        )
    for start in range(0, len(rows), CHUNK * 4):
        part = rows[start : start + CHUNK * 4]
        store.run(
            rs.CREATE_GROUP_EVIDENCE,
            {
                "run_id": run_id,
                "group_id": [r[0] for r in part],
                "node": [r[1] for r in part],
                "kind": [r[2] for r in part],
                "weight": [r[3] for r in part],
                "why": [r[4] for r in part],
            },
        )
    flags = analysis.flags
    for start in range(0, len(flags), CHUNK):
        batch = flags[start : start + CHUNK]
        store.run(
            rs.CREATE_FLAGS,
            {
                "run_id": run_id,
                "node": [int(accounts.node_ids[f.account]) for f in batch],
                "account_id": [accounts.ids[f.account] for f in batch],
                "clause": [f.clause for f in batch],
                "score": [round(f.score, 4) for f in batch],
                "evidence": [dumps(f.evidence) for f in batch],
            },
        )
    store.run(
        rs.SWITCH_CURRENT,
        {
            "run_id": run_id,
            "finished_at": int(time.time() * 1000),
            "groups": len(groups),
            "flags": len(flags),
        },
    )
    _prune(store, run_id, cfg.assessment.history_runs)
    store.checkpoint()
    return run_id


def _changed_at(group: GroupAssessment, before: list[Any] | None, now: int) -> int:
    """When the group's assessment last changed: kept while members and verdict stay the same."""
    if before is None or group.lineage != "unchanged":
        return now
    verdict, score, clauses, action, changed = before
    same = (verdict, round(float(score), 4), list(clauses or []), action) == (
        group.verdict,
        round(group.score, 4),
        group.clauses,
        group.action,
    )
    return int(changed) if same and changed is not None else now


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _resolve_evidence(store: GraphBackend, analysis: Analysis) -> None:
    """Replace store-internal ids in evidence by the ids people know (trade ids, IPs, ...)."""
    trades = analysis.trades
    positions: set[int] = set()
    for g in analysis.groups:
        for w in g.evidence.get("wash", []):
            positions.update(w["trade_positions"])
    for f in analysis.flags:
        positions.update(f.trades)
    ids = trade_ids(store, sorted(int(trades.node[p]) for p in positions))
    idents = identifier_keys(
        store,
        sorted(
            {
                link["identifier"]
                for g in analysis.groups
                for link in g.evidence["links"]
                if link["identifier"] >= 0
            }
        ),
    )
    for g in analysis.groups:
        for w in g.evidence.get("wash", []):
            w["trade_ids"] = [ids.get(int(trades.node[p]), "") for p in w.pop("trade_positions")]
        for link in g.evidence["links"]:
            node = link.pop("identifier")
            if node >= 0:
                link["identifier"] = idents.get(node, ("", ""))[1]
    for f in analysis.flags:
        if f.trades:
            f.evidence["trade_ids"] = [ids.get(int(trades.node[p]), "") for p in f.trades]
    _order_samples(store, analysis.flags, analysis)


def _order_samples(store: GraphBackend, flags: list[Flag], analysis: Analysis) -> None:
    wanted = [(f, sym, day) for f in flags for sym, day in f.order_days]
    if not wanted:
        return
    rows = store.read(
        rs.ORDER_SAMPLES,
        {
            "node": [int(analysis.accounts.node_ids[f.account]) for f, _, _ in wanted],
            "symbol": [sym for _, sym, _ in wanted],
            "day_start": [day * 86_400_000 for _, _, day in wanted],
        },
    ).rows
    found = {int(r[0]): sorted(map(str, r[1]))[:10] for r in rows}
    for i, (flag, _, _) in enumerate(wanted):
        flag.evidence.setdefault("order_ids", []).extend(found.get(i, []))


def _prune(store: GraphBackend, run_id: str, keep: int) -> None:
    runs = store.read(rs.RUNS).rows
    finished = [str(r[0]) for r in runs if r[1] in ("current", "superseded")]
    stale = [str(r[0]) for r in runs if r[1] == "writing" and r[0] != run_id]  # crashed runs
    old = finished[keep:] + stale
    if not old:
        return
    while int(store.run(rs.DELETE_RUN_RESULTS, {"runs": old, "limit": 20_000}).scalar() or 0):
        pass
    store.run(rs.DELETE_RUNS, {"runs": old})
    log.info("pruned %d earlier analysis runs", len(old))
