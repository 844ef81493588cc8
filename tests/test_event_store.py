"""The event store on real Parquet files and the real embedded graph: atomic day files, crash
and re-run, day-at-a-time loads, analysis windows, evidence fills reachable from groups."""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.config import AnalysisConfig
from analytics.projection import Window, read_accounts, read_trades
from analytics.run import analyze
from analytics.window import resolve_window
from analytics.writeback import write_analysis
from events import store as event_store
from events.location import events_for
from events.store import EventStore
from events.tables import DAY_MS
from graph import statements as st
from graph.falkor_embedded import FalkorEmbedded
from ingest import pipeline
from ingest.pipeline import ingest_directory
from linkscope.errors import ConfigError
from tests.helpers import ACCOUNTS_HEADER, TRADES_HEADER, drop, snapshot, write_csv
from tests.test_detection import T0, Data, market

DAY0 = T0 // DAY_MS * DAY_MS  # midnight UTC of the test data's first day


class Slices:
    """A commit's day sink (``events.store.DaySink``) that keeps what it is given."""

    def __init__(
        self, day: int, on_landed: Callable[[], None], into: list[pa.Table] | None = None
    ) -> None:
        self.day, self.on_landed = day, on_landed
        self.slices: list[pa.Table] = [] if into is None else into
        self.done = False

    def add(self, rows: pa.Table) -> None:
        assert not self.done
        self.slices.append(rows)

    def landed(self) -> None:
        self.done = True
        self.on_landed()


def _accounts(n: int) -> list[list[object]]:
    return [
        [f"A{i}", "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", "active"] for i in range(n)
    ]


def _trades(days: range, per_day: int = 40) -> list[list[object]]:
    return [
        [f"T{d}-{k}", DAY0 + d * DAY_MS + k * 60_000, "BTC_USDT", 100 + k, 1 + k % 3,
         f"A{k % 5}", f"A{(k + 1 + d) % 5}", "buy", "spot"]
        for d in days
        for k in range(per_day)
    ]  # fmt: skip


def _folder(base: Path, name: str, trades: list[list[object]]) -> Path:
    write_csv(base / name / "accounts.csv", ACCOUNTS_HEADER, _accounts(5))
    write_csv(base / name / "trades.csv", TRADES_HEADER, trades)
    return base / name


