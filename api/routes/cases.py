"""Cases: the work on a group (or a set of accounts), its owner, thread, due date and the
four-eyes approval of sanctions. Role rules in docs/api.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from api.case_schemas import (
    Assignee,
    AssignIn,
    CaseDetail,
    CaseIn,
    CasePage,
    NoteIn,
    ProposalDecisionIn,
    ProposalIn,
    StatusIn,
)
from api.deps import AnyRole, SettingsDep, StoreDep, require
from api.keys import Caller, KeyStore
from api.services import case_changes as change
from api.services.cases import list_cases, load_case

router = APIRouter(prefix="/v1/cases", tags=["cases"])

Investigator = Annotated[Caller, Depends(require("investigator"))]
CaseWorker = Annotated[Caller, Depends(require("investigator", "enforcement"))]
Approver = Annotated[Caller, Depends(require("enforcement"))]


@router.get("", response_model=CasePage, summary="List cases, most urgent (due) first")
def get_cases(
    store: StoreDep,
    caller: AnyRole,
    mine: Annotated[bool, Query(description="Cases assigned to the calling key.")] = False,
    unassigned: Annotated[bool, Query(description="Cases nobody has claimed.")] = False,
    overdue: Annotated[bool, Query(description="Unclosed cases past their due date.")] = False,
    status_: Annotated[
        str | None,
        Query(
            alias="status",
            pattern="^(open|in_review|pending_approval|closed|active)$",
            description="A status, or `active` for every status but closed.",
        ),
    ] = None,
    verdict: Annotated[str | None, Query(pattern="^(violation|suspected|cleared)$")] = None,
    group_id: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CasePage:
    return list_cases(
        store,
        status=status_,
        verdict=verdict,
        assignee=caller.key_id if mine else None,
        unassigned=unassigned,
        overdue=overdue,
        group_id=group_id,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "",
    response_model=CaseDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Open a case by hand on a group or a set of accounts",
)
def post_case(
    body: CaseIn, store: StoreDep, settings: SettingsDep, caller: Investigator
) -> CaseDetail:
    return load_case(store, change.open_case(store, caller, body, settings.case_sla_hours))


@router.get(
    "/assignees",
    response_model=list[Assignee],
    summary="Who cases can be assigned to (active investigator and admin keys)",
)
def assignees(request: Request, _: Investigator) -> list[Assignee]:
    keys: KeyStore = request.app.state.keys
    return [
        Assignee(key_id=k["key_id"], name=k["name"] or k["key_id"], role=k["role"])
        for k in keys.list()
        if not k["revoked_at"] and k["role"] in change.ASSIGNABLE_ROLES
    ]


@router.get("/{case_id:id}", response_model=CaseDetail, summary="One case, with its thread")
def get_case(case_id: str, store: StoreDep, _: AnyRole) -> CaseDetail:
    return load_case(store, case_id)


@router.post("/{case_id:id}/claim", response_model=CaseDetail, summary="Take an unassigned case")
def claim(case_id: str, store: StoreDep, caller: Investigator) -> CaseDetail:
    change.claim(store, caller, case_id)
    return load_case(store, case_id)


@router.post("/{case_id:id}/assign", response_model=CaseDetail, summary="Assign or reassign")
def assign(
    request: Request, case_id: str, body: AssignIn, store: StoreDep, caller: Investigator
) -> CaseDetail:
    change.assign(store, request.app.state.keys, caller, case_id, body.assignee)
    return load_case(store, case_id)


@router.post(
    "/{case_id:id}/notes",
    response_model=CaseDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Add a note to the thread (append-only)",
)
def add_note(case_id: str, body: NoteIn, store: StoreDep, caller: CaseWorker) -> CaseDetail:
    change.note(store, caller, case_id, body.text)
    return load_case(store, case_id)


@router.post("/{case_id:id}/status", response_model=CaseDetail, summary="Review or close")
def set_status(
    request: Request, case_id: str, body: StatusIn, store: StoreDep, caller: Investigator
) -> CaseDetail:
    if change.set_status(store, caller, case_id, body):
        request.app.state.cache.expire_version()  # a decision was recorded on the group
    request.app.state.dispatcher.wake()  # a closed case is pushed to webhook subscribers
    return load_case(store, case_id)


@router.post(
    "/{case_id:id}/proposals",
    response_model=CaseDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Propose a freeze, restriction or closure (a second key approves)",
)
def propose(case_id: str, body: ProposalIn, store: StoreDep, caller: CaseWorker) -> CaseDetail:
    change.propose(store, caller, case_id, body)
    return load_case(store, case_id)


@router.post(
    "/{case_id:id}/proposals/{proposal_id:id}/approve",
    response_model=CaseDetail,
    summary="Approve a proposed sanction (not with the proposing key)",
)
def approve(
    request: Request,
    case_id: str,
    proposal_id: str,
    body: ProposalDecisionIn,
    store: StoreDep,
    caller: Approver,
) -> CaseDetail:
    change.decide_proposal(store, caller, case_id, proposal_id, "approved", body.note)
    request.app.state.dispatcher.wake()  # pushed to webhook subscribers as action_approved
    return load_case(store, case_id)


@router.post(
    "/{case_id:id}/proposals/{proposal_id:id}/reject",
    response_model=CaseDetail,
    summary="Reject a proposed sanction (not with the proposing key)",
)
def reject(
    case_id: str, proposal_id: str, body: ProposalDecisionIn, store: StoreDep, caller: Approver
) -> CaseDetail:
    change.decide_proposal(store, caller, case_id, proposal_id, "rejected", body.note)
    return load_case(store, case_id)
