"""Reads of cases: a page of the list, one case with its thread, proposals, links, decisions."""

from __future__ import annotations

import time
from typing import Any, Literal

from api import cursors
from api.case_schemas import CaseDetail, CaseLink, CaseNote, CasePage, CaseSummary, Proposal
from api.services.groups import decisions_of
from graph import case_statements as cs
from graph.backend import GraphBackend
from linkscope.errors import NotFound


def now_ms() -> int:
    return int(time.time() * 1000)


def summary(row: list[Any], now: int) -> CaseSummary:
    (case_id, group_id, title, status, verdict, origin, assignee, assignee_name, opened_at,
     opened_by, due_at, disposition, reason, closed_at, detected, last_run, accounts,
     merged_into, updated_at) = row  # fmt: skip
    return CaseSummary(
        case_id=case_id,
        group_id=group_id,
        title=title or f"Case {case_id}",
        status=status,
        verdict=verdict,
        origin=origin or "analysis",
        assignee=assignee,
        assignee_name=assignee_name,
        opened_at=int(opened_at),
        opened_by=opened_by or "analysis",
        due_at=int(due_at),
        overdue=status != "closed" and int(due_at) < now,
        disposition=disposition,
        disposition_reason=reason,
        closed_at=int(closed_at) if closed_at is not None else None,
        detected=bool(detected),
        last_run_id=last_run,
        account_ids=list(accounts or []),
        merged_into=merged_into,
        updated_at=int(updated_at or opened_at),
    )


def list_cases(
    store: GraphBackend,
    *,
    status: str | None,
    verdict: str | None,
    assignee: str | None,
    unassigned: bool,
    overdue: bool,
    group_id: str | None,
    cursor: str | None,
    limit: int,
) -> CasePage:
    after_due: int | None = None
    after_id: str | None = None
    if cursor:
        data = cursors.decode(cursor)
        if not isinstance(data, dict) or not {"d", "c"} <= data.keys():
            raise cursors.malformed()
        after_due, after_id = int(data["d"]), str(data["c"])
    now = now_ms()
    rows = store.read(
        cs.LIST_CASES,
        {
            "status": status,
            "verdict": verdict,
            "assignee": assignee,
            "unassigned": unassigned,
            "overdue": overdue,
            "group_id": group_id,
            "now": now,
            "after_due": after_due,
            "after_id": after_id,
            "limit": limit + 1,
        },
    ).rows
    items = [summary(r, now) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = cursors.encode({"d": items[-1].due_at, "c": items[-1].case_id})
    return CasePage(items=items, next_cursor=next_cursor)


def load_summary(store: GraphBackend, case_id: str) -> CaseSummary:
    rows = store.read(cs.CASE, {"case_id": case_id}).rows
    if not rows:
        raise NotFound(f"no case {case_id!r}")
    return summary(rows[0], now_ms())


def load_case(store: GraphBackend, case_id: str) -> CaseDetail:
    head = load_summary(store, case_id)
    params = {"case_id": case_id}
    notes = [
        CaseNote(
            note_id=r[0],
            case_id=r[1],
            at=int(r[2]),
            by_key=r[3],
            by_role=r[4],
            by_name=r[5] or "",
            kind=r[6],
            text=r[7],
        )
        for r in store.read(cs.CASE_NOTES, params).rows
    ]
    proposals = [
        Proposal(
            proposal_id=r[0],
            case_id=r[1],
            group_id=r[2],
            action=r[3],
            note=r[4] or "",
            status=r[5],
            proposed_by=r[6],
            proposed_role=r[7],
            proposed_name=r[8] or "",
            proposed_at=int(r[9]),
            decided_by=r[10],
            decided_role=r[11],
            decided_name=r[12],
            decided_at=int(r[13]) if r[13] is not None else None,
            decision_note=r[14],
            decision_id=r[15],
        )
        for r in store.read(cs.CASE_PROPOSALS, params).rows
    ]
    links = []
    for rel, outgoing, other, other_group, other_status, why in store.read(
        cs.CASE_LINKS, params
    ).rows:
        kind: Literal["linked", "merged_into", "merged_from"] = (
            "linked" if rel == "LINKED" else "merged_into" if outgoing else "merged_from"
        )
        links.append(
            CaseLink(kind=kind, case_id=other, group_id=other_group, status=other_status, why=why)
        )
    decisions = decisions_of(store, head.group_id) if head.group_id else []
    return CaseDetail(
        **head.model_dump(), notes=notes, proposals=proposals, links=links, decisions=decisions
    )
