"""Temporal cycle search: loops of fills and transfers that leave accounts and come back.

An investigator's tool beside the verdicts (which it does not change); the answer's
``case_hook`` carries what opening a loop as a case needs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.cycle_schemas import CycleSearchOut, CyclesIn
from api.deps import EventsDep, Investigation, StoreDep
from api.services.cached import data_version
from api.services.cycles import FlowCache, find_cycles, group_members
from graph import api_statements as q
from linkscope.errors import NotFound

router = APIRouter(prefix="/v1", tags=["cycles"])

Window = Annotated[str, Query(max_length=10, description="Window length, e.g. 30d or 72h.")]
Until = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Window end (ISO 8601 or epoch ms); default: end of the latest loaded day.",
    ),
]
MaxLength = Annotated[int, Query(ge=2, le=8, description="Most hops in a loop.")]
MinAmount = Annotated[float, Query(ge=0, description="Ignore flows smaller than this.")]


def _cache(request: Request) -> FlowCache:
    cache: FlowCache = request.app.state.cycle_flows
    return cache


async def _search(
    request: Request, store: StoreDep, events: EventsDep, seeds: list[str], window: str,
    until: str | None, max_length: int, min_amount: float,
) -> CycleSearchOut:  # fmt: skip
    version = (await data_version(request, store)).ingest
    cache = _cache(request)
    return await run_in_threadpool(
        lambda: find_cycles(
            cache,
            version,
            events,
            store,
            seeds,
            window=window,
            until=until,
            max_length=max_length,
            min_amount=min_amount,
        )
    )


@router.get(
    "/accounts/{account_id:id}/cycles",
    response_model=CycleSearchOut,
    summary="Loops of fills and transfers that leave the account and come back to it",
)
async def account_cycles(
    request: Request,
    account_id: str,
    store: StoreDep,
    events: EventsDep,
    _: Investigation,
    window: Window = "30d",
    until: Until = None,
    max_length: MaxLength = 6,
    min_amount: MinAmount = 0.0,
) -> CycleSearchOut:
    """Each hop strictly later than the one before, the whole loop inside the window, ranked by
    how unusual it is (docs/analysis.md, temporal cycle search). Bounded: `complete` is false
    and `stopped` says why when the search stopped at its budget."""
    if not await run_in_threadpool(lambda: store.read(q.ACCOUNT, {"account_id": account_id}).rows):
        raise NotFound(f"no account {account_id!r}")
    return await _search(
        request, store, events, [account_id], window, until, max_length, min_amount
    )


@router.get(
    "/groups/{group_id:id}/cycles",
    response_model=CycleSearchOut,
    summary="Loops through the members of a group",
)
async def group_cycles(
    request: Request,
    group_id: str,
    store: StoreDep,
    events: EventsDep,
    _: Investigation,
    window: Window = "30d",
    until: Until = None,
    max_length: MaxLength = 6,
    min_amount: MinAmount = 0.0,
) -> CycleSearchOut:
    members = await run_in_threadpool(lambda: group_members(store, group_id))
    return await _search(request, store, events, members, window, until, max_length, min_amount)


@router.post(
    "/cycles",
    response_model=CycleSearchOut,
    summary="Loops through any of a list of accounts (e.g. a Cypher result)",
)
async def list_cycles(
    request: Request, body: CyclesIn, store: StoreDep, events: EventsDep, _: Investigation
) -> CycleSearchOut:
    """A read: POST only because the list can be long."""
    return await _search(
        request, store, events, body.accounts, body.window, body.until, body.max_length,
        body.min_amount,
    )  # fmt: skip
