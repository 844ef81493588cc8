"""Score an export against ground-truth labels (``linkscope evaluate``).

- group recall, per joint typology (wash_trading, coordinated_trading) and per difficulty: a
  labelled group is found when a group judged ``violation`` or ``suspected`` has Jaccard >= 0.5
  with it;
- group precision: of the groups judged violation or suspected, the share that match a
  labelled non-benign group (also for violation alone);
- benign false-positive rate: labelled benign accounts (benign_*, market_maker) inside
  ``violation`` groups, over all labelled benign accounts; also for unlabelled accounts;
- account-flag recall and precision for the single-account clauses.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOINT = ("wash_trading", "coordinated_trading")
SINGLE = ("self_matching", "spoofing", "unauthorized_bot", "limit_breach")
BENIGN = ("benign_shared_ip", "benign_household", "market_maker")


@dataclass(frozen=True)
class PredictedGroup:
    group_id: str
    verdict: str
    clauses: frozenset[str]
    members: frozenset[str]


@dataclass
class Evaluation:
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (found, total)
    clause_recall: dict[str, tuple[int, int]] = field(default_factory=dict)
    precision: dict[str, tuple[int, int]] = field(default_factory=dict)
    benign: dict[str, tuple[int, int]] = field(default_factory=dict)
    flags: dict[str, tuple[int, int]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    @staticmethod
    def rate(pair: tuple[int, int]) -> float | None:
        """hit / of; None for 0 of 0 (nothing to find is neither all found nor none)."""
        return pair[0] / pair[1] if pair[1] else None

    def as_dict(self) -> dict[str, Any]:
        def table(d: dict[str, tuple[int, int]]) -> dict[str, Any]:
            return {
                k: {"hit": v[0], "of": v[1], "rate": _rounded(self.rate(v))} for k, v in d.items()
            }

        return {
            "group_recall": table(self.recall),
            "group_recall_with_clause": table(self.clause_recall),
            "group_precision": table(self.precision),
            "benign_in_violation": table(self.benign),
            "account_flags": table(self.flags),
            "misses": self.misses,
        }


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def read_labels(truth_dir: Path) -> list[dict[str, str]]:
    path = truth_dir / "labels.csv" if truth_dir.is_dir() else truth_dir
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def read_export(out_dir: Path) -> tuple[list[PredictedGroup], set[tuple[str, str]]]:
    members: dict[str, set[str]] = defaultdict(set)
    with (out_dir / "group_members.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            members[row["group_id"]].add(row["account_id"])
    groups = []
    with (out_dir / "groups.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            clauses = frozenset(c for c in row["clauses"].split(";") if c)
            gid = row["group_id"]
            groups.append(PredictedGroup(gid, row["verdict"], clauses, frozenset(members[gid])))
    with (out_dir / "account_flags.csv").open(newline="", encoding="utf-8") as handle:
        flags = {(row["account_id"], row["clause"]) for row in csv.DictReader(handle)}
    return groups, flags


def evaluate(
    labels: list[dict[str, str]], groups: list[PredictedGroup], flags: set[tuple[str, str]]
) -> Evaluation:
    truth: dict[str, set[str]] = defaultdict(set)
    typology: dict[str, str] = {}
    difficulty: dict[str, str] = {}
    for row in labels:
        truth[row["group_id"]].add(row["account_id"])
        typology[row["group_id"]] = row["typology"]
        difficulty[row["group_id"]] = row.get("difficulty") or "standard"
    flagged = [g for g in groups if g.verdict in ("violation", "suspected")]
    ev = Evaluation()
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    clause_hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for gid, members in sorted(truth.items()):
        typ = typology[gid]
        if typ not in JOINT:
            continue
        best = max(flagged, key=lambda g: _jaccard(g.members, members), default=None)
        found = best is not None and _jaccard(best.members, members) >= 0.5
        with_clause = found and best is not None and typ in best.clauses
        for key in (typ, f"{typ}/{difficulty[gid]}", "all"):
            hits[key][0] += found
            hits[key][1] += 1
            clause_hits[key][0] += with_clause
            clause_hits[key][1] += 1
        if not found:
            ev.misses.append(f"{gid} {typ}/{difficulty[gid]} {sorted(members)}")
    ev.recall = {k: (v[0], v[1]) for k, v in sorted(hits.items())}
    ev.clause_recall = {k: (v[0], v[1]) for k, v in sorted(clause_hits.items())}
    bad_groups = [m for gid, m in truth.items() if typology[gid] not in BENIGN]
    for name, verdicts in (
        ("violation+suspected", ("violation", "suspected")),
        ("violation", ("violation",)),
    ):
        chosen = [g for g in groups if g.verdict in verdicts]
        good = sum(any(_jaccard(g.members, t) >= 0.5 for t in bad_groups) for g in chosen)
        ev.precision[name] = (good, len(chosen))
    in_violation = {a for g in groups if g.verdict == "violation" for a in g.members}
    benign_accounts = {a for gid, m in truth.items() if typology[gid] in BENIGN for a in m}
    labelled = {a for m in truth.values() for a in m}
    all_accounts = labelled | {a for g in groups for a in g.members}
    ev.benign["labelled benign"] = (len(in_violation & benign_accounts), len(benign_accounts))
    unlabelled_in_violation = in_violation - labelled
    ev.benign["unlabelled in violation groups"] = (
        len(unlabelled_in_violation),
        len(all_accounts - labelled) or 0,
    )
    expected = {
        (a, typology[gid]) for gid, m in truth.items() if typology[gid] in SINGLE for a in m
    }
    single_flags = {f for f in flags if f[1] in SINGLE}
    for clause in (*SINGLE, "all"):
        exp = {e for e in expected if clause in ("all", e[1])}
        got = {f for f in single_flags if clause in ("all", f[1])}
        ev.flags[f"recall {clause}"] = (len(exp & got), len(exp))
        ev.flags[f"precision {clause}"] = (len(exp & got), len(got))
    return ev


def _jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0
