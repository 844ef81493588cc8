"""Groups: Leiden community detection (igraph's C core) on the combined weighted account graph.

The Constant Potts Model keeps groups tight: a set of accounts is a group only where its mean
link weight exceeds the resolution, so weak links (a busy IP) do not chain accounts into a
giant component. Vertices and edges are built in account order and the RNG is seeded, so the
same data gives the same groups whatever the input order.
"""

from __future__ import annotations

import random

import igraph as ig
import numpy as np

from analytics.linkage import combine


def combined_edges(*layers: dict[tuple[int, int], float]) -> dict[tuple[int, int], float]:
    """Edge weight per pair (a < b) across evidence layers, as a noisy-or."""
    parts: dict[tuple[int, int], list[float]] = {}
    for layer in layers:
        for pair, weight in layer.items():
            if weight > 0:
                parts.setdefault(pair, []).append(weight)
    return {pair: combine(ws) for pair, ws in sorted(parts.items())}


def detect_groups(
    n_accounts: int, edges: dict[tuple[int, int], float], *, resolution: float, seed: int
) -> list[list[int]]:
    """Groups of two or more accounts, each sorted, ordered by their first member."""
    if not edges:
        return []
    pairs = sorted(edges)
    used = np.unique(np.asarray(pairs, dtype=np.int64).ravel())
    index = {int(a): i for i, a in enumerate(used.tolist())}
    graph = ig.Graph(n=len(used), edges=[(index[a], index[b]) for a, b in pairs])
    graph.es["weight"] = [edges[p] for p in pairs]
    state = random.getstate()
    random.seed(seed)  # python-igraph draws from Python's RNG
    try:
        partition = graph.community_leiden(
            objective_function="CPM", weights="weight", resolution=resolution, n_iterations=-1
        )
    finally:
        random.setstate(state)
    groups: dict[int, list[int]] = {}
    for vertex, community in enumerate(partition.membership):
        groups.setdefault(community, []).append(int(used[vertex]))
    out = [sorted(g) for g in groups.values() if len(g) >= 2]
    return sorted(out)
