"""Order and trade replay of an account or a group: orders, fills and the market's trades in one
symbol and time range, from the event store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EventsDep, Investigation, StoreDep
from api.schemas import ReplayOut
from api.services.groups import load_group
from api.services.replay import replay_of
from graph import api_statements as q
from linkscope.errors import NotFound

router = APIRouter(prefix="/v1", tags=["replay"])

Symbol = Annotated[
    str | None, Query(max_length=64, description="Default: the symbol they filled most in.")
]
Since = Annotated[
    int | None,
    Query(ge=0, description="UTC epoch ms, inclusive. Default: the day of their last fill."),
]
Until = Annotated[int | None, Query(ge=0, description="UTC epoch ms, exclusive.")]
Cap = Annotated[int, Query(ge=1, le=5000, description="Most rows returned per list.")]


@router.get(
    "/accounts/{account_id:id}/replay",
    response_model=ReplayOut,
    summary="An account's orders and fills against the market's trades",
)
def account_replay(
    account_id: str,
    store: StoreDep,
    events: EventsDep,
    _: Investigation,
    symbol: Symbol = None,
    since: Since = None,
    until: Until = None,
    cap: Cap = 2000,
) -> ReplayOut:
    if not store.read(q.ACCOUNT, {"account_id": account_id}).rows:
        raise NotFound(f"no account {account_id!r}")
    return replay_of(events, [account_id], symbol, since, until, cap)


@router.get(
    "/groups/{group_id:id}/replay",
    response_model=ReplayOut,
    summary="A group's members' orders and fills on one time axis",
)
def group_replay(
    group_id: str,
    store: StoreDep,
    events: EventsDep,
    _: Investigation,
    symbol: Symbol = None,
    since: Since = None,
    until: Until = None,
    cap: Cap = 2000,
) -> ReplayOut:
    group = load_group(store, group_id, None, with_decisions=False)
    return replay_of(events, [m.account_id for m in group.members], symbol, since, until, cap)
