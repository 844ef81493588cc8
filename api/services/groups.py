"""Reads of analysis results: a group's summary row, a group in full, its decisions."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from api.keys import Caller
from api.schemas import Decision, GroupDetail, GroupSummary, Member
from graph import api_statements as q
from graph.backend import GraphBackend
from linkscope.errors import NotFound


def summary(row: list[Any]) -> GroupSummary:
    gid, run_id, verdict, score, clauses, action, count, lineage, changed, current, quote = row[:11]
    preview, priority, why, volume = row[11:15]
    return GroupSummary(
        group_id=gid,
        run_id=run_id,
        verdict=verdict,
        score=float(score),
        clauses=list(clauses or []),
        recommended_action=action,
        member_count=int(count),
        lineage=lineage or "new",
        changed_at=int(changed or 0),
        current=bool(current),
        quote_volume=round(float(quote or 0.0), 2),
        members_preview=list(preview or []),
        priority=float(priority or 0.0),
        priority_reasons=list(why or []),
        volume=round(float(volume or 0.0), 2),
    )


def load_group(
    store: GraphBackend, group_id: str, run_id: str | None, *, with_decisions: bool = True
) -> GroupDetail:
    rows = store.read(q.GROUP, {"group_id": group_id, "run_id": run_id}).rows
    if not rows:
        raise NotFound(f"no group {group_id!r}" + (f" in run {run_id}" if run_id else ""))
    row = rows[0]
    head = summary(row)
    members = [
        Member(account_id=a, role=role, account_type=kind, status=st, flags=sorted(set(flags)))
        for a, role, kind, st, flags in store.read(
            q.GROUP_MEMBERS, {"group_id": group_id, "run_id": head.run_id}
        ).rows
    ]
    return GroupDetail(
        **head.model_dump(),
        reasons=list(row[15] or []),
        evidence=json.loads(row[16] or "{}"),
        parents=list(row[17] or []),
        members=members,
        decisions=decisions_of(store, group_id) if with_decisions else [],
    )


def decisions_of(store: GraphBackend, group_id: str) -> list[Decision]:
    return [
        Decision(
            decision_id=r[0],
            group_id=r[1],
            run_id=r[2],
            verdict=r[3],
            decision=r[4],
            action=r[5],
            note=r[6] or "",
            by_key=r[7],
            by_role=r[8],
            at=int(r[9]),
            by_name=str(r[10] or ""),
        )
        for r in store.read(q.GROUP_DECISIONS, {"group_id": group_id}).rows
    ]


def create_decision(
    store: GraphBackend,
    group: GroupSummary,
    caller: Caller,
    decision: str,
    action: str | None,
    note: str,
    decision_id: str | None = None,
) -> Decision:
    """Record a decision on the group's assessment in ``group.run_id`` (the current one)."""
    decision_id = decision_id or uuid.uuid4().hex[:16]
    at = int(time.time() * 1000)
    store.run(
        q.CREATE_DECISION,
        {
            "group_id": group.group_id, "run_id": group.run_id, "decision_id": decision_id,
            "decision": decision, "action": action, "note": note, "by_key": caller.key_id,
            "by_name": caller.name, "by_role": caller.role, "at": at,
        },
    )  # fmt: skip
    return Decision(
        decision_id=decision_id, group_id=group.group_id, run_id=group.run_id,
        verdict=group.verdict, decision=decision, action=action, note=note,  # type: ignore[arg-type]
        by_key=caller.key_id, by_role=caller.role, at=at, by_name=caller.name,
    )  # fmt: skip
