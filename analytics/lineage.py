"""Stable group ids across runs, and the lineage of each group (new, continued, merged, split)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Lineage:
    group_id: str
    kind: str  # new | unchanged | continued | merged | split
    parents: tuple[str, ...]


def fresh_id(members: list[str]) -> str:
    """A new group's id depends only on its members, so fresh runs agree."""
    return "G-" + hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()[:10]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def assign_ids(
    groups: list[list[str]], previous: dict[str, frozenset[str]], min_jaccard: float
) -> list[Lineage]:
    """Match each new group to at most one previous group with Jaccard >= ``min_jaccard``
    (best overlaps first, one to one); the rest get fresh ids."""
    current = [frozenset(g) for g in groups]
    candidates = []
    for i, members in enumerate(current):
        for gid, old in previous.items():
            if members & old:
                candidates.append((jaccard(members, old), i, gid))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    matched: dict[int, str] = {}
    taken: set[str] = set()
    for score, i, gid in candidates:
        if score < min_jaccard or i in matched or gid in taken:
            continue
        matched[i] = gid
        taken.add(gid)
    # Where each previous group's members went: two or more new groups means it split.
    spread: dict[str, set[int]] = {}
    for i, members in enumerate(current):
        for gid, old in previous.items():
            if len(members & old) >= 2:
                spread.setdefault(gid, set()).add(i)
    out = []
    used_ids: set[str] = set(matched.values())
    for i, members in enumerate(current):
        parents = tuple(sorted(gid for gid, old in previous.items() if len(members & old) >= 2))
        if i in matched:
            gid = matched[i]
        else:
            gid = fresh_id(list(members))
            while gid in used_ids:  # an old id freed by a split must not be handed out twice
                gid = "G-" + hashlib.sha1(gid.encode()).hexdigest()[:10]
        used_ids.add(gid)
        if len(parents) >= 2:
            kind = "merged"
        elif parents and len(spread.get(parents[0], ())) >= 2:
            kind = "split"
        elif i in matched and previous[matched[i]] == members:
            kind = "unchanged"
        elif i in matched:
            kind = "continued"
        else:
            kind = "new"
        out.append(Lineage(gid, kind, parents))
    return out
