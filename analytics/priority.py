"""The order of the queue: how much harm a group's findings involve, not how sure we are.

The verdict score saturates (every clear violation scores 1.00), so it is kept as confidence
and a separate ``priority`` (0..100) orders the queue. It weighs, in this order: the volume the
findings involve (wash trades, the members' synchronized trades with the market, concentrated
trading among members, spoofed notional, self-matched volume), the largest share of one
symbol's volume those trades make, repeat offence, how recently the group acted, the number of
members and the confidence. Every term is continuous, so two groups share a priority only when
they share all of it. ``priority_reasons`` says in words what the number is made of.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.assessment import ACTION_RANK, GroupAssessment
from analytics.cycles import WashSet
from analytics.projection import FloatArray, IntArray, Trades
from analytics.trading import SyncPair, TradeIndex
from events.tables import DAY_MS

# Weights of the terms (they add up to 100 before the verdict factor).
WEIGHTS = {"volume": 40.0, "share": 15.0, "repeat": 15.0, "recency": 10.0, "members": 10.0,
           "confidence": 10.0}  # fmt: skip
# A suspected group with much at stake can pass a violation with little; a cleared one cannot.
VERDICT_FACTOR = {"violation": 1.0, "suspected": 0.7, "cleared": 0.1}
VOLUME_SCALE = 9.0  # log10 of the volume (quote currency) that makes the volume term whole
RECENCY_HALF_LIFE_DAYS = 7.0


@dataclass
class Harm:
    """What a group's findings involve, in figures."""

    wash: float = 0.0
    coordinated: float = 0.0
    among: float = 0.0  # concentrated trading among members (relations), beyond wash
    spoofed: float = 0.0
    self_matched: float = 0.0
    share: float = 0.0  # largest share of one symbol's volume made by the involved trades
    share_symbol: str = ""
    share_days: int = 0
    members: int = 0
    prior: int = 0
    idle_days: float = 0.0  # from the group's last trade to the end of the data
    confidence: float = 0.0
    currency: str = ""
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def volume(self) -> float:
        return self.wash + self.coordinated + self.among + self.spoofed + self.self_matched


class Prioritizer:
    """Computes every group's harm from the run's trades; one instance per run."""

    def __init__(
        self,
        trades: Trades,
        index: TradeIndex,
        window_ms: int,
        symbol_quote: FloatArray,
        last_trade: IntArray,
    ) -> None:
        """``symbol_quote``: each symbol's quote volume over every fill of the window (in
        ``trades.symbols`` order); ``last_trade``: each account's last fill over every fill
        (``trades`` may hold only the fills an engine sent back)."""
        self.trades = trades
        self.quote: FloatArray = trades.quote
        self.index = index
        self.symbol_quote = symbol_quote
        self.last_trade = last_trade
        self.end = int(last_trade.max(initial=0))
        self.window_ms = window_ms

    def harm(
        self, group: GroupAssessment, sync: Iterable[SyncPair], wash_positions: list[IntArray]
    ) -> Harm:
        members = set(group.members)
        ev = group.evidence
        h = Harm(members=len(group.members), confidence=group.score)
        h.wash = sum(float(w["quote"]) for w in ev.get("wash", []))
        coordinated = self._coordinated(sync, members)
        h.coordinated = float(self.quote[coordinated].sum()) if len(coordinated) else 0.0
        if "wash" not in ev:
            h.among = sum(float(r["quote"]) for r in ev.get("relations", []))
        for flag in ev.get("member_flags", []):
            h.spoofed += float(flag.get("spoofed_notional", 0.0))
            h.self_matched += float(flag.get("self_matched_quote", 0.0))
        h.prior = max(
            (ACTION_RANK.get(str(x["action"]), 1) for x in ev.get("history", [])), default=0
        )
        involved = np.unique(np.concatenate([coordinated, *wash_positions])).astype(np.int64)
        self._share(h, involved)
        last = self._last_trade(group.members)
        h.idle_days = max(0.0, (self.end - last) / DAY_MS) if last else float("inf")
        h.currency = self._currency(involved)
        return h

    def _coordinated(self, sync: Iterable[SyncPair], members: set[int]) -> IntArray:
        """Positions of the members' fills in synchronized episodes, other than fills between
        two members (those count as trading among members)."""
        out: list[IntArray] = []
        for pair in sync:
            out.extend(synchronized_fills(self.index, pair, self.window_ms))
        if not out:
            return np.zeros(0, dtype=np.int64)
        pos = np.unique(np.concatenate(out))
        t = self.trades
        inside = np.asarray(
            [s in members and b in members
             for s, b in zip(t.seller[pos].tolist(), t.buyer[pos].tolist(), strict=True)],
            dtype=bool,
        )  # fmt: skip
        return pos[~inside] if len(pos) else pos

    def _share(self, h: Harm, involved: IntArray) -> None:
        if not len(involved):
            return
        t = self.trades
        by_symbol = np.bincount(t.symbol[involved], weights=self.quote[involved],
                                minlength=len(t.symbols))  # fmt: skip
        share = by_symbol / np.maximum(self.symbol_quote, 1e-12)
        top = int(np.argmax(share))
        h.share, h.share_symbol = float(min(share[top], 1.0)), t.symbols[top]
        days = t.ts[involved[t.symbol[involved] == top]] // DAY_MS
        h.share_days = len(np.unique(days))

    def _last_trade(self, members: list[int]) -> int:
        return int(self.last_trade[members].max(initial=0))

    def _currency(self, involved: IntArray) -> str:
        t = self.trades
        names = {t.symbols[int(s)] for s in np.unique(t.symbol[involved]).tolist()}
        quotes = {_quote_currency(n) for n in names}
        return quotes.pop() if len(quotes) == 1 else ""


