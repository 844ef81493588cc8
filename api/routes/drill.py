"""Drill-down reads for the investigator UI: what links two accounts, one trade with its
orders, an account's transfers and logins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import cursors
from api.deps import EventsDep, Investigation, StoreDep
from api.drill_schemas import LinkDetail, LoginPage, TradeDetail, TransferPage
from api.services.accounts import profile_props
from api.services.drill import account_logins, account_transfers, link_detail, trade_detail

router = APIRouter(prefix="/v1", tags=["drill-down"])

Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page.")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]
AccountId = Annotated[str, Query(min_length=1, max_length=256)]


def _decode(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    try:
        t, k = cursors.decode(cursor)
        return int(t), str(k)
    except (ValueError, TypeError) as exc:
        raise cursors.malformed() from exc


def _encode(after: tuple[int, str] | None) -> str | None:
    return None if after is None else cursors.encode(list(after))


@router.get("/links", response_model=LinkDetail, summary="What links two accounts")
def get_link(
    a: AccountId, b: AccountId, store: StoreDep, _: Investigation,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> LinkDetail:  # fmt: skip
    """The internal transfers between ``a`` and ``b`` (both ways, oldest first) and every
    identifier both used, with when and how often each account used it."""
    profile_props(store, a)  # 404 for an unknown account
    profile_props(store, b)
    return link_detail(store, a, b, limit)


@router.get("/trades/{trade_id:id}", response_model=TradeDetail, summary="One trade and its orders")
def get_trade(trade_id: str, events: EventsDep, _: Investigation) -> TradeDetail:
    return trade_detail(events, trade_id)


@router.get("/accounts/{account_id:id}/transfers", response_model=TransferPage,
            summary="An account's internal transfers")  # fmt: skip
def get_transfers(
    account_id: str, store: StoreDep, _: Investigation, cursor: Cursor = None, limit: Limit = 100
) -> TransferPage:
    """Both directions, oldest first, keyset-paged by (ts, event_id)."""
    profile_props(store, account_id)
    items, after = account_transfers(store, account_id, _decode(cursor), limit)
    return TransferPage(items=items, next_cursor=_encode(after))


@router.get("/accounts/{account_id:id}/logins", response_model=LoginPage,
            summary="An account's logins (time and IP)")  # fmt: skip
def get_logins(
    account_id: str, store: StoreDep, _: Investigation, cursor: Cursor = None, limit: Limit = 100
) -> LoginPage:
    profile_props(store, account_id)
    items, after = account_logins(store, account_id, _decode(cursor), limit)
    return LoginPage(items=items, next_cursor=_encode(after))
