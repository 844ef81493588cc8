"""An account's fills and orders, read from the event store where they live."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api import cursors
from api.deps import EventsDep, Investigation, StoreDep
from api.schemas import Fill, FillPage, OrderEvent, OrderPage
from events.queries import account_orders, account_trades
from graph import api_statements as q
from graph.backend import GraphBackend
from linkscope.errors import NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

Status = Literal["filled", "partially_filled", "cancelled", "open", "rejected"]
Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page.")]
Since = Annotated[int | None, Query(description="From this time on (UTC epoch ms, inclusive).")]
Until = Annotated[int | None, Query(description="Before this time (UTC epoch ms, exclusive).")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def _encode(after: tuple[int, str] | None) -> str | None:
    return None if after is None else cursors.encode(list(after))


def _decode(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    try:
        t, k = cursors.decode(cursor)
        return int(t), str(k)
    except (ValueError, TypeError) as exc:
        raise cursors.malformed() from exc


def _known(store: GraphBackend, account_id: str) -> None:
    if not store.read(q.ACCOUNT, {"account_id": account_id}).rows:
        raise NotFound(f"no account {account_id!r}")


@router.get("/{account_id:id}/trades", response_model=FillPage, summary="An account's fills")
def trades(
    account_id: str,
    store: StoreDep,
    events: EventsDep,
    _: Investigation,
    counterparty: Annotated[str | None, Query(description="Only fills with this account.")] = None,
    symbol: str | None = None,
    since: Since = None,
    until: Until = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> FillPage:
    """Fills on either side, oldest first, keyset-paged by (ts, trade_id)."""
    _known(store, account_id)
    page = account_trades(
        events, account_id, counterparty=counterparty, symbol=symbol, since=since, until=until,
        after=_decode(cursor), limit=limit,
    )  # fmt: skip
    return FillPage(items=[Fill(**r) for r in page.rows], next_cursor=_encode(page.next_after))


@router.get("/{account_id:id}/orders", response_model=OrderPage, summary="An account's orders")
def orders(
    account_id: str,
    store: StoreDep,
    events: EventsDep,
    _: Investigation,
    symbol: str | None = None,
    status: Status | None = None,
    since: Since = None,
    until: Until = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> OrderPage:
    """Orders by placement time, keyset-paged by (placed_at, order_id)."""
    _known(store, account_id)
    page = account_orders(
        events, account_id, symbol=symbol, status=status, since=since, until=until,
        after=_decode(cursor), limit=limit,
    )  # fmt: skip
    return OrderPage(
        items=[OrderEvent(**r) for r in page.rows], next_cursor=_encode(page.next_after)
    )
