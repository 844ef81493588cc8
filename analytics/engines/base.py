"""The seam between the analysis and the engine that reads fills and orders.

The stages that grow with fills and orders (trading relations and pair totals, intraday counts
and limit checks, order statistics for spoofing and bots, synchronized-trading candidates, the
per-symbol candidate sets of wash cycles) are asked of a ``Fills``; the account-sized stages
(linkage, communities, assessment, write-back) take their answers on one machine.

``Fills.trades`` holds the fills the one-machine stages cite and finish on: every fill of the
window for the embedded engine; for Spark only the fills of qualifying pairs, self-trades,
limit evidence, spoofing candidates and synchronized accounts, with what needs every fill
(per-account and per-symbol counts, the market around each event) computed by Spark.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from analytics.behaviour import Flag
from analytics.config import AnalysisConfig, BehaviourConfig, TradingConfig, WashConfig
from analytics.cycles import WashSet
from analytics.order_candidates import OrderCandidates
from analytics.projection import Accounts, FloatArray, IntArray, Trades, Window
from analytics.spoofing import SpoofingResult
from analytics.trading import Relation, SyncPair
from events.store import EventStore

Pairs = set[tuple[int, int]]


class Fills(Protocol):
    """One analysis run's fills and order statistics, as an engine serves them."""

    @property
    def trades(self) -> Trades:
        """The fills cited as evidence and finished on one machine."""

    @property
    def total(self) -> int:
        """Fills in the window."""

    @property
    def ready(self) -> bool:
        """Whether stages can be asked before ``prepare``."""

    def order_days(self, cfg: AnalysisConfig) -> OrderCandidates:
        """The order-days the bot and spoofing detectors may decide on, the symbols' typical
        order sizes, and how many order-days the window holds."""

    def prepare(self, linked: Pairs, cfg: AnalysisConfig) -> None:
        """Run the fill-heavy stages (linked pairs: the wash search's identifier-linked pairs)."""

    def relations(self, cfg: TradingConfig) -> list[Relation]: ...

    def synchronized_pairs(self, cfg: TradingConfig) -> list[SyncPair]: ...

    def wash_sets(self, linked: Pairs, cfg: WashConfig) -> list[WashSet]: ...

    def self_matching_flags(self, cfg: BehaviourConfig) -> list[Flag]: ...

    def limit_flags(self, cfg: BehaviourConfig) -> list[Flag]: ...

    def spoofing(self, orders: OrderCandidates, cfg: BehaviourConfig) -> SpoofingResult: ...

    def trading_among(self, groups: list[list[int]]) -> tuple[IntArray, FloatArray]:
        """Per group: fills among its members (no self-trades) and their quote volume."""

    def last_trade(self) -> IntArray:
        """Per account: the time of its last fill (0 without one)."""

    def symbol_quote(self) -> FloatArray:
        """Each symbol's quote volume over every fill of the window, in ``trades.symbols``
        order."""


class Engine(Protocol):
    name: str

    def fills(self, events: EventStore, accounts: Accounts, window: Window) -> Fills: ...


def trading_among(
    trades: Trades, groups: list[list[int]], n_accounts: int
) -> tuple[IntArray, FloatArray]:
    """Fills among each group's members and their quote volume, summed in fill order."""
    group_of = np.full(n_accounts, -1, dtype=np.int64)
    for i, g in enumerate(groups):
        group_of[g] = i
    gs, gb = group_of[trades.seller], group_of[trades.buyer]
    inside = (gs >= 0) & (gs == gb) & (trades.seller != trades.buyer)
    count = np.bincount(gs[inside], minlength=len(groups))
    quote = np.bincount(gs[inside], weights=trades.quote[inside], minlength=len(groups))
    return count, quote


def last_trade(trades: Trades, n_accounts: int) -> IntArray:
    out = np.zeros(n_accounts, dtype=np.int64)
    np.maximum.at(out, trades.seller, trades.ts)
    np.maximum.at(out, trades.buyer, trades.ts)
    return out
