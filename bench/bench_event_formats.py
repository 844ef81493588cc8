"""Plain day-partitioned Parquet (what linkscope uses) against Delta Lake, on the same fills.

    python bench/bench_event_formats.py --size M      # needs `pip install deltalake`

Both get the same rows as Arrow, so only the table format differs. Measured per format:
the first load of every fill; a re-load of the last tenth (all already stored: the keyed
duplicate check must find every one and write nothing); a one-day window scan through DuckDB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa

from events.store import EventStore, connect
from events.tables import DAY_MS, TRADES
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate

SIZES = {"XS": 2_000, "S": 10_000, "M": 100_000}


def fills(work: Path, accounts: int) -> pa.Table:
    """The generator's fills, typed as the event store keeps them (via a real ingest)."""
    from graph.falkor_embedded import FalkorEmbedded

    generate(work / "data", GeneratorConfig(accounts=accounts, seed=11, order_flow="light"))
    store = FalkorEmbedded(work / "graph", "formats")
    ingest_directory(work / "data" / "input", store, events=EventStore(work / "source"))
    store.close()
    return EventStore(work / "source").read("trades")


def parquet_days(rows: pa.Table, root: Path) -> dict[str, float]:
    events = EventStore(root)
    out: dict[str, float] = {}
    for name, part in (
        ("first_load_s", rows),
        ("reload_tenth_s", rows.slice(rows.num_rows * 9 // 10)),
    ):
        stager = events.stager("trades", name)
        stager.append(part.append_column("_line", pa.array(range(part.num_rows), pa.int64())))
        started = time.perf_counter()
        with events.commit(stager) as (result, _):
            pass
        out[name] = round(time.perf_counter() - started, 2)
        out[f"{name}_inserted"] = result.inserted
    day = int(rows.column("ts")[0].as_py()) // DAY_MS
    started = time.perf_counter()
    events.read("trades", ["count(*)"], since=day * DAY_MS, until=(day + 1) * DAY_MS)
    out["one_day_scan_s"] = round(time.perf_counter() - started, 3)
    out["files"] = len(events.files("trades"))
    return out


def delta(rows: pa.Table, root: Path) -> dict[str, float]:
    from deltalake import DeltaTable, write_deltalake

    rows = rows.append_column(
        "day", pa.compute.divide(rows.column("ts"), pa.scalar(DAY_MS, pa.int64()))
    )
    out: dict[str, float] = {}
    started = time.perf_counter()
    write_deltalake(str(root), rows, partition_by=["day"], mode="append")
    out["first_load_s"] = round(time.perf_counter() - started, 2)
    again = rows.slice(rows.num_rows * 9 // 10)
    started = time.perf_counter()
    merged = (
        DeltaTable(str(root))
        .merge(again, predicate="t.trade_id = s.trade_id", source_alias="s", target_alias="t")
        .when_not_matched_insert_all()
        .execute()
    )
    out["reload_tenth_s"] = round(time.perf_counter() - started, 2)
    out["reload_tenth_s_inserted"] = int(merged.get("num_target_rows_inserted", -1))
    day = int(rows.column("ts")[0].as_py()) // DAY_MS
    started = time.perf_counter()
    table = DeltaTable(str(root)).to_pyarrow_dataset()
    con = connect()
    con.register("d", table)
    con.sql(f"SELECT count(*) FROM d WHERE day = {day}").fetchall()
    out["one_day_scan_s"] = round(time.perf_counter() - started, 3)
    out["files"] = len(list(root.rglob("*.parquet")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S", choices=SIZES)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linkscope-formats-"))
    try:
        rows = fills(work, SIZES[args.size])
        result: dict[str, Any] = {"size": args.size, "fills": rows.num_rows}
        result["parquet_day_files"] = parquet_days(rows.select(TRADES.columns), work / "parquet")
        result["delta_lake"] = delta(rows.select(TRADES.columns), work / "delta")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / f"event-formats-{args.size}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
