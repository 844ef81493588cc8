"""Trading relations between accounts: concentrated counterparties and synchronized trading.

A relation is weighed by how much of each side's trading it is (a market maker meets thousands
of accounts, each a tiny share of its flow). Synchronized trading counts the times two accounts
trade the same symbol on the same side within a few seconds, against the number expected from
their activity and from the market's own bursts around each of their trades.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analytics.config import TradingConfig
from analytics.projection import FloatArray, IntArray, Trades, sort_order


@dataclass(frozen=True)
class Relation:
    a: int
    b: int
    trades: int
    quote: float
    share_a: float  # the pair's trades as a share of a's trades
    share_b: float
    weight: float


@dataclass(frozen=True)
class SyncPair:
    a: int
    b: int
    episodes: int
    expected: float
    weight: float
    examples: list[tuple[str, str, int, int]]  # (symbol, side, ts of a, ts of b)


def account_trade_counts(trades: Trades, n_accounts: int) -> IntArray:
    """Trades each account took part in (a self-trade counts once)."""
    other = trades.buyer != trades.seller
    return np.bincount(trades.seller, minlength=n_accounts) + np.bincount(
        trades.buyer[other], minlength=n_accounts
    )


def pair_totals(trades: Trades, n_accounts: int) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Unordered pairs (lo, hi) that traded with each other: trade count and quote volume."""
    other = trades.buyer != trades.seller
    lo = np.minimum(trades.seller, trades.buyer)[other]
    hi = np.maximum(trades.seller, trades.buyer)[other]
    code = lo * n_accounts + hi
    uniq, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
    quote = np.bincount(inverse, weights=trades.quote[other], minlength=len(uniq))
    return uniq // n_accounts, uniq % n_accounts, counts.astype(np.int64), quote


def relations(trades: Trades, n_accounts: int, cfg: TradingConfig) -> list[Relation]:
    lo, hi, counts, quote = pair_totals(trades, n_accounts)
    per_account = account_trade_counts(trades, n_accounts)
    keep = counts >= cfg.relation_min_trades
    share_lo = counts[keep] / np.maximum(per_account[lo[keep]], 1)
    share_hi = counts[keep] / np.maximum(per_account[hi[keep]], 1)
    out = []
    for a, b, n, q, sa, sb in zip(
        lo[keep].tolist(), hi[keep].tolist(), counts[keep].tolist(), quote[keep].tolist(),
        share_lo.tolist(), share_hi.tolist(), strict=True,
    ):  # fmt: skip
        share = min(sa, sb)
        if share >= cfg.relation_min_share:
            weight = cfg.relation_weight * min(1.0, 2.0 * share)
            out.append(Relation(a, b, n, q, sa, sb, weight))
    return out


