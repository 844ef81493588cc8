"""Accounts: profile with identifiers and flags, the account's group, its neighbourhood."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from analytics.config import AnalysisConfig
from analytics.pipeline import stored_config
from api.deps import AnyRole, Investigation, StoreDep
from api.schemas import (
    AccountProfile,
    GroupSummary,
    Neighborhood,
)
from api.services.accounts import neighborhood, profile, profile_props
from api.services.cached import cached, current_run, data_version
from api.services.groups import summary
from graph import api_statements as q
from linkscope.errors import NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get("/{account_id:id}", response_model=AccountProfile, summary="Account profile")
async def get_account(
    request: Request, account_id: str, store: StoreDep, _: Investigation
) -> AccountProfile:
    version = await data_version(request, store)
    cfg = await cached(
        request, ("config", version.run_id), lambda: stored_config(store) or AnalysisConfig()
    )
    return await cached(
        request, ("profile", *version, account_id), lambda: profile(store, account_id, cfg.linkage)
    )


@router.get(
    "/{account_id:id}/group", response_model=GroupSummary, summary="The account's current group"
)
async def get_account_group(
    request: Request, account_id: str, store: StoreDep, _: AnyRole
) -> GroupSummary:
    run = await current_run(request, store)

    def lookup() -> GroupSummary | None:
        rows = store.read(q.ACCOUNT_GROUP_IN_RUN, {"account_id": account_id, "run_id": run}).rows
        if rows:
            return summary(rows[0])
        profile_props(store, account_id)  # 404 for an unknown account (not cached)
        return None

    found = await cached(request, ("account-group", run, account_id), lookup)
    if found is None:
        raise NotFound(f"account {account_id!r} is in no group")
    return found


@router.get(
    "/{account_id:id}/neighborhood",
    response_model=Neighborhood,
    summary="Nodes and edges around the account, breadth first",
)
def get_neighborhood(
    account_id: str,
    store: StoreDep,
    _: Investigation,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
    rel: Annotated[str | None, Query(max_length=300, description="Comma-separated types.")] = None,
) -> Neighborhood:
    return neighborhood(store, account_id, depth, limit, rel)
