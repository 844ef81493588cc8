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
    done = _bench("bench_ingest.py", "--size", "XS", "--batch", "5000")
    pairs = (line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    figures = {key.strip(): value.strip() for key, value in pairs}
    assert int(figures["trades"].strip()) > 40_000
    for ratio in ("ratio_to_bare_floor", "ratio_to_shape_floor"):
        assert 0 < float(figures[ratio].strip()) < 2


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
    assert 0 < result["ratio_to_write_floor"] < 2
    assert set(result["analysis_stages_s"]) >= {
        "communities",
        "wash trading cycles",
        "write results",
    }
    assert all(mb > 0 for mb in result["analysis_peak_rss_mb_per_stage"].values())
    assert "ratio to write floor" in done.stdout
