"""Ingest twice equals ingest once; splitting the same rows across runs changes nothing."""

from __future__ import annotations

import gzip
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from events.location import events_for
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from tests.helpers import ACCOUNTS_HEADER, TRADES_HEADER, drop, small_dataset, snapshot, write_csv


def test_ingest_twice_equals_once(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    first = ingest_directory(data, store)
    once = snapshot(store)
    second = ingest_directory(data, store)
    assert snapshot(store) == once
    assert [f.ingested for f in second.files] == [0] * len(second.files)
    assert [f.duplicate for f in second.files] == [f.ingested for f in first.files]
    assert [f.ingested for f in first.files] == [3, 3, 3, 4, 3, 1]
    pair = store.read(
        "MATCH (:Account {account_id:'A2'})-[e:TRADES_WITH {symbol:'BTC_USDT'}]->(:Account {account_id:'A1'}) "
        "RETURN e.trades, e.qty, e.quote"
    ).rows
    assert pair == [[2, 3.0, 302.0]]
    login = store.read(
        "MATCH (:Account {account_id:'A2'})-[e:USED_IP]->(:IP {ip:'10.0.0.1'}) RETURN e.count"
    ).scalar()
    assert login == 1


def test_csv_csvgz_and_parquet_give_the_same_graph(tmp_path: Path, store_path: Path) -> None:
    csv_dir = small_dataset(tmp_path / "csv")
    gz_dir, pq_dir = tmp_path / "gz", tmp_path / "pq"
    gz_dir.mkdir()
    pq_dir.mkdir()
    for path in csv_dir.glob("*.csv"):
        with path.open("rb") as src, gzip.open(gz_dir / f"{path.name}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
        pq.write_table(table, pq_dir / f"{path.stem}.parquet")
    snapshots = []
    for i, directory in enumerate((csv_dir, gz_dir, pq_dir)):
        with FalkorEmbedded(store_path, f"formats{i}") as graph:
            summary = ingest_directory(directory, graph)
            assert not any(f.quarantined for f in summary.files), summary
            snapshots.append(snapshot(graph))
            drop(graph)
    assert snapshots[0] == snapshots[1] == snapshots[2]
    assert len(snapshots[0][0]) > 10


trade_rows = hs.lists(
    hs.tuples(
        hs.integers(0, 4),
        hs.integers(0, 4),
        hs.sampled_from(["X_USDT", "Y_USDT"]),
        hs.integers(1, 50),
        hs.integers(0, 10_000),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=trade_rows, split=hs.integers(0, 25), seed=hs.randoms())
def test_any_split_and_repeat_of_trades_equals_one_clean_ingest(
    tmp_path_factory: object,
    store_path: Path,
    rows: list[tuple[int, int, str, int, int]],
    split: int,
    seed: object,
) -> None:
    base = Path(str(tmp_path_factory.mktemp("hyp")))  # type: ignore[attr-defined]
    accounts = [
        [f"A{i}", "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", "active"] for i in range(5)
    ]
    trades = [
        [f"T{n}", 1_790_000_000_000 + ts, sym, qty, qty, f"A{b}", f"A{s}", "", ""]
        for n, (s, b, sym, qty, ts) in enumerate(rows)
    ]

    def folder(name: str, subset: list[list[object]]) -> Path:
        write_csv(base / name / "accounts.csv", ACCOUNTS_HEADER, accounts)
        write_csv(base / name / "trades.csv", TRADES_HEADER, subset)
        return base / name

    shuffled = list(trades)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    with (
        FalkorEmbedded(store_path, "hyp_once") as once,
        FalkorEmbedded(store_path, "hyp_parts") as parts,
    ):
        try:
            ingest_directory(folder("all", trades), once)
            ingest_directory(folder("a", shuffled[:split]), parts)
            ingest_directory(folder("b", shuffled[split:] + shuffled[: split // 2]), parts)
            ingest_directory(folder("all", trades), parts)
            assert snapshot(parts) == snapshot(once)
            total = parts.read("MATCH ()-[e:TRADES_WITH]->() RETURN sum(e.trades)").scalar()
            per_pair = Counter((t[6], t[5], t[2]) for t in trades)  # (seller, buyer, symbol)
            assert (total or 0) == sum(n for n in per_pair.values() if n >= 2)
        finally:
            drop(once)
            drop(parts)


def test_pair_totals_are_exact_when_rows_are_staged_one_by_one(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    ingest_directory(data, store, batch_size=1, pair_min_trades=1)
    pairs = store.read(
        "MATCH (s:Account)-[e:TRADES_WITH]->(b:Account) "
        "RETURN s.account_id, b.account_id, e.symbol, e.trades, e.qty, e.first_ts, e.last_ts "
        "ORDER BY s.account_id, b.account_id, e.symbol"
    ).rows
    assert pairs == [
        ["A1", "A2", "BTC_USDT", 1, 3.0, 1770249720000, 1770249720000],
        ["A2", "A1", "BTC_USDT", 2, 3.0, 1770249600000, 1770249660000],
        ["A3", "A3", "ETH_USDT", 1, 1.0, 1770249780000, 1770249780000],
    ]


def test_awkward_ids_round_trip_exactly(tmp_path: Path, store: FalkorEmbedded) -> None:
    # Ids with control characters (line breaks, tabs) are rejected: see test_hostile_ingest.py.
    ids = ['quote"d', "back\\slash", "ünï-中文", "comma,id", "'single'", "emoji-🙂"]
    accounts = [[i, "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", "active"] for i in ids]
    trades = [
        [f"T-{n}-{i}", "2026-02-05T00:00:00Z", "BTC_USDT", 1, 1, i, ids[n - 1], "", ""]
        for n, i in enumerate(ids)
    ]
    write_csv(tmp_path / "in" / "accounts.csv", ACCOUNTS_HEADER, accounts)
    write_csv(tmp_path / "in" / "trades.csv", TRADES_HEADER, trades)
    summary = ingest_directory(tmp_path / "in", store)
    assert not any(f.quarantined for f in summary.files)
    stored = store.read("MATCH (a:Account) RETURN a.account_id ORDER BY a.account_id").rows
    assert [r[0] for r in stored] == sorted(ids)
    got = events_for(store).read("trades", ["trade_id", "buyer_id", "seller_id"]).to_pylist()
    assert sorted(tuple(r.values()) for r in got) == sorted((t[0], t[5], t[6]) for t in trades)
