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
END = "\U0010ffff"  # after every event id: a cursor past all records of one millisecond


def transfers(rows: list[list[Any]]) -> list[Transfer]:
    """Transfers from TRANSFER records, oldest first: the sender's withdrawal and the
    receiver's deposit of one transfer (same accounts, time, amount and asset) are one."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for src, dst, ts, amount, asset, method, event_id, reporter in rows:
        key = (str(src), str(dst), int(ts or 0), float(amount or 0), asset)
        found = seen.setdefault(key, {"event_id": str(event_id), "ts": key[2], "source": key[0],
                                      "target": key[1], "amount": key[3], "asset": asset,
                                      "method": method, "reported_by": []})  # fmt: skip
        if reporter and reporter not in found["reported_by"]:
            found["reported_by"].append(str(reporter))
    return sorted((Transfer(**t) for t in seen.values()), key=lambda t: (t.ts, t.event_id))


def link_detail(store: GraphBackend, a: str, b: str, limit: int) -> LinkDetail:
    # Twice the records: most transfers are reported by both sides.
    rows = store.read(q.PAIR_TRANSFERS, {"a": a, "b": b, "limit": 2 * limit + 1}).rows
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
    moved = transfers(rows)
    return LinkDetail(a=a, b=b, transfers=moved[:limit],
                      transfers_truncated=len(moved) > limit or len(rows) > 2 * limit, identifiers=identifiers)  # fmt: skip


def account_transfers(
    store: GraphBackend, account_id: str, after: tuple[int, str] | None, limit: int
) -> tuple[list[Transfer], tuple[int, str] | None]:
    """Both directions by time, from ``after`` on; the cursor when more follow. Records are
    read per direction (up to two per transfer: each side may report it), so the page holds
    only transfers older than where a cut-off direction stopped, and ends after a whole
    millisecond (the two records of a transfer share its time: no page starts between them)."""
    records = 2 * limit + 2
    params = {"account_id": account_id, "limit": records,
              "after_ts": after[0] if after else -1, "after_id": after[1] if after else ""}  # fmt: skip
    rows, horizon = [], None
    for found in (store.read(q.TRANSFERS_OUT, params).rows, store.read(q.TRANSFERS_IN, params).rows):
        rows += found
        if len(found) == records:  # cut off: later records of this direction are unread
            last = int(found[-1][2] or 0)
            horizon = last if horizon is None else min(horizon, last)
    items = transfers(rows)
    complete = [t for t in items if horizon is None or t.ts < horizon]
    if len(complete) > limit:
        last = complete[limit - 1].ts
        return [t for t in complete if t.ts <= last], (last, END)
    if horizon is None:
        return complete, None
    if not complete:  # more records in one millisecond than a page reads: that millisecond
        complete = [t for t in items if t.ts <= horizon]
    return complete, (complete[-1].ts, END)


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
