"""The replay behind the API's replay routes and the evidence pack: defaults filled in, the
range bounded, rows typed."""

from __future__ import annotations

from api.schemas import Fill, MarketTrade, OrderEvent, ReplayOut
from events.replay import busiest, replay
from events.store import EventStore
from events.tables import DAY_MS
from linkscope.errors import NotFound, QueryError

MAX_RANGE_MS = 31 * DAY_MS  # one month of one symbol: a bounded scan whatever the caller asks


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
