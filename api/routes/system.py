"""Liveness, readiness and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import Admin, CallerDep, StoreDep, StoreHolder
from api.schemas import AuditEntry, Health, Me
from graph import api_statements as q

router = APIRouter(tags=["system"])


# HEAD answers like GET without a body (probes and load balancers use it); the server drops
# the body. Kept out of the schema: one function with two methods gets one operation id twice.
@router.get("/health", response_model=Health, summary="Liveness (no key needed; tells nothing)")
@router.head("/health", response_model=Health, include_in_schema=False)
def health() -> Health:
    return Health(status="ok")


@router.get("/ready", response_model=Health, summary="Readiness: the store answers (no key needed)")
@router.head("/ready", response_model=Health, include_in_schema=False)
def ready(request: Request) -> Health:
    holder: StoreHolder = request.app.state.store
    store = holder.get()
    try:
        store.ping()
    except Exception:
        holder.failed(store)
        raise
    return Health(status="ready")


@router.get("/v1/me", response_model=Me, summary="Who the key belongs to (its role)")
def me(caller: CallerDep) -> Me:
    return Me(key_id=caller.key_id, role=caller.role, name=caller.name)


@router.get("/v1/audit", response_model=list[AuditEntry], summary="Every write, newest first")
def audit(
    store: StoreDep,
    _: Admin,
    before: Annotated[int | None, Query(ge=0, description="Epoch ms: entries before.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    return [
        AuditEntry(at=r[0], key_id=r[1], role=r[2], action=r[3], target=r[4], detail=r[5] or "")
        for r in store.read(q.AUDIT, {"before": before, "limit": limit}).rows
    ]
