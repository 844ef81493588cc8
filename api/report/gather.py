"""Everything an evidence pack shows, read once from the graph and the event store.

Each figure in a pack comes from here and names its source: group fields and linkage evidence
from the graph's ``Group`` node (what the analysis wrote), identifiers from the members'
``USED_IP``/``USED_DEVICE``/funding relationships, fills and orders from the event store by the
ids the findings cite. The renderer only formats these.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from analytics.config import AnalysisConfig
from analytics.pipeline import stored_config
from api.schemas import GroupDetail, Identifier, ReplayOut
from api.services.accounts import profile
from api.services.groups import load_group
from api.services.replay import replay_of
from events.evidence import daily_share, fills_of, net_positions
from events.replay import busiest
from events.store import EventStore
from events.tables import DAY_MS
from graph import api_statements as q
from graph.backend import GraphBackend
from linkscope.errors import LinkscopeError

FILLS_CAP = 20_000  # members' fills read for the timeline (a pack is a document, not a dump)
POSITION_POINTS = 5_000  # points per member in the net-position plot
LOGINS_CAP = 2_000
IDENTIFIER_MEMBERS = 200  # members whose identifiers are listed (a group is rarely larger)
REPLAY_CAP = 2_000
FLAG_ROWS = 50  # fills and orders listed per flag


@dataclass
class MemberFacts:
    account_id: str
    role: str
    account_type: str
    status: str
    flags: list[str]
    identifiers: list[Identifier]


@dataclass
class FlagFacts:
    account: str
    clause: str
    score: float
    evidence: dict[str, Any]
    fills: list[dict[str, Any]]
    orders: list[dict[str, Any]]


@dataclass
class Pack:
    group: GroupDetail
    generated_at: int
    config: AnalysisConfig
    members: list[MemberFacts]
    # (seller, buyer) -> (fills, quote) among members, from the graph's TRADES_WITH totals
    trading: list[tuple[str, str, int, float]]
    wash_fills: dict[str, dict[str, Any]]  # trade id -> the fill, for every cited fill
    orders: dict[str, dict[str, Any]]  # order id -> the order, behind cited fills and flags
    flags: list[FlagFacts]
    fills: list[dict[str, Any]]
    fills_total: int
    logins: list[tuple[int, str, str]]
    symbol: str | None
    positions: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    final_positions: dict[str, float] = field(default_factory=dict)
    share: list[dict[str, Any]] = field(default_factory=list)
    replay: ReplayOut | None = None

    @property
    def member_ids(self) -> list[str]:
        return [m.account_id for m in self.members]


def _by_key(events: EventStore, table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    key = "trade_id" if table == "trades" else "order_id"
    return {r[key]: r for r in events.lookup(table, sorted(set(ids))).to_pylist()}


def _cited_trades(group: GroupDetail) -> list[str]:
    ev = group.evidence
    ids = [t for w in ev.get("wash", []) for t in w.get("trade_ids", [])]
    ids += [t for p in ev.get("synchronized", []) for t in p.get("trade_ids", [])]
    return ids


def gather(store: GraphBackend, events: EventStore, group_id: str) -> Pack:
    group = load_group(store, group_id, None)
    cfg = stored_config(store) or AnalysisConfig()
    ids = [m.account_id for m in group.members]
    members = []
    flags: list[FlagFacts] = []
    for i, m in enumerate(group.members):
        prof = profile(store, m.account_id, cfg.linkage) if i < IDENTIFIER_MEMBERS else None
        members.append(
            MemberFacts(
                m.account_id, m.role, m.account_type, m.status, m.flags,
                prof.identifiers if prof else [],
            )
        )  # fmt: skip
        for af in prof.flags if prof else []:
            flags.append(FlagFacts(m.account_id, af.clause, af.score, af.evidence, [], []))
    fills_cited = _by_key(
        events,
        "trades",
        _cited_trades(group)
        + [t for f in flags for t in f.evidence.get("trade_ids", [])[:FLAG_ROWS]],
    )
    order_ids = [o for f in flags for o in f.evidence.get("order_ids", [])[:FLAG_ROWS]]
    order_ids += [
        o
        for t in fills_cited.values()
        for o in (t.get("buy_order_id"), t.get("sell_order_id"))
        if o
    ]
    orders = _by_key(events, "orders", order_ids)
    for f in flags:
        f.fills = [
            fills_cited[t] for t in f.evidence.get("trade_ids", [])[:FLAG_ROWS] if t in fills_cited
        ]
        f.orders = [orders[o] for o in f.evidence.get("order_ids", [])[:FLAG_ROWS] if o in orders]
    trading = [
        (str(s), str(b), int(n), float(quote))
        for s, b, n, quote in store.read(q.MEMBER_TRADES, {"members": ids}).rows
    ]
    fills, total = fills_of(events, ids, FILLS_CAP)
    logins = [
        (int(ts), str(a), str(ip))
        for ts, a, ip in store.read(q.TIMELINE_LOGINS, {"members": ids, "limit": LOGINS_CAP}).rows
    ]
    wash = group.evidence.get("wash", [])
    found = busiest(events, ids)
    symbol = wash[0]["symbol"] if wash else (found[0] if found else None)
    pack = Pack(
        group, int(time.time() * 1000), cfg, members, trading, fills_cited, orders, flags,
        fills, total, logins, symbol,
    )  # fmt: skip
    if symbol is not None:
        pack.positions, pack.final_positions = net_positions(events, ids, symbol, POSITION_POINTS)
        pack.share = daily_share(events, ids, symbol)
        pack.replay = _replay(events, ids, symbol, wash, fills_cited)
    return pack


def _replay(
    events: EventStore,
    ids: list[str],
    symbol: str,
    wash: list[dict[str, Any]],
    cited: dict[str, dict[str, Any]],
) -> ReplayOut | None:
    """The members' orders and fills on the day of the first wash set's first cited fill (its
    symbol is the pack's focus), else of their last fill in the symbol: the static replay."""
    first = sorted(
        int(cited[t]["ts"]) for t in (wash[0].get("trade_ids", []) if wash else []) if t in cited
    )
    since = int(first[0]) // DAY_MS * DAY_MS if first else None
    try:
        return replay_of(
            events, ids, symbol, since, None if since is None else since + DAY_MS, REPLAY_CAP
        )
    except LinkscopeError:
        return None
