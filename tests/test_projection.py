"""Projections read from the real embedded store match the hand-made data exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from analytics.projection import (
    collect_exact,
    decode,
    read_accounts,
    read_order_days,
    read_trades,
    read_transfers,
    read_uses,
)
from events.location import events_for
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from tests.helpers import small_dataset


def test_projections_of_the_small_dataset(tmp_path: Path, store: FalkorEmbedded) -> None:
    ingest_directory(small_dataset(tmp_path / "in"), store)
    accounts = read_accounts(store)
    assert accounts.ids == ["A1", "A2", "A3"]
    assert accounts.account_type == ["retail", "retail", "market_maker"]
    assert accounts.api_authorized.tolist() == [False, False, True]

    ips = read_uses(store, accounts, "ip")
    assert sorted(accounts.ids[a] for a in ips.account) == ["A1", "A2", "A2"]
    assert len(set(ips.identifier.tolist())) == 2  # 010.000.000.001 is 10.0.0.1

    devices = read_uses(store, accounts, "device")
    assert sorted(accounts.ids[a] for a in devices.account) == ["A1", "A2"]
    assert len(set(devices.identifier.tolist())) == 1

    funding = read_uses(store, accounts, "funding")
    assert sorted(accounts.ids[a] for a in funding.account) == ["A1", "A2"]

    transfers = read_transfers(store, accounts)
    assert [
        (accounts.ids[s], accounts.ids[t])
        for s, t in zip(transfers.source, transfers.target, strict=True)
    ] == [("A1", "A2")]
    assert transfers.amount.tolist() == [10.0]

    trades = read_trades(events_for(store), accounts)
    got = [
        (accounts.ids[s], accounts.ids[b], trades.symbols[y], trades.markets[m], q, p)
        for s, b, y, m, q, p in zip(
            trades.seller, trades.buyer, trades.symbol, trades.market,
            trades.qty.tolist(), trades.price.tolist(), strict=True,
        )
    ]  # fmt: skip
    assert got == [
        ("A2", "A1", "BTC_USDT", "spot", 1.0, 100.0),
        ("A2", "A1", "BTC_USDT", "spot", 2.0, 101.0),
        ("A1", "A2", "BTC_USDT", "futures", 3.0, 102.0),
        ("A3", "A3", "ETH_USDT", "spot", 1.0, 10.0),
    ]

    orders = read_order_days(events_for(store), accounts)
    assert len(orders) == 1
    assert (orders.placed[0], orders.cancelled[0], orders.via_api[0]) == (3, 1, 1)
    assert orders.cancelled_within_1s[0] == 1
    assert orders.max_qty[0] == 5.0


@pytest.mark.parametrize(
    "value", [0.0, 1e-12, 3.3e-8, 0.1, 1 / 3, 2.5, 123456.789012345, 9.87654321e15, -42.125]
)
def test_doubles_travel_exactly(store: FalkorEmbedded, value: float) -> None:
    """The integer encoding of doubles is exact where the fast wire form prints 6 decimals."""
    store.run("CREATE (:Probe)")  # a graph must exist before it can be queried
    rows = store.read_columns(f"WITH $x AS v RETURN {collect_exact('v')}", {"x": value})
    mantissa, exponent = rows[0][1]
    got = float(decode(mantissa, exponent)[0])
    assert got == pytest.approx(value, rel=1e-15, abs=0.0)


def test_integer_lists_round_trip_through_the_fast_path(store: FalkorEmbedded) -> None:
    values = [0, -1, 2**53 + 1, 1_790_000_000_123, -(2**62)]
    store.run("CREATE (:Probe)")
    rows = store.read_columns("UNWIND $v AS x RETURN 'k', collect(x)", {"v": values}, keys=1)
    assert rows[0][0] == ["k"]
    assert rows[0][1][0].tolist() == values
    assert np.asarray(rows[0][1][0]).dtype == np.int64


def test_projections_of_an_empty_store(store: FalkorEmbedded) -> None:
    accounts = read_accounts(store)
    assert accounts.ids == []
    assert len(read_trades(events_for(store), accounts)) == 0
    assert len(read_uses(store, accounts, "ip").account) == 0
    assert len(read_order_days(events_for(store), accounts)) == 0


def test_fills_come_sorted_from_day_files_in_any_row_order(tmp_path: Path) -> None:
    """Day files of older versions were not sorted inside: the projection sorts them itself;
    null markets read as spot, and accounts and symbols are coded through Parquet's
    dictionaries."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from analytics.projection import Accounts, read_trades
    from events.store import EventStore
    from events.tables import DAY_MS, TRADES, day_name

    rng = np.random.default_rng(3)
    n = 500
    day = 20_500
    rows = pa.table(
        {
            "trade_id": [f"T{i:04d}" for i in range(n)],
            "ts": day * DAY_MS + rng.integers(0, 50, n),  # many ties: trade_id decides
            "symbol": rng.choice(["ETH_USDT", "BTC_USDT", "SOL_USDT"], n).tolist(),
            "price": rng.uniform(1, 2, n),
            "qty": rng.uniform(1, 2, n),
            "buyer_id": rng.choice(["A1", "A2", "A3"], n).tolist(),
            "seller_id": rng.choice(["A2", "A3", "A4"], n).tolist(),
            "taker_side": ["buy"] * n,
            "buy_order_id": [None] * n,
            "sell_order_id": [None] * n,
            "market": pa.array(
                rng.choice(["spot", "futures"], n).tolist(), mask=rng.random(n) < 0.3
            ),
        },
        schema=TRADES.schema,
    )
    folder = tmp_path / "events" / "trades" / day_name(day)
    folder.mkdir(parents=True)
    pq.write_table(rows.take(rng.permutation(n)), folder / "part.parquet")
    accounts = Accounts(
        ["A1", "A2", "A3", "A4"], np.arange(4), ["retail"] * 4, np.zeros(4, bool), ["active"] * 4
    )
    trades = read_trades(EventStore(tmp_path / "events"), accounts)
    want = rows.sort_by([("symbol", "ascending"), ("ts", "ascending"), ("trade_id", "ascending")])
    assert trades.ids(list(range(n))) == want.column("trade_id").to_pylist()
    assert [trades.symbols[s] for s in trades.symbol] == want.column("symbol").to_pylist()
    assert [trades.markets[m] for m in trades.market] == [
        m or "spot" for m in want.column("market").to_pylist()
    ]
    assert [accounts.ids[b] for b in trades.buyer] == want.column("buyer_id").to_pylist()


