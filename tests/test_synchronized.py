"""Synchronized trading against a brute-force reading of its definition: episodes are pairs of
events of two accounts in the same symbol and side within the window; the chance baseline of
each event looks only at its own symbol and side."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pyarrow as pa
import pytest

from analytics import trading
from analytics.config import TradingConfig
from analytics.projection import Trades
from analytics.trading import synchronized_pairs

HOUR = 3_600_000
# Every pair with one episode is reported, with its expectation, whatever the odds.
EVERY_PAIR = TradingConfig(sync_min_episodes=1, sync_min_ratio=0.0, sync_max_p=1.0)


def _trades(rows: list[tuple[int, int, int, int]], symbols: list[str]) -> Trades:
    """(symbol, ts, seller, buyer) rows as the analysis reads them: sorted by symbol, time."""
    rows = sorted(rows)
    col = list(zip(*rows, strict=True))
    n = len(rows)
    return Trades(
        pa.array([f"T{i:05d}" for i in range(n)]),
        np.array(col[1], dtype=np.int64),
        np.array(col[2], dtype=np.int64),
        np.array(col[3], dtype=np.int64),
        np.array(col[0], dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.ones(n),
        np.ones(n),
        symbols,
        ["spot"],
    )


def _events(trades: Trades) -> list[tuple[int, int, int]]:
    """(market, ts, account): a fill's seller in market 2s, its buyer in 2s + 1."""
    out = []
    for s, t, a, b in zip(trades.symbol, trades.ts, trades.seller, trades.buyer, strict=True):
        out += [(2 * int(s), int(t), int(a)), (2 * int(s) + 1, int(t), int(b))]
    return out


def _oracle(trades: Trades, cfg: TradingConfig) -> dict[tuple[int, int], tuple[int, float]]:
    events = _events(trades)
    w, base = cfg.sync_window_ms, cfg.sync_baseline_window_ms
    episodes: dict[tuple[int, int], int] = {}
    for (m1, t1, a1), (m2, t2, a2) in itertools.combinations(events, 2):
        if m1 == m2 and a1 != a2 and abs(t1 - t2) <= w:
            key = (min(a1, a2), max(a1, a2))
            episodes[key] = episodes.get(key, 0) + 1

    def expected_from(x: int, y: int) -> float:
        total = 0.0
        for m, t, a in events:
            if a != x:
                continue
            market = [(tt, aa) for mm, tt, aa in events if mm == m]
            around = sum(abs(tt - t) <= w for tt, _ in market) - 1
            wide = sum(abs(tt - t) <= base for tt, _ in market)
            close = sum(abs(tt - t) <= w for tt, aa in market if aa == y)
            near = sum(abs(tt - t) <= base for tt, aa in market if aa == y)
            local = (near - close) / max(wide - around - 1, 1)
            overall = sum(aa == y for _, aa in market) / len(market)
            total += (around - close) * max(local, overall)
        return total

    return {
        p: (n, 0.5 * (expected_from(*p) + expected_from(p[1], p[0]))) for p, n in episodes.items()
    }


