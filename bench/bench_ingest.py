"""Ingest throughput of fills and orders against the disk floor, measured in the same run.

    python bench/bench_ingest.py --size M     # 100k accounts

The floor is pyarrow streaming the same CSV into one Parquet file with no validation at all
(``open_csv`` + ``ParquetWriter``, 16 MiB blocks): what reading and writing the bytes costs.
linkscope's ingest of the same file (column-wise validation, quarantine, staging, keyed
commit into day files, graph aggregates) is reported as rows/s and as a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from procmem import proc_mb

from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate

SIZES = {"XS": 2_000, "S": 10_000, "M": 100_000, "L": 1_000_000}


def parquet_floor(csv_path: Path, work: Path) -> float:
    """Rows per second of pyarrow streaming ``csv_path`` into Parquet, nothing else."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    target = work / f"floor-{csv_path.stem}.parquet"
    started = time.perf_counter()
    reader = pcsv.open_csv(csv_path, read_options=pcsv.ReadOptions(block_size=16 << 20))
    rows = 0
    with pq.ParquetWriter(target, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    seconds = time.perf_counter() - started
    target.unlink()
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S", choices=SIZES)
    args = parser.parse_args()
    accounts = SIZES[args.size]
    work = Path(tempfile.mkdtemp(prefix="linkscope-bench-"))
    try:
        t0 = time.perf_counter()
        generate(work / "data", GeneratorConfig(accounts=accounts, seed=11))
        gen_s = time.perf_counter() - t0
        store = FalkorEmbedded(work / "store", "bench")
        summary = ingest_directory(work / "data" / "input", store)
        rates = {f.name: f.rows_per_second for f in summary.files if f.path}
        floors = {
            name: parquet_floor(work / "data" / "input" / f"{name}.csv", work)
            for name in ("trades", "orders")
        }
        result = {
            "size": args.size,
            "accounts": accounts,
            "generate_s": round(gen_s, 1),
            "ingest_total_s": round(summary.seconds, 1),
            "per_file_rows_per_s": {k: round(v) for k, v in rates.items()},
            "fills": next(f.read for f in summary.files if f.name == "trades"),
            "orders": next(f.read for f in summary.files if f.name == "orders"),
            "floor_csv_to_parquet_rows_per_s": {k: round(v) for k, v in floors.items()},
            "ratio_to_floor": {k: round(rates[k] / v, 3) for k, v in floors.items()},
            "ingest_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "store_server_rss_mb": round(proc_mb("VmRSS", store.server_pid)),
            "date": time.strftime("%Y-%m-%d"),
        }
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for key, value in result.items():
        print(f"{key:>32}: {value}")
    out = Path(__file__).parent / "results" / f"ingest-{args.size}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
