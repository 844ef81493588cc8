"""Findings on single accounts: self-matching, unauthorized bots, limit breaches (spoofing and
layering: ``analytics/spoofing.py``).

Each detector works on one kind of data and says so when that data is absent. Scores are in
0..1; each flag carries the figures it was decided on (rates, timings, days) and, where the
store has them, example order or trade ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.config import BehaviourConfig
from analytics.cycles import self_trades
from analytics.projection import Accounts, BoolArray, FloatArray, IntArray, OrderDays, Trades

DAY_MS = 86_400_000


@dataclass
class Flag:
    account: int
    clause: str
    score: float
    evidence: dict[str, Any]
    trades: list[int] = field(default_factory=list)  # positions in Trades, for evidence ids
    order_days: list[tuple[str, int]] = field(default_factory=list)  # (symbol, day) for order ids
    # The whole ``orders`` rows of the orders it cites by name (spoofing bait), as the detector
    # read them: write-back makes them evidence without looking them up again.
    cited_orders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def orders(self) -> list[str]:
        """The ids of the orders it cites by name."""
        return [row["order_id"] for row in self.cited_orders]


def self_matching_flags(trades: Trades, cfg: BehaviourConfig) -> list[Flag]:
    flags = []
    for account, idx in self_trades(trades).items():
        if len(idx) < cfg.self_trade_min:
            continue
        quote = float(trades.quote_of(idx).sum())
        symbols = sorted({trades.symbols[int(s)] for s in trades.symbol[idx].tolist()})
        score = min(1.0, 0.6 + 0.05 * len(idx))
        evidence = {"self_trades": len(idx), "quote_volume": round(quote, 2), "symbols": symbols}
        flags.append(Flag(account, "self_matching", score, evidence, idx[:20].tolist()))
    return flags


def _add_day(
    flags: dict[int, Flag],
    account: int,
    clause: str,
    score: float,
    detail: dict[str, Any],
    order_day: tuple[str, int] | None,
) -> None:
    """One flag per account and clause: each offending day adds its figures, the worst scores."""
    flag = flags.get(account)
    if flag is None:
        flag = flags[account] = Flag(account, clause, score, {"days": []})
    flag.score = max(flag.score, score)
    flag.evidence["days"].append(detail)
    if order_day is not None:
        flag.order_days.append(order_day)


def bot_rows(orders: OrderDays, accounts: Accounts, cfg: BehaviourConfig) -> BoolArray:
    """Account-symbol-days with API orders or machine-regular timing, without API approval."""
    unapproved = ~accounts.api_authorized[orders.account]
    api, regular, _ = _bot_signs(orders, cfg)
    hit: BoolArray = unapproved & (api | regular)
    return hit


def _bot_signs(orders: OrderDays, cfg: BehaviourConfig) -> tuple[BoolArray, BoolArray, FloatArray]:
    api = orders.via_api >= cfg.bot_min_api_orders
    # Median absolute deviation over median gap: a robust coefficient of variation, so one
    # human order hours away on the same day does not hide a machine's steady rhythm.
    robust_cv = orders.gap_mad_ms / np.maximum(orders.gap_median_ms, 1.0)
    measured = (orders.gap_median_ms > 0) & (orders.gap_mad_ms >= 0)
    regular = (orders.placed >= cfg.bot_min_orders) & measured & (robust_cv <= cfg.bot_max_gap_cv)
    return api, regular, robust_cv


def bot_flags(orders: OrderDays, accounts: Accounts, cfg: BehaviourConfig) -> list[Flag]:
    if not len(orders):
        return []
    api, regular, robust_cv = _bot_signs(orders, cfg)
    hit = bot_rows(orders, accounts, cfg)
    flags: dict[int, Flag] = {}
    for i in np.flatnonzero(hit).tolist():
        account = int(orders.account[i])
        symbol = orders.symbols[int(orders.symbol[i])]
        day = int(orders.day[i])
        reasons = []
        if api[i]:
            reasons.append("API orders without API approval")
        if regular[i]:
            reasons.append("machine-regular order timing")
        score = min(1.0, 0.6 + 0.2 * bool(api[i]) + 0.2 * bool(regular[i]))
        detail = {
            "symbol": symbol,
            "day": day,
            "placed": int(orders.placed[i]),
            "via_api": int(orders.via_api[i]),
            "gap_median_ms": round(float(orders.gap_median_ms[i]), 1),
            "gap_cv": round(float(orders.gap_cv[i]), 4),
            "gap_mad_over_median": round(float(robust_cv[i]), 4),
            "reasons": reasons,
        }
        _add_day(flags, account, "unauthorized_bot", score, detail, (symbol, day))
    return [flags[a] for a in sorted(flags)]


@dataclass(frozen=True)
class Breach:
    """Trades of an account in a market on a UTC day over the market's daily limit."""

    account: int
    market: str
    day: int
    trades: int
    limit: int
    first: int  # positions in Trades cited as evidence: its first fill there as seller (else
    last: int  # as buyer) and its last as buyer (else as seller)


