"""The generator's order flow looks like a real venue's: many orders per fill, market makers
quoting and cancelling, retail placing a few, and every fill backed by the orders it names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from analytics.config import AnalysisConfig
from analytics.run import analyze
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate

ORDER_TYPES = pacsv.ConvertOptions(
    column_types={"price": pa.float64(), "ended_at": pa.int64(), "order_id": pa.string()}
)
TRADE_TYPES = pacsv.ConvertOptions(
    column_types={"buy_order_id": pa.string(), "sell_order_id": pa.string()}
)


def _np(table: pa.Table, name: str) -> np.ndarray[Any, Any]:
    values: np.ndarray[Any, Any] = table.column(name).to_numpy(zero_copy_only=False)
    return values


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, pa.Table, pa.Table]:
    out = tmp_path_factory.mktemp("flow")
    generate(out, GeneratorConfig(accounts=1_500, seed=21, trades_per_account=10))
    return (
        pacsv.read_csv(out / "input/accounts.csv"),
        pacsv.read_csv(out / "input/trades.csv", convert_options=TRADE_TYPES),
        pacsv.read_csv(out / "input/orders.csv", convert_options=ORDER_TYPES),
    )


def test_every_fill_names_both_of_its_orders_and_they_agree(
    realistic: tuple[pa.Table, pa.Table, pa.Table],
) -> None:
    _, trades, orders = realistic
    assert pc.count_distinct(orders.column("order_id")).as_py() == orders.num_rows
    seen: list[np.ndarray[Any, Any]] = []
    for side in ("buy", "sell"):
        names = trades.column(f"{side}_order_id")
        assert names.null_count == 0, "every fill names its orders"
        row = pc.index_in(names, value_set=orders.column("order_id")).to_numpy(zero_copy_only=False)
        assert not np.isnan(row.astype(float)).any(), "every named order exists"
        row = row.astype(np.int64)
        seen.append(row)
        party = _np(trades, "buyer_id" if side == "buy" else "seller_id")
        assert (_np(orders, "account_id")[row] == party).all()
        assert (_np(orders, "symbol")[row] == _np(trades, "symbol")).all()
        assert (_np(orders, "side")[row] == side).all()
        status = _np(orders, "final_status")[row]
        assert set(status) == {"filled", "partially_filled"}
        ts, ended = _np(trades, "ts"), orders.column("ended_at").take(pa.array(row))
        assert (_np(orders, "placed_at")[row] <= ts).all()
        end = ended.to_numpy(zero_copy_only=False)
        done = ~pc.is_null(ended).to_numpy(zero_copy_only=False)
        assert (end[done].astype(np.int64) >= ts[done]).all()
        filled = status == "filled"
        assert done[filled].all() and (end[filled].astype(np.int64) == ts[filled]).all()
        assert np.allclose(_np(orders, "filled_qty")[row], _np(trades, "qty"))
        qty = _np(orders, "qty")[row]
        assert (qty[filled] == _np(trades, "qty")[filled]).all()
        assert (qty[~filled] > _np(trades, "qty")[~filled]).all()
        limit = _np(orders, "type")[row] == "limit"
        assert not np.isnan(_np(orders, "price")[row][limit]).any()
    both = np.concatenate(seen)
    selfmatch = _np(trades, "buyer_id") == _np(trades, "seller_id")
    assert len(np.unique(both)) == len(both), "one order per fill side (self-trades included)"
    assert selfmatch.any()
    unlinked = np.ones(orders.num_rows, dtype=bool)
    unlinked[both] = False
    assert (_np(orders, "filled_qty")[unlinked] == 0).all()


def test_order_volumes_look_like_a_venue(realistic: tuple[pa.Table, pa.Table, pa.Table]) -> None:
    accounts, trades, orders = realistic
    assert orders.num_rows >= 5 * trades.num_rows
    kind = dict(zip(_np(accounts, "account_id"), _np(accounts, "account_type"), strict=True))
    approved = dict(zip(_np(accounts, "account_id"), _np(accounts, "api_authorized"), strict=True))
    owner = _np(orders, "account_id")
    is_mm = np.array([kind[a] == "market_maker" for a in owner])
    mm_fills = sum(
        int(np.isin(_np(trades, col), [a for a, k in kind.items() if k == "market_maker"]).sum())
        for col in ("buyer_id", "seller_id")
    )
    assert is_mm.sum() >= 10 * mm_fills, "market makers send tens of orders per fill"
    status = _np(orders, "final_status")
    life = _np(orders, "ended_at").astype(float) - _np(orders, "placed_at")
    quotes = is_mm & (status == "cancelled")
    assert np.median(life[quotes]) < 5_000, "quotes are replaced within seconds"
    assert set(_np(orders, "channel")[is_mm]) == {"api"}
    assert 0.4 < (_np(orders, "side")[quotes] == "buy").mean() < 0.6, "two-sided quotes"
    other_sides = 2 * trades.num_rows - mm_fills
    retail = ~is_mm
    assert other_sides * 1.5 <= retail.sum() <= other_sides * 4, "a few orders per fill"
    assert {"filled", "partially_filled", "cancelled", "rejected", "open"} <= set(status[retail])
    assert {"limit", "market"} <= set(_np(orders, "type")[retail])
    assert np.median(life[retail & (status == "cancelled")]) > 60_000
    unapproved = np.array([approved[a] is False or approved[a] == "false" for a in owner])
    via_api = _np(orders, "channel") == "api"
    # Only the planted bots send API orders without approval.
    labels_bot = set(owner[unapproved & via_api])
    assert len(labels_bot) <= max(1, 1_500 // 1_250)


def test_planted_spoofers_bait_and_switch_around_their_own_fills(tmp_path: Path) -> None:
    generate(tmp_path, GeneratorConfig(accounts=2_500, seed=4, trades_per_account=4))
    orders = pacsv.read_csv(tmp_path / "input/orders.csv", convert_options=ORDER_TYPES)
    trades = pacsv.read_csv(tmp_path / "input/trades.csv", convert_options=TRADE_TYPES)
    labels = pacsv.read_csv(tmp_path / "truth/labels.csv")
    spoofers = [
        a
        for a, t in zip(_np(labels, "account_id"), _np(labels, "typology"), strict=True)
        if t == "spoofing"
    ]
    assert len(spoofers) == 2
    owner, status = _np(orders, "account_id"), _np(orders, "final_status")
    placed, ended = _np(orders, "placed_at"), _np(orders, "ended_at").astype(float)
    qty, price, symbol = _np(orders, "qty"), _np(orders, "price"), _np(orders, "symbol")
    notional = qty * np.nan_to_num(price)
    for acc in spoofers:
        # The account also trades like anyone else; its bait is large and pulled within seconds
        # (its other unfilled orders rest for minutes).
        bait = (
            (owner == acc) & (status == "cancelled") & (notional > 900) & (ended - placed < 10_000)
        )
        assert bait.sum() >= 8
        sym = symbol[bait][0]
        assert (symbol[bait] == sym).all()
        others = (symbol == sym) & (owner != acc)
        assert np.median(notional[bait]) > 10 * np.median(notional[others & (notional > 0)])
        buys, sells = _np(trades, "buyer_id") == acc, _np(trades, "seller_id") == acc
        own = (buys | sells) & (_np(trades, "symbol") == sym)
        assert own.sum() >= 8, "the spoofer's own genuine fills"
        fill_ts, fill_buy = _np(trades, "ts")[own], buys[own]
        at, end, side = placed[bait], ended[bait], _np(orders, "side")[bait]
        nearest = np.abs(end[:, None] - fill_ts[None, :]).argmin(axis=1)
        switch = fill_ts[nearest]
        assert ((at < switch) & (end - switch <= 1_500) & (switch - end <= 800)).all()
        assert (fill_buy[nearest] == (side == "sell")).all(), "on the other side"
        levels = {(s, round(p, 6)) for s, p in zip(switch, price[bait], strict=True)}
        assert len(levels) > len(set(switch)), "several price levels in some episodes"


def test_quoting_accounts_quote_both_sides_and_cancel_quickly(tmp_path: Path) -> None:
    generate(tmp_path, GeneratorConfig(accounts=2_500, seed=4, trades_per_account=4))
    orders = pacsv.read_csv(tmp_path / "input/orders.csv", convert_options=ORDER_TYPES)
    labels = pacsv.read_csv(tmp_path / "truth/labels.csv")
    accounts = pacsv.read_csv(tmp_path / "input/accounts.csv")
    approved = dict(zip(_np(accounts, "account_id"), _np(accounts, "api_authorized"), strict=True))
    quoters = {
        str(a): str(d)
        for a, d in zip(_np(labels, "account_id"), _np(labels, "difficulty"), strict=True)
        if d in ("quoting_bot", "api_market_maker")
    }
    assert sorted(quoters.values()) == ["api_market_maker", "quoting_bot"]
    owner, status = _np(orders, "account_id"), _np(orders, "final_status")
    life = _np(orders, "ended_at").astype(float) - _np(orders, "placed_at")
    for acc in quoters:
        assert approved[acc] in (True, "true")
        mine = owner == acc
        assert set(_np(orders, "channel")[mine]) == {"api"}
        quick = (status == "cancelled") & (life <= 3_000)
        assert quick[mine].mean() > 0.9
        assert 0.45 < (_np(orders, "side")[mine] == "buy").mean() < 0.55, "both sides"
        assert {"filled", "partially_filled"} <= set(status[mine])


def test_light_flow_keeps_everything_but_the_orders(tmp_path: Path) -> None:
    cfg = {"accounts": 800, "seed": 5, "trades_per_account": 5}
    generate(tmp_path / "r", GeneratorConfig(**cfg))  # type: ignore[arg-type]
    generate(tmp_path / "l", GeneratorConfig(**cfg, order_flow="light"))  # type: ignore[arg-type]
    for name in ("input/accounts.csv", "input/logins.csv", "input/funding.csv", "truth/labels.csv"):
        assert (tmp_path / "r" / name).read_bytes() == (tmp_path / "l" / name).read_bytes()
    real = pacsv.read_csv(tmp_path / "r/input/trades.csv", convert_options=TRADE_TYPES)
    light = pacsv.read_csv(tmp_path / "l/input/trades.csv", convert_options=TRADE_TYPES)
    keep = [c for c in real.column_names if not c.endswith("_order_id")]
    assert real.select(keep).equals(light.select(keep))
    # Planted order typologies (spoofers, bots, quoting accounts) are the same in both flows.
    labels = pacsv.read_csv(tmp_path / "r/truth/labels.csv")
    planted = pa.array(
        [
            a
            for a, t, d in zip(
                _np(labels, "account_id"),
                _np(labels, "typology"),
                _np(labels, "difficulty"),
                strict=True,
            )
            if t in ("spoofing", "unauthorized_bot") or d in ("quoting_bot", "api_market_maker")
        ]
    )

    def flow_orders(name: str) -> int:
        owner = pacsv.read_csv(tmp_path / name / "input/orders.csv").column("account_id")
        return int(pc.sum(pc.invert(pc.is_in(owner, value_set=planted))).as_py())

    assert flow_orders("l") < 0.1 * flow_orders("r")
    with pytest.raises(ValueError, match="order_flow"):
        GeneratorConfig(order_flow="heavy")


def test_parquet_holds_the_same_rows_as_csv(tmp_path: Path) -> None:
    cfg = {"accounts": 600, "seed": 2, "trades_per_account": 3, "block_fills": 500}
    generate(tmp_path / "c", GeneratorConfig(**cfg))  # type: ignore[arg-type]
    generate(tmp_path / "p", GeneratorConfig(**cfg, parquet=True))  # type: ignore[arg-type]
    for name in ("trades", "orders"):
        csv_rows = pacsv.read_csv(tmp_path / f"c/input/{name}.csv").num_rows
        assert pq.read_metadata(tmp_path / f"p/input/{name}.parquet").num_rows == csv_rows


@pytest.mark.slow
def test_planted_order_violators_are_found_in_realistic_flow(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    """Ingested and analysed: the planted spoofer, bot and limit breacher are flagged inside
    market-maker quoting and retail flow, and no retail account is flagged for orders."""
    generate(tmp_path / "data", GeneratorConfig(accounts=1_250, seed=13, trades_per_account=5))
    ingest_directory(tmp_path / "data/input", store)
    cfg = AnalysisConfig()
    analysis = analyze(store, cfg)
    labels = pacsv.read_csv(tmp_path / "data/truth/labels.csv")
    typology = dict(zip(_np(labels, "account_id"), _np(labels, "typology"), strict=True))
    flagged = {(analysis.accounts.ids[f.account], f.clause) for f in analysis.flags}
    for clause in ("spoofing", "unauthorized_bot", "limit_breach", "self_matching"):
        planted = {a for a, t in typology.items() if t == clause}
        assert planted and {(a, clause) for a in planted} <= flagged, clause
    for account, clause in flagged:
        assert typology.get(account) in (clause, "market_maker"), (account, clause)