def test_sort_order_equals_lexsort_packed_or_not() -> None:
    from analytics.projection import sort_order

    rng = np.random.default_rng(5)
    a, b, c = (rng.integers(0, 40, 2_000) for _ in range(3))
    assert (sort_order(a, b, c) == np.lexsort((c, b, a))).all()  # packed into one integer
    assert (sort_order(a, b) == np.lexsort((b, a))).all()  # 12 bits: sorted as 16-bit integers
    full = rng.integers(0, 2**16, 2_000)
    assert (sort_order(full) == np.argsort(full, kind="stable")).all()  # exactly 16 bits
    wide = rng.integers(0, 2**40, 2_000)
    assert (sort_order(wide, wide % 7, a) == np.lexsort((a, wide % 7, wide))).all()  # too wide
    assert (sort_order(a - 20, b) == np.lexsort((b, a - 20))).all()  # negative: not packed
    assert len(sort_order(np.zeros(0, dtype=np.int64))) == 0


def test_codes_through_each_chunks_dictionary_with_nulls_and_strangers() -> None:
    from analytics.projection import codes_in

    first = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, None, 1], pa.int32()), pa.array(["b", "a"])
    )
    second = pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int32()), pa.array(["c", "zz"]))
    codes, complete = codes_in(pa.chunked_array([first, second]), pa.array(["a", "b", "c"]))
    assert codes.tolist() == [1, 0, -1, 0, -1, 2] and not complete
    plain = pa.chunked_array([pa.array(["c", "a"])])
    assert codes_in(plain, pa.array(["a", "b", "c"]))[0].tolist() == [2, 0]


