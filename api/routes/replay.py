"""Order and trade replay of an account or a group: orders, fills and the market's trades in one
symbol and time range, from the event store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EventsDep, Investigation, StoreDep
from api.schemas import Fill, MarketTrade, OrderEvent, ReplayOut
from api.services.groups import load_group
from events.replay import busiest, replay
from events.store import EventStore
from events.tables import DAY_MS
from graph import api_statements as q
from linkscope.errors import NotFound, QueryError

router = APIRouter(prefix="/v1", tags=["replay"])

MAX_RANGE_MS = 31 * DAY_MS  # one month of one symbol: a bounded scan whatever the caller asks
Symbol = Annotated[
    str | None, Query(max_length=64, description="Default: the symbol they filled most in.")
]
Since = Annotated[
    int | None,
    Query(ge=0, description="UTC epoch ms, inclusive. Default: the day of their last fill."),
]
Until = Annotated[int | None, Query(ge=0, description="UTC epoch ms, exclusive.")]
Cap = Annotated[int, Query(ge=1, le=5000, description="Most rows returned per list.")]


def replay_of(
    events: EventStore,
    accounts: list[str],
    symbol: str | None,
    since: int | None,
    until: int | None,
    cap: int,
) -> ReplayOut:
    """The replay, with the defaults filled in (shared by the evidence pack)."""
    if symbol is None or since is None or until is None:
        found = busiest(events, accounts)
        if found is None and symbol is None:
            raise NotFound("no fills to replay: give symbol, since and until")
        default_symbol, day_start, day_end = found or (symbol or "", 0, DAY_MS)
        symbol = symbol or default_symbol
        if since is None and until is None:
            since, until = day_start, day_end
        elif since is None:
            since = max(0, int(until or 0) - DAY_MS)
        elif until is None:
            until = since + DAY_MS
    assert since is not None and until is not None
    if until <= since:
        raise QueryError("until must be later than since")
    if until - since > MAX_RANGE_MS:
        raise QueryError(f"a replay covers at most {MAX_RANGE_MS // DAY_MS} days")
    r = replay(events, accounts, symbol, since, until, cap)
    return ReplayOut(
        accounts=accounts, symbol=r.symbol, since=r.since, until=r.until,
        orders=[OrderEvent(**o) for o in r.orders], fills=[Fill(**f) for f in r.fills],
        market=[MarketTrade(**m) for m in r.market], totals=r.totals, cap=cap, capped=r.capped,
    )  # fmt: skip


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
