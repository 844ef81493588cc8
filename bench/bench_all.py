"""`make bench`: the whole pipeline per size, with floors measured in the same run, and the
scaling between sizes. One table on stdout, JSON in bench/results/bench-<sizes>.json.

    python bench/bench_all.py --sizes S,M        # the default; L (1M accounts) when asked

Per size: generate (not counted); ingest in its own process (rows/s per file, peak RSS); the
disk floor (pyarrow streams the same trades and orders CSV into Parquet with no validation);
the graph store's memory per fill (server RSS after ingest over the empty server's);
analysis in its own process, per stage with peak memory after each stage; the fill-read floor
(pyarrow reads the same columns of the same day files); Leiden alone on the same projection
(the algorithm floor) and python-louvain on it; export; the store server's peak RSS.
Between sizes: fitted exponent t ~ n^k per stage (n = fills).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from bench_ingest import parquet_floor
from procmem import proc_mb, reset_peak

from analytics.communities import detect_groups
from analytics.config import AnalysisConfig
from analytics.evaluate import evaluate, read_export, read_labels
from analytics.export import export
from analytics.run import analyze
from analytics.writeback import previous_groups, write_analysis
from graph.falkor_embedded import AOF_MANIFEST, FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate

SIZES = {"XS": 2_000, "S": 10_000, "M": 100_000, "L": 1_000_000}
TARGETS = {
    "ingest_rows_per_s (fills, orders)": 200_000,
    "ratio_to_disk_floor": 0.5,
    "graph_bytes_per_fill": 150,
    "analysis_s_at_M": 20.0,
    "fill_read_over_floor": 2.0,
    "L_ingest_plus_analysis_s": 900,
    "L_sum_of_peak_rss_mb": 12_288,
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill_read_floor(events_root: Path) -> float:
    """pyarrow reads the columns the analysis reads from the same day files."""
    import pyarrow.parquet as pq

    files = sorted((events_root / "trades").glob("day=*/part.parquet"))
    started = time.perf_counter()
    pq.read_table(
        files,
        columns=["trade_id", "ts", "seller_id", "buyer_id", "symbol", "market", "qty", "price"],
    )
    return time.perf_counter() - started


def coded_read_floor(events_root: Path) -> float | None:
    """pyarrow reads what the analysis now reads: the same columns with the two account
    columns as the int32 codes beside the day files (``events.account_codes``)."""
    import pyarrow.parquet as pq

    files = sorted((events_root / "trades").glob("day=*/part.parquet"))
    codes = [events_root / "_codes" / "trades" / f"{f.parent.name}.parquet" for f in files]
    if not all(c.is_file() for c in codes):
        return None
    started = time.perf_counter()
    pq.read_table(files, columns=["trade_id", "ts", "symbol", "market", "qty", "price"])
    pq.read_table(codes, columns=["seller_id", "buyer_id"])
    return time.perf_counter() - started


def fill_read_alone(store: FalkorEmbedded) -> float:
    """The analysis's fill read with nothing beside it (in the analysis, the graph's reads run
    beside it on the other core): the figure to set against the floor."""
    from analytics.projection import read_accounts, read_trades
    from events.location import events_for

    accounts = read_accounts(store)
    started = time.perf_counter()
    read_trades(events_for(store), accounts)
    return time.perf_counter() - started


def generate_child(out: str, accounts: int) -> dict[str, Any]:
    counts = generate(Path(out), GeneratorConfig(accounts=accounts, seed=11))
    return dict(counts)


def ingest_child(store_path: str, data: str) -> dict[str, Any]:
    """The ingest in a fresh process, so its peak memory is its own."""
    store = FalkorEmbedded(Path(store_path), "linkscope")
    summary = ingest_directory(Path(data), store)
    store.checkpoint()
    store.close()
    return {
        "ingest_s": round(summary.seconds, 1),
        "ingest_rows_per_s": {f.name: round(f.rows_per_second) for f in summary.files if f.path},
        "rows": {f.name: f.read for f in summary.files if f.path},
        "ingest_peak_rss_mb": round(_peak_mb()),
    }


def analysis_child(store_path: str, accounts: int, louvain: bool = True) -> dict[str, Any]:
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
    _say(f"analysis {out['analysis_s']} s, peak {out['analysis_peak_rss_mb']} MB: {stages}")
    # The algorithm floor: Leiden alone on the same projection; python-louvain for comparison.
    t0 = time.perf_counter()
    detect_groups(accounts, analysis.edges, resolution=cfg.assessment.resolution, seed=1)
    leiden = time.perf_counter() - t0
    out["projection_edges"] = len(analysis.edges)
    out["leiden_alone_s"] = round(leiden, 4)
    out["groups"] = analysis.counts["groups"]
    if not louvain:
        store.close()
        return out
    import networkx as nx
    from community import community_louvain

    graph = nx.Graph()
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in analysis.edges.items())
    t0 = time.perf_counter()
    community_louvain.best_partition(graph, weight="weight", random_state=1)
    louvain = time.perf_counter() - t0
    out["python_louvain_s"] = round(louvain, 4)
    out["louvain_over_leiden"] = round(louvain / max(leiden, 1e-6), 1)
    store.close()
    return out


def _say(text: str) -> None:
    """Progress of a long run, as each phase ends (L takes tens of minutes)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run_size(
    size: str, work: Path, data: Path | None = None, louvain: bool = True
) -> dict[str, Any]:
    accounts = SIZES[size]
    out: dict[str, Any] = {"size": size, "accounts": accounts}
    ctx = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    counts: dict[str, int] | None = None
    if data is None:
        with ctx.Pool(1) as pool:
            counts = pool.apply(generate_child, (str(work / "data"), accounts))
        # The generator's gigabytes go to disk now, not while the ingest is timed: the floors,
        # measured after the ingest, see a disk with nothing left to write back.
        os.sync()
    else:
        (work / "data").symlink_to(data.resolve(), target_is_directory=True)
    out["generate_s"] = round(time.perf_counter() - started, 1)
    # This process holds the store, so the server outlives the ingest and analysis processes
    # and its memory can be read before and after.
    store = FalkorEmbedded(work / "store", "linkscope")
    empty_rss = proc_mb("VmRSS", store.server_pid)
    with ctx.Pool(1) as pool:
        out.update(pool.apply(ingest_child, (str(work / "store"), str(work / "data" / "input"))))
    # Data generated before is counted by the ingest that reads it anyway (rows read per file).
    _say(f"{size}: ingest {out['ingest_s']} s, rows/s {out['ingest_rows_per_s']}")
    counts = counts or out["rows"]
    out["fills"] = counts["trades"]
    out["orders"] = counts.get("orders", 0)
    rates = out["ingest_rows_per_s"]
    out["trades_per_s"] = rates["trades"]
    out["orders_per_s"] = rates.get("orders", 0)
    floors = {
        name: parquet_floor(work / "data" / "input" / f"{name}.csv", work)
        for name in ("trades", "orders")
    }
    out["disk_floor_rows_per_s"] = {k: round(v) for k, v in floors.items()}
    out["ratio_to_disk_floor"] = {k: round(rates[k] / v, 3) for k, v in floors.items()}
    _say(f"{size}: disk floor {out['disk_floor_rows_per_s']}, ratio {out['ratio_to_disk_floor']}")
    server_rss = proc_mb("VmRSS", store.server_pid)
    out["store_rss_after_ingest_mb"] = round(server_rss)
    out["graph_bytes_per_fill"] = round((server_rss - empty_rss) * 2**20 / max(out["fills"], 1))
    # After the ingest's checkpoint the store's state on disk is its compacted append-only file.
    aof = (work / "store" / AOF_MANIFEST).parent
    out["store_on_disk_mb"] = round(sum(p.stat().st_size for p in aof.iterdir()) / 2**20, 1)
    events = store.events_dir
    out["events_on_disk_mb"] = round(
        sum(f.stat().st_size for f in events.rglob("*.parquet")) / 2**20, 1
    )

    # The analysis runs in a fresh process, so its memory figures are its own, measured per
    # stage from the kernel's peak-RSS mark, reset between stages.
    with ctx.Pool(1) as pool:
        child = pool.apply(analysis_child, (str(work / "store"), accounts, louvain))
    out.update(child)
    stages = child["analysis_stages_s"]
    reading = sum(v for k, v in stages.items() if k.startswith("read"))
    out["analysis_reading_share"] = round(reading / out["analysis_s"], 3)
    # Best of three for both the floor and the read alone: the same treatment, less noise.
    floor = min(fill_read_floor(events) for _ in range(3))
    alone = min(fill_read_alone(store) for _ in range(3))
    out["fill_read_floor_s"] = round(floor, 2)
    out["fill_read_alone_s"] = round(alone, 2)
    out["fill_read_over_floor"] = round(alone / floor, 2)
    out["fill_read_in_analysis_over_floor"] = round(stages["read fills (event store)"] / floor, 2)
    coded = [coded_read_floor(events) for _ in range(3)]
    if all(c is not None for c in coded):
        coded_floor = min(c for c in coded if c is not None)
        out["fill_read_coded_floor_s"] = round(coded_floor, 2)
        out["fill_read_over_coded_floor"] = round(alone / coded_floor, 2)
    out["store_rss_after_analysis_mb"] = round(proc_mb("VmRSS", store.server_pid))
    out["store_peak_rss_mb"] = round(proc_mb("VmHWM", store.server_pid))
    out["sum_of_peak_rss_mb"] = (
        out["ingest_peak_rss_mb"] + out["analysis_peak_rss_mb"] + out["store_peak_rss_mb"]
    )
    out["ingest_plus_analysis_s"] = round(out["ingest_s"] + out["analysis_s"], 1)

    t0 = time.perf_counter()
    export(store, work / "export")
    out["export_s"] = round(time.perf_counter() - t0, 2)
    store.close()
    # Detection quality on the same run, against the generator's truth.
    groups, flags = read_export(work / "export")
    quality = evaluate(read_labels(work / "data" / "truth"), groups, flags).as_dict()
    quality.pop("misses")
    out["detection"] = {
        section: {key: f"{v['hit']}/{v['of']}" for key, v in table.items() if "/" not in key}
        for section, table in quality.items()
    }
    return out