def test_accounts_read_apart_equal_one_ordered_read(store: FalkorEmbedded) -> None:
    """Ids with their node ids, and apart from them the accounts whose type, status or API
    permission is not the usual one: the same as reading every column of every account in
    one ordered query (what ``read_accounts`` did), missing values included."""
    rows = [
        ("Z9", "retail", False, "active"),
        ("a1", "market_maker", True, "active"),
        ("B2", "retail", None, "frozen"),
        ("é3", None, True, None),
        ("A10", "institutional", False, "closed"),
        ("A2", None, None, None),
    ]
    for account_id, kind, api, status in rows:
        store.run(
            "CREATE (a:Account {account_id: $id}) "
            "SET a.account_type = $kind, a.api_authorized = $api, a.status = $status",
            {"id": account_id, "kind": kind, "api": api, "status": status},
        )
    [(ids, nodes, kinds, api, status)] = store.read(
        "MATCH (a:Account) WITH a ORDER BY a.account_id "
        "RETURN collect(a.account_id), collect(id(a)), "
        "collect(coalesce(a.account_type, 'retail')), collect(coalesce(a.api_authorized, false)), "
        "collect(coalesce(a.status, 'active'))"
    ).rows
    accounts = read_accounts(store)
    assert accounts.ids == ids
    assert accounts.node_ids.tolist() == nodes
    assert accounts.account_type == kinds
    assert accounts.api_authorized.tolist() == api
    assert accounts.status == status


@pytest.mark.parametrize("days", [1, 3, 31])
def test_rows_copied_run_by_run_equal_rows_gathered(days: int) -> None:
    """A window's day files, each sorted by symbol, are put in symbol order by copying runs
    of rows; any other order (and an empty one) is gathered row by row: the same result."""
    from analytics.projection import _in_order, _runs, sort_order

    rng = np.random.default_rng(days)
    symbol = np.concatenate(
        [np.sort(rng.integers(0, 7, rng.integers(0, 300))) for _ in range(days)]
    )
    values = rng.random(len(symbol))
    order = sort_order(symbol)
    assert _in_order(values, order, _runs(order)).tolist() == values[order].tolist()
    shuffled = rng.permutation(len(symbol))
    assert _runs(shuffled) is None or len(symbol) < 32
    assert _in_order(values, shuffled, _runs(shuffled)).tolist() == values[shuffled].tolist()
    empty = np.zeros(0, dtype=np.int64)
    assert _in_order(values, empty, _runs(empty)).tolist() == []


def test_uses_read_a_range_of_accounts_at_a_time_are_the_whole_read(
    tmp_path: Path, store: FalkorEmbedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uses are read ``USES_PAGE_ACCOUNTS`` accounts at a time (the server's reply for all of
    them at once is held in its memory); pages of a few accounts give the one read's uses."""
    from analytics import projection
    from synth import GeneratorConfig, generate

    generate(tmp_path / "gen", GeneratorConfig(accounts=300, seed=5))
    ingest_directory(tmp_path / "gen" / "input", store)
    accounts = read_accounts(store)
    whole = {kind: read_uses(store, accounts, kind) for kind in ("ip", "device", "funding")}
    assert all(len(u.account) > 300 for u in whole.values())
    reads: list[dict[str, int]] = []
    real = store.read_columns

    def counted(cypher: str, params: dict[str, int] | None = None, **kw: int):  # type: ignore[no-untyped-def]
        reads.append(dict(params or {}))
        return real(cypher, params, **kw)

    monkeypatch.setattr(projection, "USES_PAGE_ACCOUNTS", 7)
    monkeypatch.setattr(store, "read_columns", counted)
    for kind, want in whole.items():
        got = read_uses(store, accounts, kind)
        for name in ("account", "identifier", "ts"):
            assert np.array_equal(getattr(got, name), getattr(want, name)), (kind, name)
    assert len(reads) == 3 * -(-len(accounts) // 7)