def _found(trades: Trades, n: int, cfg: TradingConfig) -> dict[tuple[int, int], tuple[int, float]]:
    return {(p.a, p.b): (p.episodes, p.expected) for p in synchronized_pairs(trades, n, cfg)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_episodes_and_expectation_match_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for _ in range(220):
        a, b = rng.sample(range(9), 2)
        rows.append((rng.randrange(3), rng.randrange(0, 6 * HOUR, 500), a, b))
    for _ in range(15):  # accounts 0 and 1 buy the same symbol within seconds
        t = rng.randrange(0, 6 * HOUR)
        rows += [
            (0, t, rng.randrange(2, 9), 0),
            (0, t + rng.randrange(3000), rng.randrange(2, 9), 1),
        ]
    trades = _trades(rows, ["A", "B", "C"])
    cfg = EVERY_PAIR.model_copy(update={"sync_baseline_window_ms": HOUR})
    found, expected = _found(trades, 9, cfg), _oracle(trades, cfg)
    assert found.keys() == expected.keys()
    for pair, (n, exp) in expected.items():
        assert found[pair][0] == n
        assert found[pair][1] == pytest.approx(exp, rel=1e-12)
    assert found[(0, 1)][0] >= 15


def test_another_symbols_trades_do_not_change_the_baseline() -> None:
    """Symbol A's buys at the end of the period and symbol B's sells at its start are different
    markets, however close they lie when markets are laid end to end."""
    pair = [(0, 10 * HOUR + 60_000 * i, 5, 0) for i in range(6)]
    pair += [(0, 10 * HOUR + 60_000 * i + 1_000, 6, 1) for i in range(6)]
    others = [(1, 60_000 * i, 1, 7) for i in range(30)]  # account 1 sells B early on
    alone = _found(_trades([*pair, (1, 0, 8, 9)], ["A", "B"]), 10, EVERY_PAIR)
    beside = _found(_trades([*pair, (1, 0, 8, 9), *others], ["A", "B"]), 10, EVERY_PAIR)
    assert alone[(0, 1)] == beside[(0, 1)]


def test_pair_counts_over_every_market_equal_numpys_count() -> None:
    rng = np.random.default_rng(3)
    markets = [rng.integers(0, 500, size=int(rng.integers(0, 3_000))) for _ in range(12)]
    markets.append(rng.integers(2**33 - 50, 2**33 + 50, size=400))  # codes past 32 bits
    whole = np.unique(np.concatenate(markets), return_counts=True)
    # 32 bits below the bucket number (one bucket for the small codes), 4 (many buckets),
    # 0 (a bucket per code), 40 (held as 64-bit integers: more accounts than 32 bits serve)
    for low_bits in (32, 4, 0, 40):
        codes, counts = trading.pair_counts(iter(markets), low_bits=low_bits)
        assert codes.tolist() == whole[0].tolist()
        assert counts.tolist() == whole[1].tolist()
        frequent = whole[1] >= 9
        codes, counts = trading.pair_counts(iter(markets), at_least=9, low_bits=low_bits)
        assert codes.tolist() == whole[0][frequent].tolist()
        assert counts.tolist() == whole[1][frequent].tolist()


def test_pair_code_split_keeps_32_bit_codes_and_few_buckets() -> None:
    for n in (1, 2, 1_000, 65_536, 100_000, 1_000_000, 4_000_000, 10_000_000, 100_000_000):
        low = trading.pair_code_split(n)
        assert low >= 32
        assert (n * n - 1) >> low < trading.MAX_PAIR_BUCKETS, n
        if n <= 4_000_000:
            assert low == 32, n  # half the memory of 64-bit codes up to 4M accounts

    empty = trading.pair_counts(iter([]))
    assert len(empty[0]) == len(empty[1]) == 0


def test_the_lower_bound_taken_a_block_of_candidates_at_a_time_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``beyond_lower_bound`` works through the candidates in blocks (bounded memory at L):
    blocks of 7 keep exactly the candidates one block of all of them keeps."""
    rng = np.random.default_rng(3)
    n, markets = 40, 6
    involved = np.arange(0, n, 2, dtype=np.int64)
    a = rng.choice(involved, 300)
    b = rng.choice(involved, 300)
    candidates = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    candidates = candidates[candidates // n != candidates % n]
    episodes = rng.integers(1, 30, len(candidates))
    around = rng.integers(0, 50, (len(involved), markets)).astype(np.float64)
    events = rng.integers(0, 20, (len(involved), markets)).astype(np.float64)
    market_events = events.sum(axis=0) + rng.integers(0, 40, markets)
    cfg = TradingConfig(sync_min_ratio=2.0)
    args = (candidates, episodes, involved, around, events, market_events, n, cfg)
    whole = trading.beyond_lower_bound(*args)
    monkeypatch.setattr(trading, "LOWER_BOUND_BLOCK", 7)
    assert len(candidates) > 3 * 7
    assert 0 < whole.sum() < len(candidates)
    assert np.array_equal(trading.beyond_lower_bound(*args), whole)


def test_activity_held_in_32_bits_expects_what_64_bit_columns_expect() -> None:
    """``Activity`` holds markets and counts in 32 bits; the keys ``expected`` builds from them
    (market * span + ts) pass 2^31 in a long window with many markets, so they are widened
    first: the same expectation as from 64-bit columns."""
    rng = np.random.default_rng(5)
    n = 400
    account = rng.integers(0, 4, n)
    market = rng.integers(60, 64, n)  # market numbers of a venue with 32 symbols
    span = 40 * 86_400_000  # a 40-day window: 63 * span > 2^31
    ts = rng.integers(0, span, n)
    around = rng.integers(0, 30, n)
    wide = around + rng.integers(1, 300, n)
    involved = np.arange(4, dtype=np.int64)
    market_events = np.full(64, 500.0)
    cfg = TradingConfig()
    held = trading.Activity.of_events(
        account, market, ts, around, wide, involved, market_events, span, cfg
    )
    assert held.market.dtype == np.int32 and held.around.dtype == np.int32
    order = np.lexsort((ts, market, account))
    row = np.searchsorted(involved, account[order])
    wide64 = trading.Activity(
        row=row, market=market[order], ts=ts[order], around=around[order],  # type: ignore[arg-type]
        market_wide=wide[order], bounds=np.searchsorted(row, np.arange(5)),  # type: ignore[arg-type]
        involved=involved, market_events=market_events, window=held.window,
        baseline=held.baseline, span=held.span,
    )  # fmt: skip
    assert 63 * held.span > 2**31
    for x, y in itertools.permutations(range(4), 2):
        assert held.expected(x, y) == pytest.approx(wide64.expected(x, y))


def _expected_alone(ev: trading.Activity, x: int, y: int) -> float:
    """One pair's expectation from its two accounts' events only (y's keys searched alone)."""
    px, py = np.searchsorted(ev.involved, [x, y])
    ex = slice(ev.bounds[px], ev.bounds[px + 1])
    ey = slice(ev.bounds[py], ev.bounds[py + 1])
    mx = ev.market[ex].astype(np.int64)
    kx = mx * ev.span + ev.ts[ex]
    ky = ev.market[ey].astype(np.int64) * ev.span + ev.ts[ey]
    w, b = ev.window, ev.baseline
    close = np.searchsorted(ky, kx + w, "right") - np.searchsorted(ky, kx - w)
    near = np.searchsorted(ky, kx + b, "right") - np.searchsorted(ky, kx - b)
    in_market = np.searchsorted(ky, (mx + 1) * ev.span) - np.searchsorted(ky, mx * ev.span)
    around = ev.around[ex].astype(np.int64)
    local = (near - close) / np.maximum(ev.market_wide[ex] - around - 1, 1)
    overall = in_market / ev.market_events[mx]
    return float(np.sum((around - close) * np.maximum(local, overall)))


def _busy_and_quiet_activity(window: int = 5_000, baseline: int = HOUR) -> trading.Activity:
    """Involved accounts from busy to quiet (and one without events), ties in time within and
    across accounts, and a market only one account trades in."""
    rng = np.random.default_rng(11)
    n = 3_000
    involved = np.array([2, 5, 7, 11, 13, 40, 41, 99, 120], dtype=np.int64)
    account = rng.choice(involved, n, p=np.array([8, 1, 1, 1, 1, 2, 2, 4, 0]) / 20)
    market = rng.integers(0, 6, n)
    market[account == 5] = 7
    span = 3 * 86_400_000
    ts = rng.integers(0, span, n) // 1000 * 1000
    around = rng.integers(0, 40, n)
    wide = around + rng.integers(1, 400, n)
    cfg = TradingConfig(sync_window_ms=window, sync_baseline_window_ms=baseline)
    return trading.Activity.of_events(
        account, market, ts, around, wide, involved, np.full(8, 700.0), span, cfg
    )


@pytest.mark.parametrize("window, baseline", [(5_000, HOUR), (60_000, 20_000), (2_000, 2_000)])
def test_expectation_from_the_smaller_account_equals_every_event_of_x_looked_at(
    window: int, baseline: int
) -> None:
    """When x has more events than y, only x's events near y's are looked at one by one and
    the rest are summed per market: the expectation is the one every x event gives (a busy
    account against a quiet one, both ways, with ties in time and markets only one trades)."""
    ev = _busy_and_quiet_activity(window, baseline)
    sizes = dict(zip(ev.involved.tolist(), np.diff(ev.bounds).tolist(), strict=True))
    pairs = list(itertools.permutations(ev.involved.tolist(), 2))
    assert any(sizes[x] > sizes[y] for x, y in pairs) and any(sizes[x] < sizes[y] for x, y in pairs)
    alone = [_expected_alone(ev, x, y) for x, y in pairs]
    assert [ev.expected(x, y) for x, y in pairs] == pytest.approx(alone, rel=1e-12, abs=1e-12)
    assert len({round(v, 6) for v in alone}) > len(pairs) // 2  # the pairs differ


def test_per_market_sums_every_event_of_each_account_in_each_market() -> None:
    ev = _busy_and_quiet_activity()
    around = np.zeros((len(ev.involved), len(ev.market_events)))
    np.add.at(around, (ev.row, ev.market), ev.around)
    events = np.zeros_like(around)
    np.add.at(events, (ev.row, ev.market), 1.0)
    found_around, found_events = ev.per_market()
    assert np.array_equal(found_around, around) and np.array_equal(found_events, events)
    assert not events[-1].any() and events[:, 7].sum() == events[1, 7] > 0


def test_the_trade_index_holds_each_paired_accounts_fills_in_order_and_no_others() -> None:
    rng = random.Random(4)
    rows = [
        (rng.randrange(3), rng.randrange(0, HOUR), *rng.sample(range(30), 2)) for _ in range(900)
    ]
    trades = _trades(rows, ["A", "B", "C"])
    paired = np.array([3, 17, 17, 29], dtype=np.int64)
    index = trading.TradeIndex(trades, 30, paired)
    for account in (3, 17, 29):
        assert (
            index.of(account, "sell").tolist() == np.flatnonzero(trades.seller == account).tolist()
        )
        assert index.of(account, "buy").tolist() == np.flatnonzero(trades.buyer == account).tolist()
        assert len(index.of(account, "sell")) and len(index.of(account, "buy"))
    with pytest.raises(KeyError):
        index.of(4, "sell")
