"""Keeps the ingest benchmark from rotting: a tiny run must finish and print its ratios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_ingest_benchmark_runs_at_tiny_size() -> None:
    _bench("bench_ingest.py", "--size", "XS")
    result = json.loads((ROOT / "bench" / "results" / "ingest-XS.json").read_text())
    assert result["fills"] > 40_000
    for name in ("trades", "orders"):
        assert result["floor_csv_to_parquet_rows_per_s"][name] > 0
        assert 0 < result["ratio_to_floor"][name] < 2


@pytest.mark.slow
def test_analysis_benchmark_runs_at_tiny_size() -> None:
    _bench("bench_analysis.py", "--size", "XS")
    result = json.loads((ROOT / "bench" / "results" / "analysis-XS.json").read_text())
    assert result["accounts"] == 2_000 and result["trades"] > 40_000
    assert 0 < result["reading_share"] < 1
    assert result["evaluation"]["group_recall"]["all"]["rate"] >= 0.95


@pytest.mark.slow
def test_make_bench_runs_at_tiny_size(tmp_path: Path) -> None:
    done = _bench("bench_all.py", "--sizes", "XS")
    result = json.loads((ROOT / "bench" / "results" / "bench-XS.json").read_text())["results"][0]
    assert result["fills"] > 40_000 and result["groups"] > 0
    assert 0 < result["ratio_to_disk_floor"]["trades"] < 2
    assert result["graph_bytes_per_fill"] > 0 and result["fill_read_over_floor"] > 0
    assert result["sum_of_peak_rss_mb"] > 0
    assert set(result["analysis_stages_s"]) >= {
        "communities",
        "wash trading cycles",
        "write results",
    }
    assert all(mb > 0 for mb in result["analysis_peak_rss_mb_per_stage"].values())
    assert "ratio to disk floor: fills" in done.stdout
    hit, of = map(int, result["detection"]["group_recall"]["all"].split("/"))
    assert of > 0 and hit / of >= 0.9  # quality measured on the same run as the speed
