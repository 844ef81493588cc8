"""Changes to cases through the API: open, claim, assign, notes, status, sanction proposals.

Each change is one conditional statement (see graph/case_statements.py); when it matches
nothing the case is read again to say why (404, or 409 with the state that stopped it). Every
change also lands in the case's thread (a ``system`` note naming who) and in the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from analytics import changes
from analytics.cases import due_at, new_case_id, new_note_id
from api.audit import record
from api.case_schemas import CaseIn, ProposalIn, StatusIn
from api.keys import Caller, KeyStore
from api.services.cases import load_summary, now_ms
from api.services.groups import create_decision, load_group
from graph import case_statements as cs
from graph.backend import GraphBackend
from linkscope.errors import ApprovalRequired, Conflict, Forbidden, NotFound, SameApprover

ASSIGNABLE_ROLES = ("investigator", "admin")
DECISION_OF = {"confirmed": "confirm", "dismissed": "dismiss", "escalated": "escalate"}


def note(store: GraphBackend, caller: Caller, case_id: str, text: str, kind: str = "note") -> str:
    at = now_ms()
    note_id = new_note_id(at)
    rows = store.run(
        cs.ADD_NOTE,
        {
            "case_id": case_id, "note_id": note_id, "at": at, "by_key": caller.key_id,
            "by_role": caller.role, "by_name": caller.name, "kind": kind, "text": text,
        },
    ).rows  # fmt: skip
    if not rows:
        raise NotFound(f"no case {case_id!r}")
    if kind == "note":
        record(store, caller, "case:note", f"case:{case_id}", text)
    return note_id


def _changed(store: GraphBackend, caller: Caller, case_id: str, action: str, text: str) -> None:
    """A state change: a system note in the thread and an audit entry."""
    note(store, caller, case_id, text, kind="system")
    record(store, caller, action, f"case:{case_id}", text)


def _refused(store: GraphBackend, case_id: str, why: str) -> Conflict:
    case = load_summary(store, case_id)  # NotFound if there is no such case
    return Conflict(
        f"case {case_id} is {case.status}, assigned to {case.assignee or 'nobody'}: {why}"
    )


def open_case(store: GraphBackend, caller: Caller, body: CaseIn, sla: Mapping[str, float]) -> str:
    at = now_ms()
    group_id, verdict, run_id = body.group_id, None, None
    accounts: list[str] = []
    if group_id is not None:
        group = load_group(store, group_id, None, with_decisions=False)
        verdict, run_id = group.verdict, group.run_id
        existing = store.read(cs.ACTIVE_CASE_OF_GROUP, {"group_id": group_id}).rows
        if existing:
            raise Conflict(f"group {group_id} already has case {existing[0][0]}")
    else:
        accounts = sorted(set(body.account_ids or []))
        found = {str(r[0]) for r in store.read(cs.ACCOUNTS_EXIST, {"ids": accounts}).rows}
        missing = [a for a in accounts if a not in found]
        if missing:
            raise NotFound(
                f"no account {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
    case_id = new_case_id()
    title = body.title.strip() or (
        f"Group {group_id}"
        if group_id
        else f"Accounts {', '.join(accounts[:3])}" + (", …" if len(accounts) > 3 else "")
    )
    store.run(
        cs.CREATE_CASE,
        {
            "case_id": case_id, "group_id": group_id, "title": title, "verdict": verdict,
            "origin": "manual", "at": at, "by": caller.key_id,
            "due_at": due_at(at, sla, verdict), "detected": group_id is not None,
            "run_id": run_id, "account_ids": accounts,
        },
    )  # fmt: skip
    if accounts:
        store.run(cs.LINK_CASE_ACCOUNTS, {"case_id": case_id, "account_ids": accounts})
    subject = f"group {group_id} ({verdict})" if group_id else f"{len(accounts)} accounts"
    _changed(store, caller, case_id, "case:open", f"opened by hand on {subject}")
    if body.note.strip():
        note(store, caller, case_id, body.note)
    return case_id


def claim(store: GraphBackend, caller: Caller, case_id: str) -> None:
    rows = store.run(
        cs.CLAIM, {"case_id": case_id, "key": caller.key_id, "name": caller.name, "at": now_ms()}
    ).rows
    if not rows:
        raise _refused(store, case_id, "only an unassigned, unclosed case can be claimed")
    _changed(store, caller, case_id, "case:claim", f"claimed by {caller.name or caller.key_id}")


def assign(store: GraphBackend, keys: KeyStore, caller: Caller, case_id: str, to: str) -> None:
    target = next((k for k in keys.list() if k["key_id"] == to), None)
    if target is None or target["revoked_at"]:
        raise NotFound(f"no active key {to!r} to assign the case to")
    if target["role"] not in ASSIGNABLE_ROLES:
        raise Conflict(f"cases are worked by investigators; key {to} is {target['role']}")
    holder = None if caller.role == "admin" else caller.key_id
    rows = store.run(
        cs.ASSIGN,
        {"case_id": case_id, "key": to, "name": target["name"] or to, "holder": holder,
         "at": now_ms()},
    ).rows  # fmt: skip
    if not rows:
        raise _refused(
            store, case_id, "investigators reassign only the cases they hold; closed cases stay"
        )
    who = caller.name or caller.key_id
    _changed(store, caller, case_id, "case:assign", f"assigned to {target['name'] or to} by {who}")


def set_status(store: GraphBackend, caller: Caller, case_id: str, body: StatusIn) -> str | None:
    """Move the case; closing it also records the matching decision on the group (returned)."""
    holder = None if caller.role == "admin" else caller.key_id
    if body.status == "in_review":
        allowed = ["open", "closed"] if caller.role == "admin" else ["open"]
    else:
        allowed = ["open", "in_review", "pending_approval"]
    closing = body.status == "closed"
    at = now_ms()
    rows = store.run(
        cs.SET_STATUS,
        {
            "case_id": case_id, "status": body.status, "from": allowed, "holder": holder,
            "disposition": body.disposition, "reason": body.reason if closing else None,
            "closed_at": at if closing else None, "at": at,
        },
    ).rows  # fmt: skip
    if not rows:
        raise _refused(
            store,
            case_id,
            f"cannot move to {body.status} (the assignee or an admin moves a case; "
            "in_review from open, closed when no sanction proposal is pending)",
        )
    text = f"status {body.status}" + (f": {body.disposition}" if body.disposition else "")
    _changed(
        store,
        caller,
        case_id,
        f"case:status:{body.status}",
        text + (f" ({body.reason})" if body.reason else ""),
    )
    if not closing or body.disposition is None:
        return None
    case = load_summary(store, case_id)
    changes.case_closed(store, case_id, case.group_id, body.disposition, caller.key_id)
    if case.group_id is None or not case.detected:
        return None
    try:
        group = load_group(store, case.group_id, None, with_decisions=False)
    except NotFound:
        return None
    decision = create_decision(
        store, group, caller, DECISION_OF[body.disposition], None, body.reason or text
    )
    note(
        store,
        caller,
        case_id,
        f"recorded decision {decision.decision} ({decision.decision_id}) on group {group.group_id}",
        kind="system",
    )
    return decision.decision_id


def propose(store: GraphBackend, caller: Caller, case_id: str, body: ProposalIn) -> str:
    proposal_id = "P-" + uuid.uuid4().hex[:12]
    holder = caller.key_id if caller.role == "investigator" else None
    rows = store.run(
        cs.CREATE_PROPOSAL,
        {
            "case_id": case_id, "holder": holder, "proposal_id": proposal_id,
            "action": body.action, "note": body.note, "key": caller.key_id, "role": caller.role,
            "name": caller.name, "at": now_ms(),
        },
    ).rows  # fmt: skip
    if not rows:
        raise _refused(
            store,
            case_id,
            "a sanction is proposed on an open or in-review case with no other proposal "
            "pending, by its assignee (investigators), enforcement or an admin",
        )
    text = f"proposed {body.action} ({proposal_id})" + (f": {body.note}" if body.note else "")
    _changed(store, caller, case_id, "case:propose", text)
    return proposal_id


def decide_proposal(
    store: GraphBackend, caller: Caller, case_id: str, proposal_id: str, outcome: str, text: str
) -> None:
    """Approve or reject a proposal: never with the key that proposed it (four eyes)."""
    rows = store.read(cs.PROPOSAL, {"proposal_id": proposal_id}).rows
    if not rows or rows[0][0] != case_id:
        raise NotFound(f"no proposal {proposal_id!r} on case {case_id!r}")
    _, status, proposed_by, action = rows[0]
    if proposed_by == caller.key_id:
        raise SameApprover(
            f"four eyes: proposal {proposal_id} was made with this key; a second person with "
            "the enforcement or admin role approves or rejects it"
        )
    if status != "proposed":
        raise Conflict(f"proposal {proposal_id} is already {status}")
    done = store.run(
        cs.DECIDE_PROPOSAL,
        {
            "proposal_id": proposal_id, "case_id": case_id, "outcome": outcome,
            "key": caller.key_id, "role": caller.role, "name": caller.name, "at": now_ms(),
            "note": text,
        },
    ).rows  # fmt: skip
    if not done:
        raise Conflict(f"proposal {proposal_id} was decided meanwhile")
    verb = "approved" if outcome == "approved" else "rejected"
    if outcome == "approved":
        group_id = load_summary(store, case_id).group_id
        changes.action_approved(store, group_id or f"case:{case_id}", action, proposed_by,
                                caller.key_id)  # fmt: skip
    after = "; enforcement may now record action_taken" if outcome == "approved" else ""
    _changed(
        store,
        caller,
        case_id,
        f"case:proposal:{verb}",
        f"{verb} {action} ({proposal_id}) by {caller.name or caller.key_id}{after}"
        + (f": {text}" if text else ""),
    )


def approved_sanction(
    store: GraphBackend, caller: Caller, group_id: str, action: str, override_reason: str | None
) -> tuple[str, str] | None:
    """The (proposal, case) that allows recording ``action`` on the group; None for an admin
    override with a reason; else ``ApprovalRequired``."""
    rows = store.read(cs.APPROVED_PROPOSAL, {"group_id": group_id, "action": action}).rows
    if rows:
        return str(rows[0][0]), str(rows[0][1])
    if override_reason and override_reason.strip():
        if caller.role != "admin":
            raise Forbidden("only an admin may override the four-eyes approval")
        return None
    raise ApprovalRequired(
        f"{action} needs an approved proposal on the group's case: propose it "
        "(POST /v1/cases/{case_id}/proposals) and have a second enforcement or admin key "
        "approve it; an admin may override with override_reason"
    )


def apply_sanction(
    store: GraphBackend, caller: Caller, proposal: tuple[str, str], decision_id: str
) -> None:
    """Mark the approved proposal used by this decision (once: a second use finds none)."""
    proposal_id, case_id = proposal
    rows = store.run(
        cs.APPLY_PROPOSAL, {"proposal_id": proposal_id, "decision_id": decision_id, "at": now_ms()}
    ).rows
    if not rows:
        raise Conflict(f"the approval {proposal_id} was used meanwhile")
    _changed(
        store, caller, case_id, "case:proposal:applied",
        f"action taken under approved proposal {proposal_id} (decision {decision_id})",
    )  # fmt: skip
