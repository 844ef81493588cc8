"""The wash search one symbol at a time (what the Spark engine runs in its Python workers) finds
the same sets as the search over every fill, and describing them from a subset of the fills
that holds them gives the same evidence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from analytics import behaviour, cycles, trading
from analytics.config import BehaviourConfig, WashConfig
from analytics.projection import Trades

N_ACCOUNTS = 60
SYMBOLS = ["AAA_USDT", "BBB_USDT", "CCC_BTC"]


def random_fills(seed: int) -> Trades:
    """Background fills among strangers and rings that trade a quantity round (some flat, some
    not) in each symbol; one ring member trades mostly with the market."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int, float, float]] = []  # ts, seller, buyer, symbol, qty, px
    t = 1_700_000_000_000
    for _ in range(900):
        s, b = rng.choice(N_ACCOUNTS, 2, replace=False)
        rows.append((t + int(rng.integers(0, 900_000_000)), int(s), int(b), int(rng.integers(3)),
                     float(rng.integers(1, 50)), float(rng.integers(90, 110))))  # fmt: skip
    for k in range(6):
        ring = [int(x) for x in rng.choice(N_ACCOUNTS, int(rng.integers(2, 5)), replace=False)]
        symbol = k % 3
        qty = float(rng.integers(5, 20))
        start = t + int(rng.integers(0, 500_000_000))
        for rep in range(int(rng.integers(12, 20))):
            for i, s in enumerate(ring):
                b = ring[(i + 1) % len(ring)]
                drift = 0.0 if k % 2 == 0 else float(i)  # odd rings do not end flat
                rows.append((start + rep * 60_000 + i * 1_000, s, b, symbol, qty + drift, 100.0))
        if k == 0:  # one member trades mostly with the market: not a wash trader by share
            for j in range(400):
                other = int(rng.integers(N_ACCOUNTS))
                if other != ring[0]:
                    pair = (ring[0], other) if j % 2 else (other, ring[0])
                    rows.append((start + j * 7_000, *pair, symbol, 3.0, 100.0))
    rows.sort(key=lambda r: (r[3], r[0]))
    ints = np.asarray([r[:4] for r in rows], dtype=np.int64)
    floats = np.asarray([r[4:] for r in rows], dtype=np.float64)
    return Trades(
        pa.array([f"t{i:05d}" for i in range(len(rows))], type=pa.string()),
        ints[:, 0].copy(),
        ints[:, 1].copy(),
        ints[:, 2].copy(),
        ints[:, 3].copy(),
        np.zeros(len(rows), dtype=np.int64),
        floats[:, 0].copy(),
        floats[:, 1].copy(),
        SYMBOLS,
        ["spot"],
    )


def per_symbol(trades: Trades, linked: set[tuple[int, int]], cfg: WashConfig) -> set[frozenset[str]]:
    """Every symbol's candidate fills with their sides' trades in the symbol, searched alone, in
    a shuffled order (Spark gives a group's rows in no particular order)."""
    mask = cycles.candidate_mask(trades, N_ACCOUNTS, linked, cfg)
    found: set[frozenset[str]] = set()
    rng = np.random.default_rng(0)
    for sym in range(len(SYMBOLS)):
        in_symbol = trades.symbol == sym
        counts = np.bincount(trades.seller[in_symbol], minlength=N_ACCOUNTS) + np.bincount(
            trades.buyer[in_symbol], minlength=N_ACCOUNTS
        )
        idx = rng.permutation(np.flatnonzero(mask & in_symbol))
        fills = pa.table(
            {
                "trade_id": trades.trade_id.take(pa.array(idx, type=pa.int64())),
                "ts": trades.ts[idx],
                "s": trades.seller[idx],
                "b": trades.buyer[idx],
                "qty": trades.qty[idx],
                "s_n": counts[trades.seller[idx]],
                "b_n": counts[trades.buyer[idx]],
            }
        )
        sets = cycles.sets_in_symbol(fills, cfg)
        for no in set(sets.column("set_no").to_pylist()):
            chosen = [t for t, n in zip(sets.column("trade_id").to_pylist(),
                                        sets.column("set_no").to_pylist(), strict=True) if n == no]  # fmt: skip
            found.add(frozenset(chosen))
    return found


@pytest.mark.parametrize("seed", [1, 2, 3, 8])
def test_searching_one_symbol_at_a_time_finds_the_same_sets(seed: int) -> None:
    trades = random_fills(seed)
    cfg = WashConfig()
    linked = {(1, 2), (3, 40)}
    whole = cycles.wash_sets(trades, N_ACCOUNTS, linked, cfg)
    assert whole, "the planted flat rings are found"
    expected = {frozenset(trades.ids(w.trades.tolist())) for w in whole}
    assert per_symbol(trades, linked, cfg) == expected


