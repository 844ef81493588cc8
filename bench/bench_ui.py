"""Cluster-view rendering at size: a 2,000-node group page in headless Chromium.

    python bench/bench_ui.py [--nodes 2000]

Builds a synthetic group of N nodes (3/4 accounts in trading rings and chains, 1/4 shared
identifiers) with the same builder and page as the API's cluster views, loads it in Debian's
Chromium and reports the time to a stabilised, physics-stopped layout (goal: < 5 s at 2,000
nodes) with the in-page layout time, and the page size. Writes bench/results/ui.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import cluster
from testing.browser import chromium


def synthetic(n: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    accounts = [f"U{i:07d}" for i in range(n * 3 // 4)]
    nodes = [
        cluster.account_node(a, rng.choice(["violation", "flagged", "account"]), a)
        for a in accounts
    ]
    edges: list[dict[str, Any]] = []
    for i, a in enumerate(accounts):  # rings of five, chained
        b = accounts[(i + 1) if (i + 1) % 5 else i - 4]
        edges.append({"from": f"Account:{a}", "to": f"Account:{b}", "arrows": "to", "width": 2})
        if i % 5 == 0 and i + 5 < len(accounts):
            edges.append(
                {"from": f"Account:{a}", "to": f"Account:{accounts[i + 5]}", "arrows": "to"}
            )
    for j in range(n - len(accounts)):
        kind = rng.choice(["IP", "Device", "FundingSource"])
        node = cluster.identifier_node(kind, f"{kind.lower()}-{j}", 3, 1.0, "synthetic")
        nodes.append(node)
        for a in rng.sample(accounts, 3):
            edges.append({"from": f"Account:{a}", "to": node["id"], "dashes": True})
    return nodes, edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2_000)
    args = parser.parse_args()
    nodes, edges = synthetic(args.nodes)
    html = cluster.render(cluster.build(nodes, edges), "benchmark")
    page_file = Path(tempfile.mkdtemp()) / "cluster.html"
    page_file.write_text(html, encoding="utf-8")
    runs = []
    with chromium() as browser:
        for _ in range(3):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.perf_counter()
            page.goto(page_file.as_uri())
            page.wait_for_function(
                "document.body.dataset.stabilized !== undefined", timeout=120_000
            )
            wall = time.perf_counter() - started
            runs.append(
                {
                    "wall_s": round(wall, 2),
                    "layout_ms": int(page.evaluate("Number(document.body.dataset.stabilized)")),
                }
            )
            page.close()
    best = min(r["wall_s"] for r in runs)
    result = {
        "nodes": len(nodes),
        "edges": len(edges),
        "page_mb": round(len(html) / 1e6, 2),
        "runs": runs,
        "best_wall_s": best,
        "goal_s": 5.0,
        "ratio_to_goal": round(best / 5.0, 3),
    }
    print(json.dumps(result, indent=2))
    (Path(__file__).parent / "results" / "ui.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
