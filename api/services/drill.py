"""Reads behind the drill-down: a link's transfers and shared identifiers, an account's
transfers and logins (graph store), one trade with its orders (event store)."""

from __future__ import annotations

from typing import Any

from api.drill_schemas import (
    IdentifierUse,
    LinkDetail,
    Login,
    SharedIdentifier,
    TradeDetail,
    Transfer,
)
from api.schemas import Fill, OrderEvent
from events.store import EventStore
from graph import drill_statements as q
from graph.backend import GraphBackend
from linkscope.errors import NotFound

SAMPLE_TIMES = 20


def _transfer(row: list[Any]) -> Transfer:
    src, dst, ts, amount, asset, method, event_id = row
    return Transfer(event_id=str(event_id), ts=int(ts or 0), source=str(src), target=str(dst),
                    amount=float(amount or 0), asset=asset, method=method)  # fmt: skip


def link_detail(store: GraphBackend, a: str, b: str, limit: int) -> LinkDetail:
    rows = store.read(q.PAIR_TRANSFERS, {"a": a, "b": b, "limit": limit + 1}).rows
    shared = store.read(q.PAIR_SHARED, {"a": a, "b": b}).rows
    uses: dict[tuple[int, str], dict[str, Any]] = {}
    if shared:
        ids = [int(r[0]) for r in shared]
        for aid, node, rel, times, ts, amount, asset in store.read(
            q.IDENTIFIER_USES, {"accounts": [a, b], "ids": ids}
        ).rows:
            use = uses.setdefault((int(node), str(aid)), {"rel": str(rel), "times": [],
                                                           "amount": None, "asset": asset})  # fmt: skip
            use["times"] += [int(t) for t in (times or [])] or ([int(ts)] if ts is not None else [])
            if amount is not None:
                use["amount"] = (use["amount"] or 0.0) + float(amount)
    identifiers = []
    for node, label, value in sorted(shared, key=lambda r: (str(r[1]), str(r[2]))):
        listed = []
        for account in (a, b):
            found = uses.get((int(node), account))
            if found is None:
                continue
            times = sorted(found["times"])
            listed.append(IdentifierUse(
                account=account, relationship=found["rel"], count=len(times),
                first=times[0] if times else None, last=times[-1] if times else None,
                times=times[:SAMPLE_TIMES], amount=found["amount"], asset=found["asset"],
            ))  # fmt: skip
        identifiers.append(SharedIdentifier(kind=str(label), value=str(value), uses=listed))
    return LinkDetail(a=a, b=b, transfers=[_transfer(r) for r in rows[:limit]],
                      transfers_truncated=len(rows) > limit, identifiers=identifiers)  # fmt: skip


def account_transfers(
    store: GraphBackend, account_id: str, after: tuple[int, str] | None, limit: int
) -> tuple[list[Transfer], tuple[int, str] | None]:
    """Both directions by (ts, event_id), from ``after`` on; the last key when more follow."""
    params = {"account_id": account_id, "limit": limit + 1,
              "after_ts": after[0] if after else -1, "after_id": after[1] if after else ""}  # fmt: skip
    rows = store.read(q.TRANSFERS_OUT, params).rows + store.read(q.TRANSFERS_IN, params).rows
    items = sorted((_transfer(r) for r in rows), key=lambda t: (t.ts, t.event_id))
    more = len(items) > limit
    items = items[:limit]
    return items, (items[-1].ts, items[-1].event_id) if more else None


def account_logins(
    store: GraphBackend, account_id: str, after: tuple[int, str] | None, limit: int
) -> tuple[list[Login], tuple[int, str] | None]:
    params = {"account_id": account_id, "limit": limit + 1,
              "after_ts": after[0] if after else -1, "after_id": after[1] if after else ""}  # fmt: skip
    rows = store.read(q.LOGINS, params).rows
    items = [Login(ts=int(ts), ip=str(ip)) for ts, ip in rows[:limit]]
    more = len(rows) > limit
    return items, (items[-1].ts, items[-1].ip) if more else None


def trade_detail(events: EventStore, trade_id: str) -> TradeDetail:
    found = events.lookup("trades", [trade_id]).to_pylist()
    if not found:
        raise NotFound(f"no trade {trade_id!r}")
    trade = Fill(**found[0])
    wanted = [o for o in (trade.buy_order_id, trade.sell_order_id) if o]
    orders = [OrderEvent(**r) for r in events.lookup("orders", wanted).to_pylist()] if wanted else []
    return TradeDetail(trade=trade, orders=orders)