def test_loading_days_one_at_a_time_equals_loading_them_at_once(
    tmp_path: Path, store_path: Path
) -> None:
    with (
        FalkorEmbedded(store_path, "days_once") as once,
        FalkorEmbedded(store_path, "days_daily") as daily,
    ):
        try:
            ingest_directory(_folder(tmp_path, "all", _trades(range(3))), once)
            for d in range(3):
                summary = ingest_directory(
                    _folder(tmp_path, f"d{d}", _trades(range(d, d + 1))), daily
                )
                assert next(f for f in summary.files if f.name == "trades").ingested == 40
            # Re-running a day changes nothing: its rows are duplicates.
            again = ingest_directory(_folder(tmp_path, "d1", _trades(range(1, 2))), daily)
            trades = next(f for f in again.files if f.name == "trades")
            assert (trades.ingested, trades.duplicate) == (0, 40)
            assert snapshot(daily) == snapshot(once)
            assert events_for(daily).days("trades") == [DAY0 // DAY_MS + d for d in range(3)]
            total = daily.read("MATCH ()-[e:TRADES_WITH]->() RETURN sum(e.trades)").scalar()
            assert total == 120
        finally:
            drop(once)
            drop(daily)


def test_a_reader_sees_the_old_or_the_new_day_never_a_mix(tmp_path: Path) -> None:
    events = EventStore(tmp_path / "ev")
    sizes = []
    rows = _trades(range(1), per_day=400)
    names = TRADES_HEADER

    def load(part: list[list[object]], load_id: str) -> None:
        stager = events.stager("trades", load_id)
        dicts = [dict(zip(names, r, strict=True)) for r in part]
        for d in dicts:
            d["price"], d["qty"] = float(d["price"]), float(d["qty"])  # type: ignore[arg-type]
        stager.append_rows(dicts, list(range(2, 2 + len(dicts))))
        with events.commit(stager):
            pass

    load(rows[:100], "first")
    stop = threading.Event()
    seen: set[int] = set()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                # A reader opens a day file once (a rename leaves an open file as it was) ...
                for f in events.files("trades"):
                    with f.open("rb") as handle:
                        seen.add(pq.read_table(handle).num_rows)
                # ... and so does DuckDB, the engine behind every scan linkscope makes.
                seen.add(events.count_rows("trades"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for step in range(1, 4):  # each load adds 100 rows to the same day file
            load(rows[step * 100 : (step + 1) * 100], f"load{step}")
            sizes.append(events.count("trades"))
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert sizes == [200, 300, 400]
    assert seen <= {100, 200, 300, 400} and seen, seen
    assert not list((tmp_path / "ev").rglob(".tmp-*"))


def test_a_load_that_dies_mid_commit_and_runs_again_is_one_clean_load(
    tmp_path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _folder(tmp_path, "all", _trades(range(4)))
    real_replace = os.replace
    calls = {"n": 0}

    def dies_after_two_days(src: object, dst: object) -> None:
        calls["n"] += str(dst).endswith("part.parquet")  # day files (not their account codes)
        if calls["n"] > 2:
            raise OSError("disk pulled")
        real_replace(src, dst)  # type: ignore[arg-type]

    with (
        FalkorEmbedded(store_path, "crash_rerun") as crashed,
        FalkorEmbedded(store_path, "crash_clean") as clean,
    ):
        try:
            monkeypatch.setattr(os, "replace", dies_after_two_days)
            with pytest.raises(OSError, match="disk pulled"):
                ingest_directory(data, crashed)
            monkeypatch.setattr(os, "replace", real_replace)
            assert len(events_for(crashed).days("trades")) == 2  # half committed
            assert crashed.read(
                "MATCH (s:IngestState {key: 'trade_pairs'}) RETURN s.dirty"
            ).scalar()
            ingest_directory(data, crashed)
            ingest_directory(data, clean)
            assert snapshot(crashed) == snapshot(clean)
            assert crashed.read("MATCH ()-[e:TRADES_WITH]->() RETURN sum(e.trades)").scalar() == 160
        finally:
            drop(crashed)
            drop(clean)


def test_a_load_that_fails_before_landing_leaves_the_pair_totals_as_they_were(
    tmp_path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The out-of-step mark set as a fills file starts is taken back when the file fails
    before any fill lands (no needless rebuild next time), and kept when an earlier load
    left the totals out of step (that rebuild is still owed)."""
    data = _folder(tmp_path, "all", _trades(range(2)))
    real_stage = pipeline._stage_events

    def fails_while_reading(*args: object, **kwargs: object) -> None:
        raise OSError("read error")

    def dirty(store: FalkorEmbedded) -> object:
        return store.read("MATCH (s:IngestState {key: 'trade_pairs'}) RETURN s.dirty").scalar()

    with FalkorEmbedded(store_path, "fails_reading") as store:
        try:
            monkeypatch.setattr(pipeline, "_stage_events", fails_while_reading)
            with pytest.raises(OSError, match="read error"):
                ingest_directory(data, store)
            assert dirty(store) is False
            store.run("MATCH (s:IngestState {key: 'trade_pairs'}) SET s.dirty = true")
            with pytest.raises(OSError, match="read error"):
                ingest_directory(data, store)
            assert dirty(store) is True
            monkeypatch.setattr(pipeline, "_stage_events", real_stage)
            ingest_directory(data, store)
            assert dirty(store) is False
            assert store.read("MATCH ()-[e:TRADES_WITH]->() RETURN sum(e.trades)").scalar() == 80
        finally:
            drop(store)


def test_asking_for_any_pair_total_does_not_scan_every_node(store: FalkorEmbedded) -> None:
    """Before the first fills' pairs the graph holds accounts, IPs and funding sources only:
    a plain ``()-[:TRADES_WITH]->()`` pattern made FalkorDB visit each of them (seconds at
    100k accounts, inside the fills file's time)."""
    store.run("UNWIND range(1, 2000) AS i CREATE (:Account {account_id: 'A' + toString(i)})")
    assert store.run(st.ANY_TRADE_PAIR).rows == []
    plan = store._graph.profile(st.ANY_TRADE_PAIR).plan  # the server counts per operation
    scans = [line for line in plan if "All Node Scan" in line]
    assert scans and all("Records produced: 0," in line for line in scans), plan
    store.run(
        "MATCH (a:Account {account_id: 'A1'}), (b:Account {account_id: 'A2'}) "
        "CREATE (a)-[:TRADES_WITH {symbol: 'BTC_USDT'}]->(b)"
    )
    assert store.run(st.ANY_TRADE_PAIR).rows == [["BTC_USDT"]]


def _ring_beside_a_market() -> Data:
    """A market maker with its users, and a wash ring R1 -> R2 -> R3 -> R1 completed 5 times."""
    data = Data()
    market(data)
    for aid in ("R1", "R2", "R3"):
        data.account(aid)
    for k in range(5):
        ts = T0 + k * 5 * 3_600_000 + 17_000
        data.trade("R1", "R2", ts, 3.0, "ETH_USDT")
        data.trade("R2", "R3", ts + 2_000, 3.0, "ETH_USDT")
        data.trade("R3", "R1", ts + 4_000, 3.0, "ETH_USDT")
    return data


def test_window_reads_only_fills_inside_it(tmp_path: Path, store: FalkorEmbedded) -> None:
    ingest_directory(_folder(tmp_path, "all", _trades(range(5))), store)
    events, accounts = events_for(store), read_accounts(store)
    day = DAY0 // DAY_MS
    inside = read_trades(events, accounts, Window((day + 1) * DAY_MS, (day + 3) * DAY_MS))
    assert len(inside) == 80
    assert inside.ts.min() >= (day + 1) * DAY_MS and inside.ts.max() < (day + 3) * DAY_MS
    # Boundaries: since is inclusive, until exclusive, to the millisecond.
    first = DAY0 + DAY_MS  # the first fill of day 1
    assert len(read_trades(events, accounts, Window(first, first + 1))) == 1
    assert len(read_trades(events, accounts, Window(first + 1, first + 60_000))) == 0
    # A window cutting through days keeps each fill's columns together (read one by one).
    whole = read_trades(events, accounts)
    part = read_trades(events, accounts, Window(first + 1, first + DAY_MS + DAY_MS // 2))
    rows = (whole.ts >= first + 1) & (whole.ts < first + DAY_MS + DAY_MS // 2)
    assert 0 < len(part) < rows.size
    assert part.trade_id.to_pylist() == whole.trade_id.filter(pa.array(rows)).to_pylist()
    for name in ("ts", "seller", "buyer", "symbol", "qty", "price"):
        assert getattr(part, name).tolist() == getattr(whole, name)[rows].tolist(), name
    # A window of 2 days ends with the latest loaded day.
    assert resolve_window(events, window="2d") == Window((day + 3) * DAY_MS, (day + 5) * DAY_MS)
    assert resolve_window(events, default_days=1) == Window((day + 4) * DAY_MS, (day + 5) * DAY_MS)
    assert resolve_window(events) == Window()
    # A plain date is UTC midnight.
    start = (day + 1) * DAY_MS
    date = dt.datetime.fromtimestamp(start / 1000, dt.UTC)
    assert resolve_window(events, since=date.strftime("%Y-%m-%d")).since == start
    with pytest.raises(ConfigError):
        resolve_window(events, window="2w")


def test_analysing_a_window_ignores_a_ring_outside_it(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = _ring_beside_a_market()
    late = T0 + 30 * DAY_MS  # a month later: ordinary trading only
    data.trade("U01", "MM", late, 1.0)
    data.trade("MM", "U02", late + 60_000, 2.5)
    ingest_directory(data.write(tmp_path / "in"), store)
    cfg = AnalysisConfig()
    events = events_for(store)
    everything = analyze(store, cfg)
    recent = analyze(store, cfg, window=resolve_window(events, window="7d"))
    ring = {everything.accounts.ids.index(a) for a in ("R1", "R2", "R3")}
    assert any(ring <= set(w.members) for w in everything.findings.wash)
    assert not recent.findings.wash
    assert len(recent.trades) == 2 and recent.counts["trades"] == 2


def test_evidence_fills_are_reachable_from_groups_in_cypher(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = _ring_beside_a_market()
    ingest_directory(data.write(tmp_path / "in"), store)
    assert store.read("MATCH (t:Trade) RETURN count(t)").scalar() == 0  # fills are not nodes
    cfg = AnalysisConfig()
    analysis = analyze(store, cfg)
    write_analysis(store, analysis, cfg)
    rows = store.read(
        "MATCH (g:Group {current: true})-[:EVIDENCE]->(t:Trade) "
        "MATCH (s:Account)-[:SOLD]->(t)<-[:BOUGHT]-(b:Account) "
        "RETURN t.trade_id, s.account_id, b.account_id, t.qty, t.symbol ORDER BY t.trade_id"
    ).rows
    assert len(rows) == 15
    assert {(r[1], r[2]) for r in rows} == {("R1", "R2"), ("R2", "R3"), ("R3", "R1")}
    assert {(r[3], r[4]) for r in rows} == {(3.0, "ETH_USDT")}
    # Only cited fills became nodes; a second analysis merges them instead of copying them.
    write_analysis(store, analyze(store, cfg), cfg)
    assert store.read("MATCH (t:Trade) RETURN count(t)").scalar() == 15


def test_lookup_by_literal_list_escapes_keys_and_matches_the_join(tmp_path: Path) -> None:
    """Keys are given to DuckDB as a literal IN list up to LITERAL_KEYS (row groups pruned),
    as a joined table beyond: quotes in ids are escaped, and both give the same rows."""
    events = EventStore(tmp_path / "ev")
    rows = _trades(range(2), per_day=30)
    rows[3][0], rows[40][0] = "T'quoted", "T'); DROP TABLE x; --"
    stager = events.stager("trades", "load")
    dicts = [dict(zip(TRADES_HEADER, r, strict=True)) for r in rows]
    for d in dicts:
        d["price"], d["qty"] = float(d["price"]), float(d["qty"])  # type: ignore[arg-type]
    stager.append_rows(dicts, list(range(2, 2 + len(dicts))))
    with events.commit(stager):
        pass
    wanted = ["T'quoted", "T'); DROP TABLE x; --", "T1-5", "missing"]
    listed = events.lookup("trades", wanted).column("trade_id").to_pylist()
    assert listed == sorted(["T'quoted", "T'); DROP TABLE x; --", "T1-5"])
    original = event_store.LITERAL_KEYS
    event_store.LITERAL_KEYS = 1  # the same lookup through the joined table
    try:
        joined = events.lookup("trades", wanted).column("trade_id").to_pylist()
    finally:
        event_store.LITERAL_KEYS = original
    assert joined == listed


def _staged(events: EventStore, rows: list[list[object]], load_id: str) -> event_store.Stager:
    stager = events.stager("trades", load_id)
    dicts = [dict(zip(TRADES_HEADER, r, strict=True)) for r in rows]
    for d in dicts:
        d["price"], d["qty"] = float(d["price"]), float(d["qty"])  # type: ignore[arg-type]
    stager.append_rows(dicts, list(range(2, 2 + len(dicts))))
    return stager


@pytest.mark.parametrize("repeated", [False, True], ids=["every-row-new", "with-duplicates"])
def test_a_commit_that_keeps_no_inserted_rows_frees_each_days_staging_as_it_lands(
    tmp_path: Path, repeated: bool
) -> None:
    """Without ``inserted`` after the commit (orders), a day's staging files are gone by the
    time the day lands, so a load's staging and its day files are never both whole on disk;
    the days hold what a commit keeping everything writes."""
    rows = _trades(range(3), per_day=50)
    load = rows + rows[:20] if repeated else rows  # repeated rows take the classified path
    kept, freed = EventStore(tmp_path / "kept"), EventStore(tmp_path / "freed")
    with kept.commit(_staged(kept, load, "load")) as (result, con):
        assert con.sql("SELECT count(*) FROM inserted").fetchall() == [(150,)]
    assert (result.inserted, result.duplicate) == (150, 20 if repeated else 0)
    stager = _staged(freed, load, "load")
    staged = {d: stager.files(d) for d in stager.days}
    assert len(staged) == 3 and all(p.is_file() for ps in staged.values() for p in ps)
    left_at_landing: dict[int, list[bool]] = {}

    def landed(day: int) -> Slices:
        return Slices(day, lambda: left_at_landing.update({day: [p.exists() for p in staged[day]]}))

    with freed.commit(stager, landed, keep_inserted=False) as (result, con):
        assert not con.sql("SELECT * FROM duckdb_tables() WHERE table_name = 'inserted'").fetchall()
        assert not con.sql("SELECT * FROM duckdb_views() WHERE view_name = 'inserted'").fetchall()
    assert (result.inserted, result.duplicate) == (150, 20 if repeated else 0)
    assert sorted(left_at_landing) == sorted(staged)
    assert not any(any(v) for v in left_at_landing.values())
    for day in staged:
        [a] = kept.files("trades", day * DAY_MS, (day + 1) * DAY_MS)
        [b] = freed.files("trades", day * DAY_MS, (day + 1) * DAY_MS)
        assert pq.read_table(a).equals(pq.read_table(b))


def test_fixed_columns_land_as_codes_and_read_back_as_strings(tmp_path: Path) -> None:
    """Orders' contract-fixed columns go through the commit as codes (``ORDERS.enums``, the
    same values the contract allows); the day file reads back as the schema's plain strings,
    in pyarrow and DuckDB, with the day's version in its metadata."""
    from events.account_codes import VERSION
    from events.tables import ORDERS
    from ingest.contract import BY_NAME

    for table in (event_store.TABLES["trades"], ORDERS):
        allowed = {c.name: c.parse.choices for c in BY_NAME[table.name].columns
                   if hasattr(c.parse, "choices")}  # fmt: skip
        assert {k: set(v) for k, v in table.enums.items()} == allowed
    events = EventStore(tmp_path / "events")
    stager = events.stager("orders", "load")
    statuses = ["filled", "partially_filled", "cancelled", "open", "rejected"]
    rows = [
        {"order_id": f"o{i}", "account_id": f"a{i % 3}", "symbol": "BTC-USDT",
         "side": "buy" if i % 2 else "sell", "type": "limit", "price": 10.0 + i, "qty": 1.0,
         "placed_at": DAY_MS * 20_000 + i, "ended_at": None if i % 4 else DAY_MS * 20_000 + i + 9,
         "final_status": statuses[i % 5], "filled_qty": 0.0,
         "channel": [None, "web", "app", "api"][i % 4]}
        for i in range(40)
    ]  # fmt: skip
    stager.append_rows(rows, list(range(2, 42)))
    landed: list[pa.Table] = []

    def sink(day: int) -> Slices:
        return Slices(day, lambda: None, landed)

    with events.commit(stager, sink):
        pass
    [day] = landed
    assert all(pa.types.is_dictionary(day.schema.field(name).type) for name in ORDERS.enums)
    [path] = events.files("orders")
    assert pq.read_schema(path).remove_metadata() == ORDERS.schema
    assert VERSION in (pq.read_schema(path).metadata or {})
    stored = pq.read_table(path).sort_by("order_id").to_pylist()
    assert stored == sorted(rows, key=lambda r: str(r["order_id"]))
    with events.connection() as con:
        via_duckdb = con.sql(f"SELECT * FROM {events.scan('orders')} ORDER BY order_id")
        assert via_duckdb.to_arrow_table().to_pylist() == stored
    # Into the day just written, with repeated rows: the classified path, old rows read back
    # from the file and coded again beside the new ones.
    more = [dict(r, order_id=f"p{i}", account_id="a9") for i, r in enumerate(rows[:5])]
    again = events.stager("orders", "load2")
    again.append_rows(rows[:10] + more, list(range(2, 17)))
    with events.commit(again, sink) as (result, _):
        pass
    assert (result.inserted, result.duplicate) == (5, 10)
    assert all(pa.types.is_dictionary(landed[-1].schema.field(n).type) for n in ORDERS.enums)
    [path] = events.files("orders")
    assert pq.read_schema(path).remove_metadata() == ORDERS.schema
    stored = pq.read_table(path).sort_by("order_id").to_pylist()
    assert stored == sorted(rows + more, key=lambda r: str(r["order_id"]))


def _orders(day: int, accounts: list[int]) -> list[dict[str, object]]:
    """Orders of one day, an order per entry of ``accounts`` (repeat an account for more)."""
    statuses = ["filled", "partially_filled", "cancelled", "open", "rejected"]
    return [
        {"order_id": f"o{day}-{i}", "account_id": f"a{a}", "symbol": ["BTC-USDT", "ETH-USDT"][i % 2],
         "side": "buy" if i % 3 else "sell", "type": "limit", "price": 10.0 + i % 7, "qty": 1.0,
         "placed_at": DAY_MS * day + (i * 7919) % 80_000_000,
         "ended_at": None if i % 4 else DAY_MS * day + (i * 7919) % 80_000_000 + 50 * (i % 9),
         "final_status": statuses[i % 5], "filled_qty": 0.0, "channel": "api" if i % 2 else None}
        for i, a in enumerate(accounts)
    ]  # fmt: skip


def _commit_orders(
    events: EventStore, rows: list[dict[str, object]], load: str
) -> dict[int, Slices]:
    stager = events.stager("orders", load)
    stager.append_rows(rows, list(range(2, 2 + len(rows))))
    sinks: dict[int, Slices] = {}

    def sink(day: int) -> Slices:
        return sinks.setdefault(day, Slices(day, lambda: None))

    with events.commit(stager, sink):
        pass
    return sinks


def test_a_large_day_is_sorted_and_written_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day of more than ``SLICE_ROWS`` rows is sorted and written a slice at a time, cut
    between accounts (one account's rows may exceed a slice): the day file and its order
    statistics are those of the day written whole, and each slice holds whole accounts."""
    from ingest.order_days import order_day_stats

    # Account 3 alone holds more rows than a slice; the others a few each.
    accounts = [i % 10 for i in range(40)] + [3] * 25 + [7] * 6
    rows = _orders(20_000, accounts) + _orders(20_001, accounts[:9])
    whole, sliced = EventStore(tmp_path / "whole"), EventStore(tmp_path / "sliced")
    whole_sinks = _commit_orders(whole, rows, "load")
    monkeypatch.setattr(event_store, "SLICE_ROWS", 8)
    monkeypatch.setattr(event_store, "SAMPLE_EVERY", 1)  # the staged sample is every row
    sliced_sinks = _commit_orders(sliced, rows, "load")

    assert [len(whole_sinks[d].slices) for d in (20_000, 20_001)] == [1, 1]
    slices = sliced_sinks[20_000].slices
    assert len(slices) >= 4 and all(s.done for s in sliced_sinks.values())
    firsts = [set(s.column("account_id").to_pylist()) for s in slices]
    assert all(a and b and max(a) < min(b) for a, b in itertools.pairwise(firsts))
    assert sum(map(len, slices)) == len(accounts)
    for day in (20_000, 20_001):
        [a] = whole.files("orders", day * DAY_MS, (day + 1) * DAY_MS)
        [b] = sliced.files("orders", day * DAY_MS, (day + 1) * DAY_MS)
        assert pq.read_table(a).equals(pq.read_table(b))
        assert pq.read_schema(b).remove_metadata() == pq.read_schema(a).remove_metadata()
        by_slice = pa.concat_tables([order_day_stats(s, day) for s in sliced_sinks[day].slices])
        assert by_slice.equals(order_day_stats(pq.read_table(a), day))
    # Into the day already written, with new rows of accounts on both sides of the cuts.
    more = [dict(r, order_id=f"x{i}") for i, r in enumerate(_orders(20_000, [0, 3, 9] * 4))]
    for events in (whole, sliced):
        _commit_orders(events, more, "load2")
    [a] = whole.files("orders", 20_000 * DAY_MS, 20_001 * DAY_MS)
    [b] = sliced.files("orders", 20_000 * DAY_MS, 20_001 * DAY_MS)
    assert pq.read_table(b).num_rows == len(accounts) + len(more)
    assert pq.read_table(a).equals(pq.read_table(b))


@pytest.mark.parametrize("every", [1, 3, 50])
def test_a_new_day_is_cut_at_values_of_its_staged_sample_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    """A day whose rows are all new is cut into slices at values of the stager's sample of it,
    so DuckDB reads the day once a slice and never to cut it. However coarse the sample, the
    day file is the day written whole; a fine sample gives balanced slices."""
    accounts = [i % 10 for i in range(40)] + [3] * 25 + [7] * 6
    rows = _orders(20_000, accounts)
    whole, sliced = EventStore(tmp_path / "whole"), EventStore(tmp_path / "sliced")
    _commit_orders(whole, rows, "load")
    monkeypatch.setattr(event_store, "SLICE_ROWS", 20)
    monkeypatch.setattr(event_store, "SAMPLE_EVERY", every)

    def no_scan(*args: object) -> None:
        raise AssertionError("a new day was read to cut it")

    monkeypatch.setattr(event_store, "_slices", no_scan)
    stager = sliced.stager("orders", "load")
    for start in range(0, len(rows), 30):  # three blocks: the stride runs on across them
        block = rows[start : start + 30]
        stager.append_rows(block, list(range(start + 2, start + 2 + len(block))))
    assert stager.day_rows(20_000) == len(rows)
    assert stager.sample(20_000).to_pylist() == [
        rows[i]["account_id"] for i in range(0, len(rows), every)
    ]
    sinks: dict[int, Slices] = {}
    with sliced.commit(stager, lambda day: sinks.setdefault(day, Slices(day, lambda: None))):
        pass
    slices = sinks[20_000].slices
    assert len(slices) > 1
    [a], [b] = whole.files("orders"), sliced.files("orders")
    assert pq.read_table(a).equals(pq.read_table(b))
    accounts_in = [set(s.column("account_id").to_pylist()) for s in slices]
    assert all(x and y and max(x) < min(y) for x, y in itertools.pairwise(accounts_in))
    if every == 1:  # every row sampled: the cuts a count of the day gives (a3 holds 29 rows)
        assert [len(s) for s in slices] == [41, 22, 8]


def test_a_new_day_cut_at_the_default_stride_gives_slices_near_their_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the stager's own stride (a value in 256), a day of 6,000 orders staged in blocks of
    700 is cut into slices of about ``SLICE_ROWS``, and the day file is the one written whole."""
    rows = _orders(20_000, [(i * 37) % 150 for i in range(6_000)])
    whole, sliced = EventStore(tmp_path / "whole"), EventStore(tmp_path / "sliced")
    _commit_orders(whole, rows, "load")
    monkeypatch.setattr(event_store, "SLICE_ROWS", 1_500)
    stager = sliced.stager("orders", "load")
    for start in range(0, len(rows), 700):
        block = rows[start : start + 700]
        stager.append_rows(block, list(range(start + 2, start + 2 + len(block))))
    assert len(stager.sample(20_000)) == -(-len(rows) // event_store.SAMPLE_EVERY)
    sinks: dict[int, Slices] = {}
    with sliced.commit(stager, lambda day: sinks.setdefault(day, Slices(day, lambda: None))):
        pass
    sizes = [len(s) for s in sinks[20_000].slices]
    assert len(sizes) >= 3 and sum(sizes) == len(rows) and max(sizes) <= 2 * 1_500
    [a], [b] = whole.files("orders"), sliced.files("orders")
    assert pq.read_table(a).equals(pq.read_table(b))


def test_fills_sorted_in_slices_keep_their_account_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fills are cut by symbol; the day's account codes, written once from every slice, read
    back the day file's accounts row by row."""
    rows = [
        [f"T{k}", DAY0 + k * 1_000, ["BTC_USDT", "ETH_USDT", "SOL_USDT"][k % 3], 100, 1,
         f"A{k % 7}", f"A{(k + 3) % 7}", "buy", "spot"]
        for k in range(60)
    ]  # fmt: skip
    events = EventStore(tmp_path / "events")
    monkeypatch.setattr(event_store, "SLICE_ROWS", 15)
    monkeypatch.setattr(event_store, "SAMPLE_EVERY", 1)
    seen: list[Slices] = []

    def sink(day: int) -> Slices:
        seen.append(Slices(day, lambda: None))
        return seen[-1]

    with events.commit(_staged(events, rows, "load"), sink):
        pass
    assert [len(s.slices) for s in seen] == [3]
    [path] = events.files("trades")
    reader = events.column_reader("trades")
    codes = reader.codes("seller_id")
    assert codes is not None
    registry = codes[1].to_pylist()
    assert [registry[c] for c in codes[0].tolist()] == pq.read_table(path)["seller_id"].to_pylist()


@pytest.mark.parametrize("failing", [2, 1])
def test_a_day_that_fails_midway_leaves_the_stored_day_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    """An error while a day is written (here the day's statistics fail on its second slice, or
    on its only one, after the slice's rows were written) leaves the day as it was stored, and
    no temporary file beside it. The day's landing is handed to the writer behind its last
    slice without waiting for it, so it must not land a day whose slice failed."""
    events = EventStore(tmp_path / "events")
    _commit_orders(events, _orders(20_000, list(range(6))), "load")
    [path] = events.files("orders")
    before = pq.read_table(path)
    if failing > 1:
        monkeypatch.setattr(event_store, "SLICE_ROWS", 5)

    class Failing(Slices):
        def add(self, rows: pa.Table) -> None:
            super().add(rows)
            if len(self.slices) == failing:
                raise RuntimeError("statistics failed")

    stager = events.stager("orders", "load2")
    more = [dict(r, order_id=f"x{i}") for i, r in enumerate(_orders(20_000, list(range(12))))]
    stager.append_rows(more, list(range(2, 2 + len(more))))
    with (
        pytest.raises(RuntimeError, match="statistics failed"),
        events.commit(stager, lambda day: Failing(day, lambda: None)),
    ):
        pass
    assert pq.read_table(path).equals(before)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_day_that_has_landed_is_let_go(tmp_path: Path) -> None:
    """When a day lands, the commit keeps nothing of the days before it: an L load of 30 order
    days held every landed day's statistics to its end, ~300 MB more a day."""
    events = EventStore(tmp_path / "events")
    sinks: dict[int, weakref.ref[Slices]] = {}
    alive_at_landing: dict[int, list[int]] = {}

    def landed(day: int) -> None:
        gc.collect()
        alive_at_landing[day] = [d for d, ref in sinks.items() if d < day and ref() is not None]

    def hook(day: int) -> Slices:
        sink = Slices(day, lambda: landed(day))
        sinks[day] = weakref.ref(sink)
        return sink

    with events.commit(_staged(events, _trades(range(4)), "load"), hook) as (result, _):
        pass
    assert len(result.days) == 4
    assert alive_at_landing == {d: [] for d in result.days}


def test_a_connection_asked_for_less_memory_gets_the_smaller_limit(tmp_path: Path) -> None:
    """``connection(at_most=...)`` lowers DuckDB's limit, never raises it past the store's."""

    def limit(events: EventStore, at_most: str | None) -> str:
        with events.connection(at_most) as con:
            [(value,)] = con.sql("SELECT current_setting('memory_limit')").fetchall()
        return str(value)

    big = EventStore(tmp_path, memory_limit="2GB")
    small = EventStore(tmp_path, memory_limit="500MB")
    assert limit(big, "1GB") == limit(EventStore(tmp_path, memory_limit="1GB"), None)
    assert limit(small, "1GB") == limit(small, None) != limit(big, None)
    assert limit(big, "not a size") == limit(big, None)
    # DuckDB's other spellings of a configured limit are read, or else kept as they are.
    assert limit(EventStore(tmp_path, memory_limit="500M"), "1GB") == limit(small, None)
    assert limit(EventStore(tmp_path, memory_limit="4g"), "1GB") == limit(big, "1GB")
    odd = EventStore(tmp_path, memory_limit="1.9 GiB ")
    assert limit(odd, "1GB") == limit(big, "1GB")


def test_orders_are_committed_without_reading_the_account_registry(tmp_path: Path) -> None:
    """Only fills have coded accounts: an orders commit never loads the registry (a million
    ids and their index at L) to code nothing."""
    events = EventStore(tmp_path / "events")
    with events.commit(_staged(events, _trades(range(1)), "fills")):
        pass
    assert events.codes.registry() is not None
    fresh = EventStore(tmp_path / "events")
    _commit_orders(fresh, _orders(20_000, [1, 2, 3]), "orders")
    assert fresh.codes._ids is None and fresh.codes._index is None


@pytest.mark.parametrize("order", ["in time order", "shuffled"])
def test_a_batch_spanning_days_is_staged_day_by_day_in_its_row_order(
    tmp_path: Path, order: str
) -> None:
    """A batch holding several days stages each day's rows, in the batch's order, with the
    day's sample counted on from the rows staged before: in time order it is cut without a
    copy, out of order put in day order first."""
    rows = [
        {"order_id": f"o{i}", "account_id": f"a{i % 11}", "symbol": "BTC-USDT", "side": "buy",
         "type": "limit", "price": 1.0, "qty": 1.0, "placed_at": DAY_MS * (20_000 + i // 9),
         "ended_at": None, "final_status": "open", "filled_qty": 0.0, "channel": None}
        for i in range(40)
    ]  # fmt: skip
    if order == "shuffled":
        rows = rows[::3] + rows[1::3] + rows[2::3]
    stager = EventStore(tmp_path / "events").stager("orders", "load")
    lines = list(range(2, 2 + len(rows)))
    stager.append_rows(rows[:7], lines[:7])
    stager.append_rows(rows[7:], lines[7:])
    stager.close()
    assert stager.days == [20_000 + d for d in range(5)]
    for day in stager.days:
        staged = stager.dataset(day).to_table()
        expected = [(r["order_id"], n) for r, n in zip(rows, lines, strict=True)
                    if r["placed_at"] // DAY_MS == day]  # fmt: skip
        assert list(zip(staged["order_id"].to_pylist(), staged["_line"].to_pylist(),
                        strict=True)) == expected  # fmt: skip
        assert stager.day_rows(day) == len(expected)
        every = event_store.SAMPLE_EVERY
        firsts = [f"a{int(oid[1:]) % 11}" for oid, _ in expected[::every]]
        assert stager.sample(day).to_pylist() == firsts


def test_a_load_stages_raw_up_to_its_budget_and_compressed_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first ``RAW_STAGING_BYTES`` of a load are staged uncompressed, the rest with zstd
    in new parts of the days open when the budget ran out; the commit lands the same day."""
    rows = _orders(20_000, [i % 13 for i in range(3_000)])
    whole = EventStore(tmp_path / "whole")
    _commit_orders(whole, rows, "load")
    events = EventStore(tmp_path / "events")
    monkeypatch.setattr(event_store, "RAW_STAGING_BYTES", 50_000)
    stager = events.stager("orders", "load")
    for start in range(0, len(rows), 500):
        block = rows[start : start + 500]
        stager.append_rows(block, list(range(start + 2, start + 2 + len(block))))
    stager.close()
    parts = stager.files(20_000)
    assert len(parts) == 2

    def compressed(path: Path) -> bool:
        with pa.ipc.open_file(path) as reader:
            raw = sum(reader.get_batch(i).nbytes for i in range(reader.num_record_batches))
        return path.stat().st_size < raw / 2

    assert [compressed(p) for p in parts] == [False, True]
    with events.commit(stager):
        pass
    [a], [b] = whole.files("orders"), events.files("orders")
    assert pq.read_table(a).equals(pq.read_table(b))