def scaling(results: list[dict[str, Any]]) -> dict[str, float]:
    """Exponent k in t ~ n^k (n = fills) between each size and the next one run."""
    out: dict[str, float] = {}
    keys = {"ingest_s": "ingest", "analysis_s": "analysis"}
    for small, large in itertools.pairwise(results):
        step = f"{small['size']}->{large['size']}"
        ratio = math.log(large["fills"] / small["fills"])
        for k, name in keys.items():
            if small[k] > 0:
                out[f"{step} {name}"] = round(math.log(large[k] / small[k]) / ratio, 2)
        for stage, seconds in large["analysis_stages_s"].items():
            base = small["analysis_stages_s"].get(stage, 0)
            if base >= 0.05 and seconds > 0:
                out[f"{step} analysis: {stage}"] = round(math.log(seconds / base) / ratio, 2)
        peak_small = small["analysis_peak_rss_mb"]
        peak_large = large["analysis_peak_rss_mb"]
        out[f"{step} analysis peak memory"] = round(math.log(peak_large / peak_small) / ratio, 2)
    return out


def print_table(results: list[dict[str, Any]], exponents: dict[str, float]) -> None:
    for r in results:
        for key in ("disk_floor_rows_per_s", "ratio_to_disk_floor"):
            for name, value in r[key].items():
                r[f"{key}:{name}"] = value
    rows = [
        ("accounts", "accounts"), ("fills", "fills"), ("orders", "orders"),
        ("generate s (not counted)", "generate_s"),
        ("ingest s (all files, own process)", "ingest_s"), ("fills/s", "trades_per_s"),
        ("orders/s", "orders_per_s"),
        ("disk floor fills/s (pyarrow CSV->Parquet)", "disk_floor_rows_per_s:trades"),
        ("disk floor orders/s", "disk_floor_rows_per_s:orders"),
        ("ratio to disk floor: fills", "ratio_to_disk_floor:trades"),
        ("ratio to disk floor: orders", "ratio_to_disk_floor:orders"),
        ("graph store bytes per fill", "graph_bytes_per_fill"),
        ("analysis s", "analysis_s"), ("ingest + analysis s", "ingest_plus_analysis_s"),
        ("analysis reading share", "analysis_reading_share"),
        ("fill read floor s (pyarrow)", "fill_read_floor_s"),
        ("fill read alone s", "fill_read_alone_s"),
        ("fill read alone / floor", "fill_read_over_floor"),
        ("fill read in analysis (graph read beside) / floor", "fill_read_in_analysis_over_floor"),
        ("floor with account codes s", "fill_read_coded_floor_s"),
        ("fill read alone / floor with codes", "fill_read_over_coded_floor"),
        ("Leiden alone s", "leiden_alone_s"), ("python-louvain s", "python_louvain_s"),
        ("louvain / leiden", "louvain_over_leiden"), ("export s", "export_s"),
        ("ingest peak RSS MB (own process)", "ingest_peak_rss_mb"),
        ("analysis peak RSS MB (own process)", "analysis_peak_rss_mb"),
        ("store server peak RSS MB", "store_peak_rss_mb"),
        ("sum of peak RSS MB", "sum_of_peak_rss_mb"),
        ("store on disk MB", "store_on_disk_mb"), ("events on disk MB", "events_on_disk_mb"),
        ("store RSS after analysis MB", "store_rss_after_analysis_mb"),
    ]  # fmt: skip
    names = [r["size"] for r in results]
    width = 46
    print(f"{'figure':<{width}}" + "".join(f"{n:>14}" for n in names))
    for label, key in rows:
        print(f"{label:<{width}}" + "".join(f"{r.get(key, ''):>14}" for r in results))
    for title, field in (("s", "analysis_stages_s"), ("peak MB", "analysis_peak_rss_mb_per_stage")):
        for stage in results[-1][field]:
            cells = "".join(f"{r[field].get(stage, ''):>14}" for r in results)
            print(f"{f'  {title}: {stage}'[:width]:<{width}}{cells}")
    for section in results[-1].get("detection", {}):
        for key in results[-1]["detection"][section]:
            cells = "".join(f"{r['detection'][section].get(key, ''):>14}" for r in results)
            print(f"{f'  {section}: {key}'[:width]:<{width}}{cells}")
    for name, k in exponents.items():
        print(f"{f'exponent {name}'[: width + 6]:<{width + 6}}{k:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M", help="Comma-separated: XS, S, M, L.")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="SIZE=DIR",
        help="Use data generated before (`linkscope generate DIR --accounts N --seed 11`) for "
        "a size instead of generating it (L's 31 GB take ~10 minutes to write).",
    )
    parser.add_argument(
        "--no-louvain",
        action="store_true",
        help="Skip python-louvain (a comparison, not a floor; minutes at L).",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep each size's store and event store (printed) for later runs, e.g. Spark's.",
    )
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    given = {k.strip().upper(): Path(v) for k, v in (d.split("=", 1) for d in args.data)}
    results = []
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"linkscope-bench-{size}-"))
        try:
            results.append(run_size(size, work, given.get(size), not args.no_louvain))
        finally:
            if args.keep:
                _say(f"{size}: store kept in {work / 'store'}")
            else:
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
