"""Findings on single accounts: self-matching, spoofing/layering, unauthorized bots, limit breaches.

Each detector works on one kind of data and says so when that data is absent. Scores are in
0..1; each flag carries the figures it was decided on (rates, timings, days) and, where the
store has them, example order or trade ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.config import BehaviourConfig
from analytics.cycles import self_trades
from analytics.projection import Accounts, OrderDays, Trades

DAY_MS = 86_400_000


@dataclass
class Flag:
    account: int
    clause: str
    score: float
    evidence: dict[str, Any]
    trades: list[int] = field(default_factory=list)  # positions in Trades, for evidence ids
    order_days: list[tuple[str, int]] = field(default_factory=list)  # (symbol, day) for order ids


def self_matching_flags(trades: Trades, cfg: BehaviourConfig) -> list[Flag]:
    flags = []
    for account, idx in self_trades(trades).items():
        if len(idx) < cfg.self_trade_min:
            continue
        quote = float(trades.quote[idx].sum())
        symbols = sorted({trades.symbols[int(s)] for s in trades.symbol[idx].tolist()})
        score = min(1.0, 0.6 + 0.05 * len(idx))
        evidence = {"self_trades": len(idx), "quote_volume": round(quote, 2), "symbols": symbols}
        flags.append(Flag(account, "self_matching", score, evidence, idx[:20].tolist()))
    return flags


def spoofing_flags(orders: OrderDays, cfg: BehaviourConfig) -> list[Flag]:
    if not len(orders):
        return []
    mean_size = orders.qty_placed / np.maximum(orders.placed, 1)
    typical = np.zeros(len(orders.symbols))
    for s in range(len(orders.symbols)):
        sizes = mean_size[orders.symbol == s]
        typical[s] = float(np.median(sizes)) if len(sizes) else 0.0
    quick = orders.cancelled_within_10s
    cancelled_size = orders.qty_cancelled / np.maximum(orders.cancelled, 1)
    size_ratio = cancelled_size / np.maximum(typical[orders.symbol], 1e-12)
    fill_base = orders.qty_filled + mean_size  # one order's worth: no division by zero fills
    cancel_fill = orders.qty_cancelled / fill_base
    hit = (
        (orders.cancelled >= cfg.spoof_min_cancelled)
        & (quick >= cfg.spoof_min_quick_share * orders.cancelled)
        & (cancel_fill >= cfg.spoof_min_cancel_fill_ratio)
        & ((size_ratio >= cfg.spoof_min_size_ratio) | (quick >= cfg.spoof_frequent_cancels))
    )
    flags: dict[int, Flag] = {}
    for i in np.flatnonzero(hit).tolist():
        account = int(orders.account[i])
        symbol = orders.symbols[int(orders.symbol[i])]
        day = int(orders.day[i])
        score = min(
            1.0,
            0.6
            + 0.2 * min(1.0, math.log10(max(size_ratio[i], 1.0)) / 2)
            + 0.2 * min(1.0, quick[i] / max(cfg.spoof_frequent_cancels, 1)),
        )
        detail = {
            "symbol": symbol,
            "day": day,
            "placed": int(orders.placed[i]),
            "cancelled": int(orders.cancelled[i]),
            "cancelled_within_1s": int(orders.cancelled_within_1s[i]),
            "cancelled_within_10s": int(quick[i]),
            "cancelled_qty_over_filled": round(float(cancel_fill[i]), 2),
            "order_size_over_symbol_median": round(float(size_ratio[i]), 2),
        }
        _add_day(flags, account, "spoofing", score, detail, (symbol, day))
    return [flags[a] for a in sorted(flags)]


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


def bot_flags(orders: OrderDays, accounts: Accounts, cfg: BehaviourConfig) -> list[Flag]:
    if not len(orders):
        return []
    unapproved = ~accounts.api_authorized[orders.account]
    api = orders.via_api >= cfg.bot_min_api_orders
    # Median absolute deviation over median gap: a robust coefficient of variation, so one
    # human order hours away on the same day does not hide a machine's steady rhythm.
    robust_cv = orders.gap_mad_ms / np.maximum(orders.gap_median_ms, 1.0)
    measured = (orders.gap_median_ms > 0) & (orders.gap_mad_ms >= 0)
    regular = (orders.placed >= cfg.bot_min_orders) & measured & (robust_cv <= cfg.bot_max_gap_cv)
    hit = unapproved & (api | regular)
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


def limit_flags(trades: Trades, accounts: Accounts, cfg: BehaviourConfig) -> list[Flag]:
    if not len(trades):
        return []
    exempt = np.asarray([t in cfg.limit_exempt_account_types for t in accounts.account_type])
    other = trades.buyer != trades.seller
    account = np.concatenate([trades.seller, trades.buyer[other]])
    position = np.concatenate([np.arange(len(trades)), np.flatnonzero(other)])
    day = trades.ts[position] // DAY_MS
    market = trades.market[position]
    n_markets = len(trades.markets)
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1
    code = (account * n_markets + market) * span + (day - first_day)
    uniq, counts = np.unique(code, return_counts=True)
    flags: dict[int, Flag] = {}
    for c, n in zip(uniq.tolist(), counts.tolist(), strict=True):
        acc_market, d = divmod(c, span)
        acc, m = divmod(acc_market, n_markets)
        limit = cfg.trade_limits.get(trades.markets[m])
        if limit is None or n <= limit or exempt[acc]:
            continue
        rows = position[code == c]
        detail = {
            "market": trades.markets[m],
            "day": d + first_day,
            "trades": n,
            "limit": limit,
            "over_by": n - limit,
        }
        score = min(1.0, 0.6 + 0.4 * min(1.0, (n - limit) / limit))
        _add_day(flags, acc, "limit_breach", score, detail, None)
        if not flags[acc].trades:
            flags[acc].trades = [int(rows[0]), int(rows[-1])]
    return [flags[a] for a in sorted(flags)]
