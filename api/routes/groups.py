"""Groups: list with filters and cursor pagination, one group, its decisions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import TypeAdapter

from api import cursors
from api.audit import record
from api.case_schemas import SANCTIONS
from api.deps import AnyRole, EnforcementOrInvestigator, EventsDep, StoreDep
from api.report.clauses import CLAUSES
from api.schemas import (
    Decision,
    DecisionIn,
    GroupDetail,
    GroupPage,
    TimelineEvent,
)
from api.services import suppressions
from api.services.cached import cached, data_version
from api.services.case_changes import apply_sanction, approved_sanction
from api.services.drill import transfers
from api.services.groups import create_decision, decisions_of, load_group, summary
from events.queries import quote_assets, trades_among
from graph import api_statements as q
from graph import drill_statements as q_drill
from graph.backend import GraphBackend
from linkscope.errors import Forbidden, Gone, NotFound, QueryError

router = APIRouter(prefix="/v1", tags=["groups"])
DECISIONS = TypeAdapter(list[Decision])
# A closed set: an enforcement system's misspelt clause gets a 422, not an empty page it would
# read as "nothing to act on".
CLAUSE_PATTERN = "^(" + "|".join(sorted(CLAUSES)) + ")$"


def _encode(cursor: dict[str, Any]) -> str:
    return cursors.encode(cursor)


def _decode(text: str) -> dict[str, Any]:
    data = cursors.decode(text)
    if not isinstance(data, dict) or not {"r", "s", "g"} <= data.keys():
        raise cursors.malformed()
    return data


@router.get("/groups", response_model=GroupPage, summary="List groups (one analysis run)")
async def list_groups(
    request: Request,
    store: StoreDep,
    events: EventsDep,
    _: AnyRole,
    verdict: Annotated[str | None, Query(pattern="^(violation|suspected|cleared)$")] = None,
    clause: Annotated[
        str | None, Query(pattern=CLAUSE_PATTERN, description="A policy clause, by name.")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    changed_since: Annotated[int | None, Query(ge=0, description="Epoch ms.")] = None,
    run_id: Annotated[
        str | None, Query(max_length=64, description="Default: the current run.")
    ] = None,
    sort: Annotated[
        Literal["priority", "score"],
        Query(description="Order, highest first: priority (harm; default) or score (confidence)."),
    ] = "priority",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> GroupPage:
    after_score: float | None = None
    after_id: str | None = None
    if cursor:
        data = _decode(cursor)
        run_id, after_score, after_id = str(data["r"]), float(data["s"]), str(data["g"])
        # The cursor's own order (cursors made before priority existed paged by score).
        sort = "priority" if data.get("o") == "priority" else "score"
    explicit = run_id is not None
    version = await data_version(request, store)
    run = run_id or version.run_id
    if run is None:
        return GroupPage(items=[], run_id=None, next_cursor=None, quote_assets=[])
    filters = (verdict, clause, min_score, changed_since, sort, after_score, after_id, limit)

    def page() -> GroupPage:
        if explicit and not store.read(q.RUN_EXISTS, {"run_id": run}).rows:
            raise Gone(f"analysis run {run} is no longer kept; start again without a cursor")
        return _page(store, run, *filters)

    listed = await cached(request, ("list", run, version.decisions, *filters), page)
    assets = await cached(request, ("quote-assets", version.ingest), lambda: quote_assets(events))
    return listed.model_copy(update={"quote_assets": assets})


def _page(
    store: GraphBackend,
    run_id: str,
    verdict: str | None,
    clause: str | None,
    min_score: float | None,
    changed_since: int | None,
    sort: str,
    after_score: float | None,
    after_id: str | None,
    limit: int,
) -> GroupPage:
    rows = store.read(
        q.LIST_GROUPS,
        {
            "run_id": run_id,
            "verdict": verdict,
            "clause": clause,
            "min_score": min_score,
            "changed_since": changed_since,
            "sort": sort,
            "after_score": after_score,
            "after_id": after_id,
            "limit": limit + 1,
        },
    ).rows
    items = [summary(r) for r in rows[:limit]]
    latest: dict[str, str] = {}
    if items:
        for gid, decision in store.read(
            q.LATEST_DECISIONS, {"ids": [g.group_id for g in items]}
        ).rows:
            latest[str(gid)] = str(decision)
        items = [g.model_copy(update={"decision": latest.get(g.group_id)}) for g in items]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        key = last.score if sort == "score" else last.priority
        next_cursor = _encode({"r": run_id, "s": key, "g": last.group_id, "o": sort})
    return GroupPage(items=items, run_id=run_id, next_cursor=next_cursor, quote_assets=[])


@router.get("/groups/{group_id:id}", response_model=GroupDetail, summary="One group, in full")
async def get_group(
    request: Request,
    group_id: str,
    store: StoreDep,
    _: AnyRole,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    version = await data_version(request, store)
    run = run_id or version.run_id
    if run is None:
        raise NotFound(f"no group {group_id!r}: nothing analysed yet")
    # The assessment of a run never changes: cached, already serialized (evidence can be
    # large; validating and encoding it on every read was most of the time). Decisions are
    # cached per count of decisions made, and spliced in.
    body = await cached(
        request,
        ("group-json", run, group_id),
        lambda: load_group(store, group_id, run, with_decisions=False).model_dump_json().encode(),
    )
    decisions = await cached(
        request,
        ("decisions", version.decisions, group_id),
        lambda: DECISIONS.dump_json(decisions_of(store, group_id)),
    )
    assert body.endswith(b',"decisions":[]}')  # decisions is the last field of GroupDetail
    return Response(body[: -len(b"[]}")] + decisions + b"}", media_type="application/json")


@router.get("/groups/{group_id:id}/decisions", response_model=list[Decision])
def list_decisions(group_id: str, store: StoreDep, _: AnyRole) -> list[Decision]:
    return decisions_of(store, group_id)


@router.post(
    "/groups/{group_id:id}/decisions",
    response_model=Decision,
    status_code=status.HTTP_201_CREATED,
    summary="Record a decision on the group's current assessment",
)
def decide(
    request: Request,
    group_id: str,
    body: DecisionIn,
    store: StoreDep,
    caller: EnforcementOrInvestigator,
) -> Decision:
    investigator_kinds = {"confirm", "dismiss", "escalate"}
    if caller.role == "investigator" and body.decision not in investigator_kinds:
        raise Forbidden("investigators confirm, dismiss or escalate; enforcement records actions")
    if caller.role == "enforcement" and body.decision != "action_taken":
        raise Forbidden("enforcement records the action taken (decision: action_taken)")
    if body.decision == "action_taken" and body.action is None:
        raise QueryError("action_taken needs the action that was taken")
    if body.suppress is not None and body.decision != "dismiss":
        raise QueryError("a suppression comes with a dismissal (decision: dismiss)")
    # Four eyes: a freeze, restriction or closure needs a proposal a second key approved.
    group = load_group(store, group_id, None, with_decisions=False)
    sanction = body.decision == "action_taken" and body.action in SANCTIONS
    approval = (
        approved_sanction(store, caller, group_id, str(body.action), body.override_reason)
        if sanction
        else None
    )
    decision_id = uuid.uuid4().hex[:16]
    if approval is not None:
        apply_sanction(store, caller, approval, decision_id)
    decision = create_decision(
        store, group, caller, body.decision, body.action, body.note, decision_id
    )
    request.app.state.cache.expire_version()
    record(store, caller, f"decision:{body.decision}", f"group:{group_id}", body.note)
    if sanction and approval is None:
        record(
            store, caller, "decision:action_taken:override", f"group:{group_id}",
            f"{body.action} without an approved proposal: {body.override_reason}",
        )  # fmt: skip
    if body.suppress is not None:  # after the dismissal: a refused suppression leaves it made
        suppressions.create(store, caller, body.suppress, group_id)
    return decision


@router.get("/groups/{group_id:id}/timeline", response_model=list[TimelineEvent])
def timeline(
    group_id: str,
    store: StoreDep,
    events_store: EventsDep,
    _: AnyRole,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> list[TimelineEvent]:
    """The group's trades among members, its members' logins, internal transfers and examples
    of synchronized trading, in time order."""
    group = load_group(store, group_id, None, with_decisions=False)
    members = [m.account_id for m in group.members]
    params = {"members": members, "limit": limit}
    events = [
        TimelineEvent(
            ts=int(ts),
            kind="trade",
            account=s,
            counterparty=b,
            detail=f"{s} sold {qty:g} {sym} at {price:g} to {b} ({tid})",
            ref=str(tid),
        )
        for ts, s, b, sym, qty, price, tid in (
            (t["ts"], t["seller_id"], t["buyer_id"], t["symbol"], t["qty"], t["price"],
             t["trade_id"])
            for t in trades_among(events_store, members, limit)
        )
    ]  # fmt: skip
    events += [
        TimelineEvent(ts=int(ts), kind="login", account=a, detail=f"{a} logged in from {ip}",
                      ref=None)
        for ts, a, ip in store.read(q.TIMELINE_LOGINS, params).rows
    ]
    moved = store.read(q_drill.MEMBER_TRANSFER_EVENTS, params).rows
    events += [
        TimelineEvent(ts=t.ts, kind="transfer", account=t.source, counterparty=t.target,
                      ref=t.event_id, detail=f"{t.source} transferred {t.amount:,.2f} "
                      f"{t.asset or ''} to {t.target}")
        for t in transfers([[s, d, ts, amt, asset, None, eid, by] for ts, s, d, amt, asset, eid, by in moved])
    ]  # fmt: skip
    events += [
        TimelineEvent(ts=int(x["ts_a"]), kind="sync", account=p["a"], counterparty=p["b"], ref=None,
                      detail=f"{p['a']} and {p['b']} both {x['side']} {x['symbol']} "
                      f"{abs(int(x['ts_b']) - int(x['ts_a'])) / 1000:.1f} s apart")
        for p in group.evidence.get("synchronized", [])
        for x in p.get("examples", [])
    ]  # fmt: skip
    events.sort(key=lambda e: (e.ts, e.kind, e.account))
    return events[:limit]
