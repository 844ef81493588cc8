"""Intraday limit breaches, column-wise, against a plain reading of the rule: an account's
trades in a market on a UTC day (a self-trade counts once) over the market's limit, unless its
account type is exempt; evidence its first fill there as seller (else as buyer) and its last as
buyer (else as seller)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from analytics.behaviour import Breach, limit_breaches
from analytics.config import BehaviourConfig
from analytics.projection import Accounts, Trades

DAY = 86_400_000
MARKETS = ["spot", "futures", "margin"]


def _random(seed: int, n: int, accounts: int, symbols: int = 1) -> tuple[Trades, Accounts]:
    """Fills sorted as the projection holds them: by symbol, then time."""
    rng = np.random.default_rng(seed)
    ts = rng.integers(20_000 * DAY, 20_000 * DAY + 4 * DAY, n)
    symbol = rng.integers(0, symbols, n)
    order = np.lexsort((ts, symbol))
    seller = rng.integers(0, accounts, n)
    buyer = np.where(rng.random(n) < 0.1, seller, rng.integers(0, accounts, n))  # self-trades
    trades = Trades(
        pa.array([f"T{i}" for i in range(n)]),
        ts[order],
        seller,
        buyer,
        symbol[order],
        rng.integers(0, len(MARKETS), n),
        np.ones(n),
        np.ones(n),
        [f"S{i}" for i in range(symbols)],
        MARKETS,
    )
    types = rng.choice(["retail", "market_maker", "vip"], accounts).tolist()
    people = Accounts(
        [f"A{i}" for i in range(accounts)],
        np.arange(accounts, dtype=np.int64),
        types,
        np.zeros(accounts, dtype=bool),
        ["active"] * accounts,
    )
    return trades, people


def _by_the_rule(trades: Trades, people: Accounts, cfg: BehaviourConfig) -> list[Breach]:
    cells: dict[tuple[int, int, int], list[int]] = {}
    sides = [(i, int(a)) for i, a in enumerate(trades.seller.tolist())] + [
        (i, int(b))
        for i, (a, b) in enumerate(zip(trades.seller.tolist(), trades.buyer.tolist(), strict=True))
        if a != b
    ]
    for i, account in sides:
        key = (account, int(trades.market[i]), int(trades.ts[i]) // DAY)
        cells.setdefault(key, []).append(i)
    out = []
    for (account, market, day), rows in sorted(cells.items()):
        limit = cfg.trade_limits.get(MARKETS[market])
        exempt = people.account_type[account] in cfg.limit_exempt_account_types
        if limit is None or len(rows) <= limit or exempt:
            continue
        out.append(Breach(account, MARKETS[market], day, len(rows), limit, rows[0], rows[-1]))
    return out


@pytest.mark.parametrize(
    ("seed", "n", "accounts", "symbols"),
    [(1, 1, 2, 1), (2, 400, 5, 1), (3, 3_000, 40, 1), (5, 3_000, 20, 7)],
)
def test_breaches_equal_the_rule_read_row_by_row(
    seed: int, n: int, accounts: int, symbols: int
) -> None:
    """Counted day by day over each symbol's run of fills, as the whole window read at once."""
    trades, people = _random(seed, n, accounts, symbols)
    cfg = BehaviourConfig(
        trade_limits={"spot": 12, "futures": 3},  # margin: no limit
        limit_exempt_account_types=["vip"],
    )
    want = _by_the_rule(trades, people, cfg)
    assert limit_breaches(trades, people, cfg) == want
    if n > 1:
        assert want  # the case has breaches to find


def test_no_limits_no_breaches() -> None:
    trades, people = _random(4, 500, 5)
    assert limit_breaches(trades, people, BehaviourConfig(trade_limits={})) == []
