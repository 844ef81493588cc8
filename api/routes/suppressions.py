"""Suppressions (what the next analysis runs should take as explained) and the precision of
past verdicts from their dispositions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from analytics.dispositions import precision
from api.deps import AnyRole, Investigation, StoreDep, require
from api.keys import Caller
from api.services import suppressions as service
from api.triage_schemas import Dispositions, Suppression, SuppressionIn

router = APIRouter(prefix="/v1", tags=["suppressions"])
Investigator = Annotated[Caller, Depends(require("investigator"))]


@router.post("/suppressions", response_model=Suppression, status_code=status.HTTP_201_CREATED,
             summary="Suppress explained evidence in the next runs")  # fmt: skip
def create_suppression(body: SuppressionIn, store: StoreDep, caller: Investigator) -> Suppression:
    return service.create(store, caller, body)


@router.get("/suppressions", response_model=list[Suppression], summary="Suppressions, newest first")
def list_suppressions(
    store: StoreDep,
    _: AnyRole,
    active: Annotated[bool | None, Query(description="Only those in force (or not).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Suppression]:
    return service.listing(store, active, limit)


@router.get("/suppressions/{suppression_id:id}", response_model=Suppression)
def get_suppression(suppression_id: str, store: StoreDep, _: AnyRole) -> Suppression:
    return service.get(store, suppression_id)


@router.delete("/suppressions/{suppression_id:id}", response_model=Suppression,
               summary="Revoke a suppression (its author or an admin)")  # fmt: skip
def revoke_suppression(suppression_id: str, store: StoreDep, caller: Investigator) -> Suppression:
    return service.revoke(store, caller, suppression_id)


@router.get("/dispositions", response_model=Dispositions,
            summary="Precision from dispositions: share of decided groups confirmed")  # fmt: skip
def dispositions(store: StoreDep, _: Investigation) -> Dispositions:
    return Dispositions.model_validate(precision(store).as_dict())
