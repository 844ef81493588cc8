"""Ingest throughput against the store's raw write floor, measured in the same run.

    python bench/bench_ingest.py --size M     # 100k accounts, ~2.5M trades

Prints trades/s end to end (validation + Trade nodes + buyer/seller edges + counterparty
totals + duplicate check) and two floors measured in the same run on the same store with the
same rows and pre-encoded parameters: a bare ``UNWIND … CREATE`` of trade nodes (no edges, no
index), and the same graph shape as the ingest writes (node + two edges) with nothing else.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from procmem import proc_mb

from graph.falkor_embedded import FalkorEmbedded
from ingest.contract import TRADES
from ingest.pipeline import ingest_directory
from ingest.reader import iter_batches
from ingest.validate import Validator
from linkscope.synth import GeneratorConfig, generate

SIZES = {"XS": 2_000, "S": 10_000, "M": 100_000, "L": 1_000_000}
FLOOR = """UNWIND range(0, size($k) - 1) AS i
CREATE (:FloorTrade {trade_id: $trade_id[i], ts: $ts[i], symbol: $symbol[i], price: $price[i],
    qty: $qty[i], buyer_id: $buyer_id[i], seller_id: $seller_id[i]})"""


# The same graph shape as the ingest writes (node + two edges), with nothing else: no index,
# no duplicate check, no counterparty totals, no validation. It tells what the model costs the
# store, apart from what linkscope adds.
SHAPE_FLOOR = """UNWIND range(0, size($k) - 1) AS i
MATCH (s) WHERE id(s) = $seller[i]
MATCH (b) WHERE id(b) = $buyer[i]
CREATE (s)-[:SOLD]->(:ShapeTrade {trade_id: $trade_id[i], ts: $ts[i], symbol: $symbol[i],
    price: $price[i], qty: $qty[i]})<-[:BOUGHT]-(b)"""


def _rows(trades: Path, batch: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for b in iter_batches(trades, batch):
        check = Validator(TRADES, b.header)
        rows.extend(r for rec in b.records if isinstance(r := check(rec), dict))
    return rows


def floor(store: FalkorEmbedded, rows: list[dict[str, Any]], batch: int, statement: str) -> float:
    """Trades per second of one bare statement over the same rows (parameters pre-encoded)."""
    cols = ("trade_id", "ts", "symbol", "price", "qty", "buyer_id", "seller_id", "seller", "buyer")
    prepared = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        params: dict[str, Any] = {c: [r[c] for r in chunk] for c in cols}
        params["k"] = list(range(len(chunk)))
        prepared.append(store.prepare(statement, params))
    started = time.perf_counter()
    for p in prepared:
        store.execute(p)
    return len(rows) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S", choices=SIZES)
    parser.add_argument("--batch", type=int, default=40_000)
    args = parser.parse_args()
    accounts = SIZES[args.size]
    work = Path(tempfile.mkdtemp(prefix="linkscope-bench-"))
    try:
        t0 = time.perf_counter()
        generate(work / "data", GeneratorConfig(accounts=accounts, seed=11))
        gen_s = time.perf_counter() - t0
        store = FalkorEmbedded(work / "store", "bench")
        summary = ingest_directory(work / "data" / "input", store, batch_size=args.batch)
        trades = next(f for f in summary.files if f.name == "trades")
        server_rss = proc_mb("VmRSS", store.server_pid)
        client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = _rows(work / "data" / "input" / "trades.csv", args.batch)
        nodes = dict(store.read("MATCH (a:Account) RETURN a.account_id, id(a)").rows)
        for r in rows:
            r["seller"], r["buyer"] = nodes[r["seller_id"]], nodes[r["buyer_id"]]
        floor_store = FalkorEmbedded(work / "store", "floor")
        bare = floor(floor_store, rows, args.batch, FLOOR)
        shape = floor(store, rows, args.batch, SHAPE_FLOOR)
        result = {
            "size": args.size,
            "accounts": accounts,
            "generate_s": round(gen_s, 1),
            "ingest_total_s": round(summary.seconds, 1),
            "per_file_rows_per_s": {
                f.name: round(f.rows_per_second) for f in summary.files if f.path
            },
            "trades": trades.read,
            "trades_per_s": round(trades.rows_per_second),
            "floor_bare_create_per_s": round(bare),
            "ratio_to_bare_floor": round(trades.rows_per_second / bare, 3),
            "floor_same_shape_per_s": round(shape),
            "ratio_to_shape_floor": round(trades.rows_per_second / shape, 3),
            "ingest_client_peak_rss_mb": round(client_rss),
            "store_server_rss_mb": round(server_rss),
            "date": time.strftime("%Y-%m-%d"),
        }
        store.close()
        floor_store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    out = Path(__file__).parent / "results" / f"ingest-{args.size}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
