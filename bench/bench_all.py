"""`make bench`: the whole pipeline per size, with floors measured in the same run, and the
scaling between sizes. One table on stdout, JSON in bench/results/bench.json.

    python bench/bench_all.py --sizes S,M        # the default; L (1M accounts) when asked

Per size: generate; ingest (rows/s per file); the store's write floor (a bare UNWIND CREATE of
the same fills into the same server) and the I/O + aggregation floor (pyarrow reads and groups
the same trades file); analysis per stage with peak memory after each stage; Leiden alone on
the same projection (the algorithm floor) and python-louvain on it; export; store size on disk.
Between sizes: fitted exponent t ~ n^k per stage (n = fills).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import FLOOR, _rows, floor
from procmem import proc_mb, reset_peak

from analytics.communities import detect_groups
from analytics.config import AnalysisConfig
from analytics.export import export
from analytics.run import analyze
from analytics.writeback import previous_groups, write_analysis
from graph.falkor_embedded import AOF_MANIFEST, FalkorEmbedded
from ingest.pipeline import ingest_directory
from linkscope.synth import GeneratorConfig, generate

SIZES = {"XS": 2_000, "S": 10_000, "M": 100_000, "L": 1_000_000}
TARGETS = {"trades_per_s": 50_000, "ratio_to_write_floor": 0.5, "analysis_s_at_M": 120.0}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def aggregation_floor(trades_csv: Path) -> float:
    """pyarrow: read the trades file and total it per (seller, buyer, symbol)."""
    import pyarrow.csv as pcsv

    started = time.perf_counter()
    table = pcsv.read_csv(trades_csv)
    table.group_by(["seller_id", "buyer_id", "symbol"]).aggregate(
        [("qty", "sum"), ("qty", "count")]
    )
    return time.perf_counter() - started


def analysis_child(store_path: str, accounts: int) -> dict[str, Any]:
    """Analysis + write-back + Leiden/Louvain floors, in a fresh process."""
    cfg = AnalysisConfig()
    stages: dict[str, float] = {}
    memory: dict[str, float] = {}
    store = FalkorEmbedded(Path(store_path), "linkscope")
    out: dict[str, Any] = {"analysis_baseline_rss_mb": round(proc_mb("VmRSS"))}
    reset_peak()

    def report(step: str, seconds: float) -> None:
        stages[step] = round(seconds, 2)
        memory[step] = round(proc_mb("VmHWM"))
        reset_peak()

    started = time.perf_counter()
    analysis = analyze(store, cfg, previous_groups(store), report)
    t0 = time.perf_counter()
    write_analysis(store, analysis, cfg)
    stages["write results"] = round(time.perf_counter() - t0, 2)
    memory["write results"] = round(proc_mb("VmHWM"))
    out["analysis_s"] = round(time.perf_counter() - started, 1)
    out["analysis_stages_s"] = stages
    out["analysis_peak_rss_mb_per_stage"] = memory
    out["analysis_peak_rss_mb"] = max(memory.values())
    # The algorithm floor: Leiden alone on the same projection; python-louvain for comparison.
    t0 = time.perf_counter()
    detect_groups(accounts, analysis.edges, resolution=cfg.assessment.resolution, seed=1)
    leiden = time.perf_counter() - t0
    import networkx as nx
    from community import community_louvain

    graph = nx.Graph()
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in analysis.edges.items())
    t0 = time.perf_counter()
    community_louvain.best_partition(graph, weight="weight", random_state=1)
    louvain = time.perf_counter() - t0
    out["projection_edges"] = len(analysis.edges)
    out["leiden_alone_s"] = round(leiden, 4)
    out["python_louvain_s"] = round(louvain, 4)
    out["louvain_over_leiden"] = round(louvain / max(leiden, 1e-6), 1)
    out["groups"] = analysis.counts["groups"]
    store.close()
    return out


def run_size(size: str, work: Path) -> dict[str, Any]:
    accounts = SIZES[size]
    out: dict[str, Any] = {"size": size, "accounts": accounts}
    started = time.perf_counter()
    counts = generate(work / "data", GeneratorConfig(accounts=accounts, seed=11))
    out["generate_s"] = round(time.perf_counter() - started, 1)
    out["fills"] = counts["trades"]
    store = FalkorEmbedded(work / "store", "linkscope")
    summary = ingest_directory(work / "data" / "input", store)
    store.checkpoint()
    out["ingest_s"] = round(summary.seconds, 1)
    out["ingest_rows_per_s"] = {f.name: round(f.rows_per_second) for f in summary.files if f.path}
    trades_file = next(f for f in summary.files if f.name == "trades")
    out["trades_per_s"] = round(trades_file.rows_per_second)
    # After the checkpoint the store's state on disk is its compacted append-only file.
    aof = (work / "store" / AOF_MANIFEST).parent
    out["store_on_disk_mb"] = round(sum(p.stat().st_size for p in aof.iterdir()) / 2**20, 1)
    out["store_rss_after_ingest_mb"] = round(proc_mb("VmRSS", store.server_pid))

    # The store's write floor: a bare UNWIND CREATE of the same fills, into the same server.
    rows = _rows(work / "data" / "input" / "trades.csv", 40_000)
    nodes = dict(store.read("MATCH (a:Account) RETURN a.account_id, id(a)").rows)
    for r in rows:
        r["seller"], r["buyer"] = nodes[r["seller_id"]], nodes[r["buyer_id"]]
    floor_store = FalkorEmbedded(work / "store", "floor")
    bare = floor(floor_store, rows, 40_000, FLOOR)
    floor_store._graph.delete()
    floor_store.close()
    del rows
    out["write_floor_rows_per_s"] = round(bare)
    out["ratio_to_write_floor"] = round(out["trades_per_s"] / bare, 3)
    agg = aggregation_floor(work / "data" / "input" / "trades.csv")
    out["aggregation_floor_s"] = round(agg, 2)

    # The analysis runs in a fresh process, so its memory figures are its own (not the
    # ingest's or the floors'), measured per stage from the kernel's peak-RSS mark, reset
    # between stages.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        child = pool.apply(analysis_child, (str(work / "store"), accounts))
    out.update(child)
    stages = child["analysis_stages_s"]
    reading = sum(v for k, v in stages.items() if k.startswith("read"))
    out["analysis_reading_share"] = round(reading / out["analysis_s"], 3)
    out["reading_fills_over_aggregation_floor"] = round(stages["read accounts and trades"] / agg, 2)
    out["store_rss_after_analysis_mb"] = round(proc_mb("VmRSS", store.server_pid))

    t0 = time.perf_counter()
    export(store, work / "export")
    out["export_s"] = round(time.perf_counter() - t0, 2)
    store.close()
    return out


def scaling(results: list[dict[str, Any]]) -> dict[str, float]:
    """Exponent k in t ~ n^k between the smallest and the largest size run (n = fills)."""
    small, large = results[0], results[-1]
    ratio = math.log(large["fills"] / small["fills"])
    keys = {"ingest_s": "ingest", "analysis_s": "analysis", "generate_s": "generate"}
    out = {
        name: round(math.log(large[k] / small[k]) / ratio, 2)
        for k, name in keys.items()
        if small[k] > 0
    }
    for stage, seconds in large["analysis_stages_s"].items():
        base = small["analysis_stages_s"].get(stage, 0)
        if base >= 0.05 and seconds > 0:
            out[f"analysis: {stage}"] = round(math.log(seconds / base) / ratio, 2)
    peak_small = small["analysis_peak_rss_mb"]
    peak_large = large["analysis_peak_rss_mb"]
    out["analysis peak memory"] = round(math.log(peak_large / peak_small) / ratio, 2)
    return out


def print_table(results: list[dict[str, Any]], exponents: dict[str, float]) -> None:
    rows = [
        ("accounts", "accounts"), ("fills", "fills"), ("generate s", "generate_s"),
        ("ingest s (all files)", "ingest_s"), ("trades/s", "trades_per_s"),
        ("write floor rows/s", "write_floor_rows_per_s"), ("ratio to write floor", "ratio_to_write_floor"),
        ("aggregation floor s (pyarrow)", "aggregation_floor_s"), ("analysis s", "analysis_s"),
        ("analysis reading share", "analysis_reading_share"),
        ("fill read / aggregation floor", "reading_fills_over_aggregation_floor"),
        ("Leiden alone s", "leiden_alone_s"), ("python-louvain s", "python_louvain_s"),
        ("louvain / leiden", "louvain_over_leiden"), ("export s", "export_s"),
        ("analysis peak RSS MB (own process)", "analysis_peak_rss_mb"),
        ("store on disk MB", "store_on_disk_mb"), ("store RSS after analysis MB", "store_rss_after_analysis_mb"),
    ]  # fmt: skip
    names = [r["size"] for r in results]
    width = 46
    print(f"{'figure':<{width}}" + "".join(f"{n:>14}" for n in names))
    for label, key in rows:
        print(f"{label:<{width}}" + "".join(f"{r[key]:>14}" for r in results))
    for title, field in (("s", "analysis_stages_s"), ("peak MB", "analysis_peak_rss_mb_per_stage")):
        for stage in results[-1][field]:
            cells = "".join(f"{r[field].get(stage, ''):>14}" for r in results)
            print(f"{f'  {title}: {stage}'[:width]:<{width}}{cells}")
    for name, k in exponents.items():
        print(f"{f'exponent {name}'[: width + 6]:<{width + 6}}{k:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M", help="Comma-separated: XS, S, M, L.")
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    results = []
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"linkscope-bench-{size}-"))
        try:
            results.append(run_size(size, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    exponents = scaling(results) if len(results) > 1 else {}
    print_table(results, exponents)
    document = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": "2 cores, 24 GB",
        "targets": TARGETS,
        "results": results,
        "scaling_exponents": exponents,
    }
    out = Path(__file__).parent / "results" / f"bench-{'-'.join(sizes)}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