def limit_breaches(trades: Trades, accounts: Accounts, cfg: BehaviourConfig) -> list[Breach]:
    """Breaches by (account, market, day), in that order.

    Counted one UTC day at a time: a limit is per day, and the day's fills are one run of each
    symbol (fills are sorted by symbol, then time), so the arrays follow a day's fills. Coding
    every side of the window at once held ~3.5 GB at 25.7M fills, one of the analysis's
    largest transients. Column-wise within the day: a Python step per
    (account, market, day) and a scan of every fill per breach was most of the behaviour stage
    at 10^6 accounts."""
    if not len(trades):
        return []
    exempt = np.asarray(
        [t in cfg.limit_exempt_account_types for t in accounts.account_type], dtype=bool
    )
    limits = np.asarray([cfg.trade_limits.get(m, -1) for m in trades.markets], dtype=np.int64)
    if not (limits >= 0).any():
        return []
    symbol_bounds = np.searchsorted(trades.symbol, np.arange(len(trades.symbols) + 1))
    first_day = int(trades.ts.min()) // DAY_MS
    edges = np.arange(first_day, int(trades.ts.max()) // DAY_MS + 2, dtype=np.int64) * DAY_MS
    # Per symbol, where each day's fills start: row s holds symbol s's day bounds.
    day_starts = [
        lo + np.searchsorted(trades.ts[lo:hi], edges)
        for lo, hi in zip(symbol_bounds[:-1].tolist(), symbol_bounds[1:].tolist(), strict=True)
    ]
    found: list[Breach] = []
    for d in range(len(edges) - 1):
        rows = [np.arange(b[d], b[d + 1]) for b in day_starts if b[d + 1] > b[d]]
        if rows:
            fills = np.concatenate(rows)
            found.extend(_day_breaches(trades, fills, first_day + d, limits, exempt))
    found.sort(key=lambda b: (b.account, trades.markets.index(b.market), b.day))
    return found


def _day_breaches(
    trades: Trades, fills: IntArray, day: int, limits: IntArray, exempt: BoolArray
) -> list[Breach]:
    """The breaches of one day, from its fills' positions (ascending)."""
    seller, buyer = trades.seller[fills], trades.buyer[fills]
    other = buyer != seller
    account = np.concatenate([seller, buyer[other]])
    position = np.concatenate([fills, fills[other]])
    n_markets = len(trades.markets)
    code = account * n_markets + np.concatenate([trades.market[fills], trades.market[fills[other]]])
    uniq, counts = np.unique(code, return_counts=True)
    acc, m = np.divmod(uniq, n_markets)
    bad = (limits[m] >= 0) & (counts > limits[m]) & ~exempt[acc]
    if not bad.any():
        return []
    bad_codes = uniq[bad]
    # Each breach's first and last fill (as seller first, then as buyer): the rows whose code
    # is a breach's, grouped by breach in their own order.
    slot = np.minimum(np.searchsorted(bad_codes, code), len(bad_codes) - 1)
    hit = np.flatnonzero(bad_codes[slot] == code)
    grouped = hit[np.argsort(slot[hit], kind="stable")]
    ends = np.cumsum(counts[bad])
    first = position[grouped[ends - counts[bad]]]
    last = position[grouped[ends - 1]]
    return [
        Breach(a, trades.markets[mk], day, n, int(limits[mk]), f, lt)
        for a, mk, n, f, lt in zip(
            acc[bad].tolist(), m[bad].tolist(), counts[bad].tolist(),
            first.tolist(), last.tolist(), strict=True,
        )
    ]  # fmt: skip


def limit_flags_from(breaches: list[Breach]) -> list[Flag]:
    flags: dict[int, Flag] = {}
    for b in breaches:
        detail = {
            "market": b.market,
            "day": b.day,
            "trades": b.trades,
            "limit": b.limit,
            "over_by": b.trades - b.limit,
        }
        score = min(1.0, 0.6 + 0.4 * min(1.0, (b.trades - b.limit) / b.limit))
        _add_day(flags, b.account, "limit_breach", score, detail, None)
        if not flags[b.account].trades:
            flags[b.account].trades = [b.first, b.last]
    return [flags[a] for a in sorted(flags)]


def limit_flags(trades: Trades, accounts: Accounts, cfg: BehaviourConfig) -> list[Flag]:
    return limit_flags_from(limit_breaches(trades, accounts, cfg))