def test_sets_described_from_a_subset_match_the_whole_search() -> None:
    trades = random_fills(5)
    cfg = WashConfig()
    whole = cycles.wash_sets(trades, N_ACCOUNTS, set(), cfg)
    assert whole
    # A subset: the sets' fills and every third other fill, in the same order.
    keep = np.zeros(len(trades), dtype=bool)
    keep[::3] = True
    for w in whole:
        keep[w.trades] = True
    rows = np.flatnonzero(keep)
    sub = Trades(
        trades.trade_id.take(pa.array(rows)), trades.ts[rows], trades.seller[rows],
        trades.buyer[rows], trades.symbol[rows], trades.market[rows], trades.qty[rows],
        trades.price[rows], trades.symbols, trades.markets,
    )  # fmt: skip
    where = {t: i for i, t in enumerate(sub.trade_id.to_pylist())}
    quote = np.bincount(trades.symbol, weights=trades.quote, minlength=len(SYMBOLS))
    sets = [np.asarray([where[t] for t in trades.ids(w.trades.tolist())], dtype=np.int64)
            for w in whole]
    described = cycles.described(sub, sets, dict(zip(SYMBOLS, quote.tolist(), strict=True)), cfg)

    def view(t: Trades, w: cycles.WashSet) -> tuple[object, ...]:
        return (w.symbol, w.members, t.ids(w.trades.tolist()), w.quote, w.symbol_share,
                w.net_ratio, w.cycles, w.occurrences, t.ids(w.evidence.tolist()))  # fmt: skip

    assert [view(sub, w) for w in described] == [view(trades, w) for w in whole]


def test_per_set_and_per_flag_quotes_do_not_compute_every_fills_quote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wash set's or a self-matching flag's quote volume comes from its own fills: computing
    the whole window's quotes for each of them (25.7M fills for each of ~1,600 at L) was ~45 s
    of an L analysis. The figures are those of the whole window's quotes."""
    trades = random_fills(3)
    seller = trades.seller.copy()
    seller[::40] = trades.buyer[::40]  # some self-trades
    trades = dataclasses.replace(trades, seller=seller)
    cfg = WashConfig()
    reads: list[int] = []
    whole = Trades.quote

    def counted(self: Trades) -> np.ndarray:
        reads.append(1)
        return whole.fget(self)  # type: ignore[no-any-return, union-attr]

    monkeypatch.setattr(Trades, "quote", property(counted))
    sets = cycles.wash_sets(trades, N_ACCOUNTS, set(), cfg)
    assert len(sets) >= 2
    assert len(reads) == 1  # the symbols' totals (the pairs' use their own fills' quotes)
    flags = behaviour.self_matching_flags(trades, BehaviourConfig(self_trade_min=1))
    assert len(flags) >= 2
    assert len(reads) == 1
    quote = trades.qty * trades.price
    for w in sets:
        assert w.quote == pytest.approx(float(quote[w.trades].sum()), rel=1e-12)
    for f in flags:
        idx = np.flatnonzero((trades.seller == f.account) & (trades.buyer == f.account))
        assert f.evidence["quote_volume"] == round(float(quote[idx].sum()), 2)


@pytest.mark.parametrize("seed", [5, 6])
def test_pair_totals_and_candidate_fills_follow_the_rule_row_by_row(seed: int) -> None:
    """Each pair's count and quote (added in fill order: the same float), and the fills between
    repeated or linked counterparties, as a plain reading of the rule gives them."""
    trades = random_fills(seed)
    seller = trades.seller.copy()
    seller[::25] = trades.buyer[::25]  # self-trades belong to no pair
    trades = dataclasses.replace(trades, seller=seller)
    totals: dict[tuple[int, int], list[float]] = {}
    for s, b, q, p in zip(trades.seller.tolist(), trades.buyer.tolist(), trades.qty.tolist(),
                          trades.price.tolist(), strict=True):  # fmt: skip
        if s != b:
            pair = totals.setdefault((min(s, b), max(s, b)), [0, 0.0])
            pair[0] += 1
            pair[1] += q * p
    lo, hi, counts, quote = trading.pair_totals(trades, N_ACCOUNTS)
    got = {(a, b): [n, q] for a, b, n, q in zip(lo.tolist(), hi.tolist(), counts.tolist(),
                                                 quote.tolist(), strict=True)}  # fmt: skip
    assert got == totals and list(got) == sorted(totals)
    cfg = WashConfig()
    linked = {(1, 2), (3, 7)}
    keep = {p for p, (n, _) in totals.items() if n >= cfg.repeat_min_trades} | linked
    want = [s != b and (min(s, b), max(s, b)) in keep
            for s, b in zip(trades.seller.tolist(), trades.buyer.tolist(), strict=True)]  # fmt: skip
    assert cycles.candidate_mask(trades, N_ACCOUNTS, linked, cfg).tolist() == want
    assert sum(want) > 100
