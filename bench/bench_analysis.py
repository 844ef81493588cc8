"""Analysis time and memory at a given size, with the quality figures of the same run.

    python bench/bench_analysis.py --size M                  # generate, ingest, analyse
    python bench/bench_analysis.py --store embedded:DIR --truth DATA/truth   # reuse a store

Prints each step's seconds, the share of the time spent reading projections from the store
(the floor no analysis can go below: the data must come out of the graph), peak memory of this
process and of the store server, and the evaluation against the generator's labels.
Writes bench/results/analysis-SIZE.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from procmem import proc_mb

from analytics.config import AnalysisConfig
from analytics.evaluate import evaluate, read_export, read_labels
from analytics.export import export
from analytics.run import analyze
from analytics.writeback import previous_groups, write_analysis
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate

SIZES = {"XS": 2_000, "S": 10_000, "M": 100_000, "L": 1_000_000}
BUDGET_S = {"M": 120.0}  # the detection issue's goal: 100k accounts within 2 minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("--store", help="embedded:DIR of an ingested store to reuse")
    parser.add_argument("--truth", type=Path, help="labels folder for the reused store")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix=f"bench-analysis-{args.size}-"))
    if args.store:
        path, truth = Path(args.store.removeprefix("embedded:")), args.truth
    else:
        generate(work / "data", GeneratorConfig(accounts=SIZES[args.size], seed=11))
        path, truth = work / "store", work / "data" / "truth"
        with FalkorEmbedded(path, "linkscope") as store:
            ingest_directory(work / "data" / "input", store)
    cfg = AnalysisConfig()
    steps: dict[str, float] = {}
    with FalkorEmbedded(path, "linkscope") as store:
        started = time.perf_counter()
        analysis = analyze(store, cfg, previous_groups(store), lambda s, t: steps.__setitem__(s, t))
        t0 = time.perf_counter()
        write_analysis(store, analysis, cfg)
        steps["write results"] = time.perf_counter() - t0
        total = time.perf_counter() - started
        export(store, work / "export")
        server_mb = proc_mb("VmHWM", store.server_pid)
    reading = sum(v for k, v in steps.items() if k.startswith("read"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict[str, Any] = {
        "size": args.size,
        "accounts": analysis.counts["accounts"],
        "trades": analysis.counts["trades"],
        "steps_s": {k: round(v, 2) for k, v in steps.items()},
        "total_s": round(total, 1),
        "reading_share": round(reading / total, 3),
        "compute_and_write_s": round(total - reading, 1),
        "peak_rss_mb": round(peak_mb),
        "store_server_peak_rss_mb": round(server_mb),
        "counts": analysis.counts,
    }
    if args.size in BUDGET_S and not args.store:
        result["budget_ratio"] = round(total / BUDGET_S[args.size], 3)
    if truth is not None:
        groups, flags = read_export(work / "export")
        result["evaluation"] = evaluate(read_labels(truth), groups, flags).as_dict()
    for step, seconds in steps.items():
        print(f"{step:<45} {seconds:7.2f} s")
    print(
        json.dumps(
            {k: v for k, v in result.items() if k not in ("steps_s", "evaluation")}, indent=2
        )
    )
    out = Path(__file__).parent / "results" / f"analysis-{args.size}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