def synchronized_fills(index: TradeIndex, pair: SyncPair, window_ms: int) -> list[IntArray]:
    """Positions of both accounts' fills that had a fill of the other account in the same
    symbol and side within ``window_ms`` (the pair's synchronized trading)."""
    t = index.trades
    out: list[IntArray] = []
    for side in ("sell", "buy"):
        mine, theirs = index.of(pair.a, side), index.of(pair.b, side)
        if not len(mine) or not len(theirs):
            continue
        for x, y in ((mine, theirs), (theirs, mine)):
            key_y = np.sort(t.symbol[y].astype(np.int64) << 42 | t.ts[y])
            key_x = t.symbol[x].astype(np.int64) << 42 | t.ts[x]
            near = np.searchsorted(key_y, key_x + window_ms, "right") - np.searchsorted(
                key_y, key_x - window_ms
            )
            out.append(x[near > 0])
    return out


def priority(h: Harm, verdict: str) -> tuple[float, list[str]]:
    """The priority (0..100, 4 decimals) and the reasons it is made of, most weighty first."""
    terms = {
        "volume": min(1.0, math.log10(1.0 + h.volume) / VOLUME_SCALE),
        "share": min(1.0, math.sqrt(h.share)),
        "repeat": min(1.0, h.prior / ACTION_RANK["closed"]),
        "recency": 0.0
        if math.isinf(h.idle_days)
        else 0.5 ** (h.idle_days / RECENCY_HALF_LIFE_DAYS),
        "members": min(1.0, math.log2(max(h.members, 1)) / 6.0),
        "confidence": h.confidence,
    }
    h.parts = {k: round(WEIGHTS[k] * v, 4) for k, v in terms.items()}
    value = VERDICT_FACTOR.get(verdict, 0.1) * sum(WEIGHTS[k] * v for k, v in terms.items())
    return round(value, 4), reasons(h, verdict)


def reasons(h: Harm, verdict: str) -> list[str]:
    cur = f" {h.currency}" if h.currency else ""
    out: list[str] = []
    if h.wash:
        out.append(f"wash volume {human(h.wash)}{cur}")
    if h.coordinated:
        out.append(f"coordinated volume {human(h.coordinated)}{cur}")
    if h.among:
        out.append(f"concentrated trading among members {human(h.among)}{cur}")
    if h.spoofed:
        out.append(f"spoofed notional {human(h.spoofed)}{cur}")
    if h.self_matched:
        out.append(f"self-matched volume {human(h.self_matched)}{cur}")
    if out and h.share_symbol:
        days = f" on {h.share_days} day{'s' if h.share_days != 1 else ''}"
        out[0] += f", {h.share:.0%} of {h.share_symbol}{days}" if h.share >= 0.005 else ""
    if not out:
        out.append("no trading volume involved")
    if h.prior:
        out.append("repeat offender (" + _PRIOR[h.prior] + ")")
    out.append(f"{h.members} member{'s' if h.members != 1 else ''}")
    if not math.isinf(h.idle_days):
        out.append(
            "active up to the end of the data"
            if h.idle_days < 1
            else f"last active {h.idle_days:.0f} day{'s' if round(h.idle_days) != 1 else ''} "
            "before the end of the data"
        )
    out.append(f"confidence {h.confidence:.2f}" + ("" if verdict != "cleared" else " (cleared)"))
    return out


_PRIOR = {1: "earlier warning or report request", 2: "earlier freeze",
          3: "earlier restriction", 4: "earlier closure"}  # fmt: skip


def human(x: float) -> str:
    """2.1M, 310k, 950: volumes as people read them."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{suffix}"
    return f"{x:,.0f}"


def _quote_currency(symbol: str) -> str:
    for sep in ("/", "_", "-"):
        if sep in symbol:
            return symbol.rsplit(sep, 1)[1]
    return ""


def prioritize(
    groups: list[GroupAssessment],
    trades: Trades,
    index: TradeIndex,
    sync: list[SyncPair],
    wash: list[WashSet],
    window_ms: int,
    symbol_quote: FloatArray,
    last_trade: IntArray,
) -> None:
    """Sets ``priority``, ``priority_reasons`` and ``volume`` of every group in place; the
    figures go in the group's evidence as ``priority``."""
    p = Prioritizer(trades, index, window_ms, symbol_quote, last_trade)
    sync_of: dict[int, list[SyncPair]] = {}
    for pair in sync:
        sync_of.setdefault(pair.a, []).append(pair)
    wash_of: dict[int, list[WashSet]] = {}
    for w in wash:
        for m in w.members:
            wash_of.setdefault(m, []).append(w)
    for g in groups:
        inside = set(g.members)
        pairs = [s for m in g.members for s in sync_of.get(m, []) if s.b in inside]
        sets = {id(w): w for m in g.members for w in wash_of.get(m, [])
                if sum(x in inside for x in w.members) >= 2}  # fmt: skip
        h = p.harm(g, pairs, [w.trades for w in sets.values()])
        g.priority, g.priority_reasons = priority(h, g.verdict)
        g.volume = round(h.volume, 2)
        g.evidence["priority"] = _figures(h)


def _figures(h: Harm) -> dict[str, Any]:
    return {
        "wash_volume": round(h.wash, 2),
        "coordinated_volume": round(h.coordinated, 2),
        "among_members_volume": round(h.among, 2),
        "spoofed_notional": round(h.spoofed, 2),
        "self_matched_volume": round(h.self_matched, 2),
        "top_symbol": h.share_symbol,
        "top_symbol_share": round(h.share, 6),
        "top_symbol_days": h.share_days,
        "prior_action_rank": h.prior,
        "days_since_last_trade": None if math.isinf(h.idle_days) else round(h.idle_days, 2),
        "terms": h.parts,
    }
