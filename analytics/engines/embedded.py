"""The embedded engine: every fill of the window in this process (pyarrow -> numpy), order
statistics and spoofing episodes through DuckDB; what ``linkscope analyze`` always did."""

from __future__ import annotations

import numpy as np

from analytics import behaviour, cycles, projection, spoofing, trading
from analytics.behaviour import Flag
from analytics.config import AnalysisConfig, BehaviourConfig, TradingConfig, WashConfig
from analytics.cycles import WashSet
from analytics.engines.base import Pairs, last_trade, trading_among
from analytics.order_candidates import Keep, OrderCandidates, read_order_candidates
from analytics.projection import (
    Accounts,
    BoolArray,
    FloatArray,
    IntArray,
    OrderDays,
    Trades,
    Window,
)
from analytics.spoofing import SpoofingResult
from analytics.trading import Relation, SyncPair
from events.store import EventStore


class EmbeddedFills:
    def __init__(self, events: EventStore, accounts: Accounts, window: Window) -> None:
        self.events, self.accounts, self.window = events, accounts, window
        self._trades = projection.read_trades(events, accounts, window)
        self._orders: OrderCandidates | None = None

    @property
    def trades(self) -> Trades:
        return self._trades

    @property
    def total(self) -> int:
        return len(self._trades)

    @property
    def ready(self) -> bool:
        return True

    def order_days(self, cfg: AnalysisConfig) -> OrderCandidates:
        return read_order_candidates(
            self.events, self.accounts, self.window, order_rows(self.accounts, cfg)
        )

    def prepare(self, linked: Pairs, cfg: AnalysisConfig) -> None:
        return None

    def relations(self, cfg: TradingConfig) -> list[Relation]:
        return trading.relations(self._trades, len(self.accounts), cfg)

    def synchronized_pairs(self, cfg: TradingConfig) -> list[SyncPair]:
        return trading.synchronized_pairs(self._trades, len(self.accounts), cfg)

    def wash_sets(self, linked: Pairs, cfg: WashConfig) -> list[WashSet]:
        return cycles.wash_sets(self._trades, len(self.accounts), linked, cfg)

    def self_matching_flags(self, cfg: BehaviourConfig) -> list[Flag]:
        return behaviour.self_matching_flags(self._trades, cfg)

    def limit_flags(self, cfg: BehaviourConfig) -> list[Flag]:
        return behaviour.limit_flags(self._trades, self.accounts, cfg)

    def spoofing(self, orders: OrderCandidates, cfg: BehaviourConfig) -> SpoofingResult:
        return spoofing.spoofing_flags(
            self.events, self.accounts, orders, self._trades, self.window, cfg
        )

    def trading_among(self, groups: list[list[int]]) -> tuple[IntArray, FloatArray]:
        return trading_among(self._trades, groups, len(self.accounts))

    def last_trade(self) -> IntArray:
        return last_trade(self._trades, len(self.accounts))

    def symbol_quote(self) -> FloatArray:
        t = self._trades
        return np.bincount(t.symbol, weights=t.quote, minlength=len(t.symbols))


def order_rows(accounts: Accounts, cfg: AnalysisConfig) -> Keep:
    """The order statistics a detector can use: unauthorized-bot days and spoofing candidates."""

    def keep(days: OrderDays, typical: FloatArray) -> BoolArray:
        bots = behaviour.bot_rows(days, accounts, cfg.behaviour)
        rows: BoolArray = bots | spoofing.candidate_days(days, typical, cfg.behaviour)
        return rows

    return keep


class EmbeddedEngine:
    name = "embedded"

    def fills(self, events: EventStore, accounts: Accounts, window: Window) -> EmbeddedFills:
        return EmbeddedFills(events, accounts, window)
