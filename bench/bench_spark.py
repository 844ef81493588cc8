"""The fill-heavy stages on Spark (local mode) beside the embedded engine, on one generated data set.

    python bench/bench_spark.py --size S                 # generate, ingest, analyse twice
    python bench/bench_spark.py --size M --store DIR     # reuse an ingested store
    python bench/bench_spark.py --size L --store DIR --spark-only   # Spark's run alone

Prints each analysis step of both engines, the Spark engine's own stages (time, rows and Arrow
bytes that come back to this process), and the shuffle each stage wrote and read, from Spark's
event log (written to a temporary folder); checks that both exports are byte-identical.
Writes bench/results/spark-SIZE.json. Not a test: it takes minutes and a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from analytics.config import AnalysisConfig
from analytics.engines.embedded import EmbeddedEngine
from analytics.engines.spark import SparkEngine, session
from analytics.export import export
from analytics.run import Analysis, analyze
from analytics.writeback import previous_groups, write_analysis
from graph.backend import GraphBackend
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate

SIZES = {"XS": 2_000, "S": 10_000, "M": 100_000, "L": 1_000_000}


def shuffle_by_stage(log_dir: Path) -> dict[str, dict[str, int]]:
    """Shuffle bytes written and read, and input bytes, per analysis stage (Spark job group)."""
    group_of_stage: dict[int, str] = {}
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path in sorted(p for p in log_dir.rglob("*") if p.is_file()):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            kind = event.get("Event")
            if kind == "SparkListenerJobStart":
                group = event.get("Properties", {}).get("spark.jobGroup.id", "other")
                for stage in event.get("Stage IDs", []):
                    group_of_stage[int(stage)] = group
            elif kind == "SparkListenerTaskEnd":
                metrics = event.get("Task Metrics") or {}
                stage = group_of_stage.get(int(event["Stage ID"]), "other")
                write = metrics.get("Shuffle Write Metrics", {})
                read = metrics.get("Shuffle Read Metrics", {})
                out[stage]["shuffle_write_bytes"] += int(write.get("Shuffle Bytes Written", 0))
                out[stage]["shuffle_write_records"] += int(write.get("Shuffle Records Written", 0))
                out[stage]["shuffle_read_bytes"] += int(read.get("Remote Bytes Read", 0)) + int(
                    read.get("Local Bytes Read", 0)
                )
                out[stage]["input_bytes"] += int(
                    metrics.get("Input Metrics", {}).get("Bytes Read", 0)
                )
    return {k: dict(v) for k, v in sorted(out.items())}


def run(store: GraphBackend, engine: Any, cfg: AnalysisConfig, out: Path) -> tuple[Analysis, dict[str, float], float]:  # fmt: skip
    steps: dict[str, float] = {}
    previous = previous_groups(store)
    started = time.perf_counter()

    def report(step: str, seconds: float) -> None:
        steps[step] = seconds
        print(f"[{time.strftime('%H:%M:%S')}] {engine.name}: {step} {seconds:.1f} s", flush=True)

    analysis = analyze(store, cfg, previous, report, engine=engine)
    seconds = time.perf_counter() - started
    write_analysis(store, analysis, cfg)
    export(store, out)
    return analysis, steps, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("--store", help="embedded:DIR of an ingested store to reuse")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument(
        "--spark-only",
        action="store_true",
        help="Skip the embedded engine's run (e.g. at L, where bench_all measures it).",
    )
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("analytics.engines.spark").setLevel(logging.INFO)
    work = Path(tempfile.mkdtemp(prefix=f"bench-spark-{args.size}-"))
    if args.store:
        path = Path(args.store.removeprefix("embedded:"))
    else:
        generate(work / "data", GeneratorConfig(accounts=SIZES[args.size], seed=11))
        path = work / "store"
        with FalkorEmbedded(path, "linkscope") as store:
            ingest_directory(work / "data" / "input", store)
    log_dir = work / "spark-events"
    log_dir.mkdir()
    cfg = AnalysisConfig()
    spark = session(
        args.master,
        shuffle_partitions=8,
        event_log_dir=str(log_dir),
        driver_memory=args.driver_memory,
    )
    engine = SparkEngine(spark)
    with FalkorEmbedded(path, "linkscope") as store:
        embedded_steps: dict[str, float] = {}
        embedded_s = 0.0
        if not args.spark_only:
            _, embedded_steps, embedded_s = run(store, EmbeddedEngine(), cfg, work / "embedded")
        on_spark, spark_steps, spark_s = run(store, engine, cfg, work / "spark")
    spark.stop()
    fills = engine.last
    assert fills is not None
    same = None
    if not args.spark_only:
        same = all(
            (work / "embedded" / name).read_bytes() == (work / "spark" / name).read_bytes()
            for name in ("groups.csv", "group_members.csv", "account_flags.csv")
        )
    result: dict[str, Any] = {
        "size": args.size,
        "master": args.master,
        "fills": on_spark.counts["trades"],
        "accounts": on_spark.counts["accounts"],
        "exports_identical": same,
        "embedded_total_s": round(embedded_s, 1),
        "spark_total_s": round(spark_s, 1),
        "embedded_steps_s": {k: round(v, 2) for k, v in embedded_steps.items()},
        "spark_steps_s": {k: round(v, 2) for k, v in spark_steps.items()},
        "spark_stages_s": {k: round(v, 2) for k, v in fills.timings.items()},
        "returned": fills.sizes,
        "cited_fills": len(on_spark.trades),
        "cited_share": round(len(on_spark.trades) / max(on_spark.counts["trades"], 1), 4),
        "shuffle": shuffle_by_stage(log_dir),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / f"spark-{args.size}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