def synchronized_pairs(trades: Trades, n_accounts: int, cfg: TradingConfig) -> list[SyncPair]:
    """Pairs trading the same symbol and side within ``sync_window_ms`` beyond chance."""
    if not len(trades):
        return []
    # One event per side of a fill: (symbol, side) group, time, account.
    group = np.concatenate([trades.symbol * 2, trades.symbol * 2 + 1])  # even: sell, odd: buy
    ts = np.concatenate([trades.ts, trades.ts])
    account = np.concatenate([trades.seller, trades.buyer])
    order = sort_order(group, ts - ts.min(), account)
    group, ts, account = group[order], ts[order], account[order]
    window = cfg.sync_window_ms
    span = int(ts.max() - ts.min()) + 2 * window + 1
    key = group * span + (ts - ts.min())
    # Market activity around each event: how many events anyone made within the window.
    around = np.searchsorted(key, key + window, "right") - np.searchsorted(key, key - window) - 1
    pairs_a: list[IntArray] = []
    pairs_b: list[IntArray] = []
    for k in range(1, cfg.sync_max_neighbours + 1):
        near = (key[k:] - key[:-k]) <= window
        if not near.any():
            break
        i = np.flatnonzero(near & (account[k:] != account[:-k]))
        pairs_a.append(account[i])
        pairs_b.append(account[i + k])
    if not pairs_a:
        return []
    pa, pb = np.concatenate(pairs_a), np.concatenate(pairs_b)
    lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
    code = lo * n_accounts + hi
    uniq, counts = np.unique(code, return_counts=True)
    candidates = uniq[counts >= cfg.sync_min_episodes]
    if not len(candidates):
        return []
    # Expected episodes under chance, per event i of a: the market's other events within the
    # window around i (bursts count) times b's share of the market around i, taken from b's
    # activity outside that window (b's own rhythm: a busy day, a quiet month) and never below
    # b's share over the whole period. Leaving the window itself out matters: in a thin symbol
    # the synchronized trades would otherwise explain themselves.
    baseline = cfg.sync_baseline_window_ms
    market_wide = np.searchsorted(key, key + baseline, "right") - np.searchsorted(
        key, key - baseline
    )
    by_account = np.lexsort((key, account))
    bounds = np.searchsorted(account[by_account], np.arange(n_accounts + 1))
    group_events = np.bincount(group).astype(np.float64)
    observed = dict(zip(uniq.tolist(), counts.tolist(), strict=True))

    def expected_from(x: int, y: int) -> float:
        ex = by_account[bounds[x] : bounds[x + 1]]
        ky = key[by_account[bounds[y] : bounds[y + 1]]]
        kx = key[ex]
        close = np.searchsorted(ky, kx + window, "right") - np.searchsorted(ky, kx - window)
        near = np.searchsorted(ky, kx + baseline, "right") - np.searchsorted(ky, kx - baseline)
        g = kx // span
        in_group = np.searchsorted(ky, (g + 1) * span) - np.searchsorted(ky, g * span)
        local = (near - close) / np.maximum(market_wide[ex] - around[ex] - 1, 1)
        overall = in_group / group_events[group[ex]]
        return float(np.sum((around[ex] - close) * np.maximum(local, overall)))

    # A cheap lower bound of that expectation (b's share over the whole period only) drops
    # most candidates, market makers meeting each other all day, before the exact count.
    cand_a, cand_b = candidates // n_accounts, candidates % n_accounts
    involved, index = np.unique(np.concatenate([cand_a, cand_b]), return_inverse=True)
    n_groups = int(group.max()) + 1
    row = np.searchsorted(involved, account)
    mine = (row < len(involved)) & (involved[np.minimum(row, len(involved) - 1)] == account)
    around_sum = np.zeros((len(involved), n_groups))
    np.add.at(around_sum, (row[mine], group[mine]), around[mine])
    share = np.zeros((len(involved), n_groups))
    np.add.at(share, (row[mine], group[mine]), 1.0)
    share /= np.maximum(group_events, 1.0)
    ia, ib = index[: len(candidates)], index[len(candidates) :]
    episodes_of = counts[counts >= cfg.sync_min_episodes]
    lower = 0.5 * (
        np.einsum("ij,ij->i", around_sum[ia], share[ib])
        - episodes_of * share[ib].max(axis=1)
        + np.einsum("ij,ij->i", around_sum[ib], share[ia])
        - episodes_of * share[ia].max(axis=1)
    )
    keep = episodes_of >= cfg.sync_min_ratio * np.maximum(lower, 0.0)

    out: list[SyncPair] = []
    for pair in candidates[keep].tolist():
        a, b = divmod(pair, n_accounts)
        episodes = observed[pair]
        exp = 0.5 * (expected_from(a, b) + expected_from(b, a))
        if episodes < cfg.sync_min_ratio * exp or poisson_tail(episodes, exp) > cfg.sync_max_p:
            continue
        out.append(SyncPair(a, b, episodes, exp, cfg.sync_weight, []))
    return out


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean), accurate in the far tail where it matters here."""
    if mean <= 0:
        return 0.0 if k > 0 else 1.0
    if k <= mean:
        return 1.0
    log_term = -mean + k * math.log(mean) - math.lgamma(k + 1)
    # Terms fall at least by mean / (k + 1) each: a geometric bound on the rest of the tail.
    return min(1.0, math.exp(log_term) / (1.0 - mean / (k + 1)))


class TradeIndex:
    """Positions of each account's fills as seller and as buyer (one sort, then slices)."""

    def __init__(self, trades: Trades, n_accounts: int) -> None:
        self.trades = trades
        self.sides: dict[str, tuple[IntArray, IntArray]] = {}
        for side, column in (("sell", trades.seller), ("buy", trades.buyer)):
            order = np.argsort(column, kind="stable")
            bounds = np.searchsorted(column[order], np.arange(n_accounts + 1))
            self.sides[side] = (order, bounds)

    def of(self, account: int, side: str) -> IntArray:
        order, bounds = self.sides[side]
        return order[bounds[account] : bounds[account + 1]]


def sync_examples(
    index: TradeIndex, pair: SyncPair, window_ms: int, limit: int = 10
) -> list[tuple[str, str, int, int]]:
    """Episodes of one synchronized pair, for evidence: (symbol, side, ts of a, ts of b)."""
    trades = index.trades
    out: list[tuple[str, str, int, int]] = []
    for side in ("sell", "buy"):
        theirs = index.of(pair.b, side)
        for i in index.of(pair.a, side).tolist():
            close = theirs[
                (trades.symbol[theirs] == trades.symbol[i])
                & (np.abs(trades.ts[theirs] - trades.ts[i]) <= window_ms)
            ]
            if len(close):
                j = int(close[0])
                symbol = trades.symbols[int(trades.symbol[i])]
                out.append((symbol, side, int(trades.ts[i]), int(trades.ts[j])))
    out.sort(key=lambda e: (e[2], e[0], e[1]))
    return out[:limit]
