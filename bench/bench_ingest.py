"""Ingest throughput against the store's raw write floor, measured in the same run.

    python bench/bench_ingest.py --size M     # 100k accounts, ~2.5M trades

Prints trades/s end to end (validation + Trade nodes + buyer/seller edges + counterparty
totals + duplicate check) and the floor: a bare ``UNWIND … CREATE`` of the same trade rows
(same column-wise parameters, no edges, no index) into a fresh graph of the same store.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

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


def floor(store: FalkorEmbedded, trades: Path, batch: int) -> tuple[int, float]:
    cols = ("trade_id", "ts", "symbol", "price", "qty", "buyer_id", "seller_id")
    rows = []
    for b in iter_batches(trades, batch):
        check = Validator(TRADES, b.header)
        rows.extend(r for rec in b.records if isinstance(r := check(rec), dict))
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        params = {c: [r[c] for r in chunk] for c in cols}
        params["k"] = list(range(len(chunk)))
        store.run(FLOOR, params)
    return len(rows), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S", choices=SIZES)
    parser.add_argument("--batch", type=int, default=10_000)
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
        floor_store = FalkorEmbedded(work / "store", "floor")
        n_floor, floor_s = floor(floor_store, work / "data" / "input" / "trades.csv", args.batch)
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
            "floor_trades_per_s": round(n_floor / floor_s),
            "ratio_to_floor": round(trades.rows_per_second / (n_floor / floor_s), 3),
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
