"""Precision from dispositions: of the groups people decided, the share they confirmed.

A group's disposition on an assessment (run) is its latest deciding decision there: ``confirm``
and ``action_taken`` confirm it, ``dismiss`` does not; ``escalate`` decides nothing yet. Read
by run (in run order: precision over time) and by clause of the assessment decided on. Case
closures (confirmed / dismissed) feed the same figures once cases record their disposition as
a decision.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from graph import triage_statements as ts
from graph.backend import GraphBackend

CONFIRMING = {"confirm", "action_taken"}
DECIDING = CONFIRMING | {"dismiss"}


@dataclass(frozen=True)
class Row:
    key: str
    confirmed: int
    decided: int

    @property
    def precision(self) -> float | None:
        return round(self.confirmed / self.decided, 4) if self.decided else None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "confirmed": self.confirmed, "decided": self.decided,
                "precision": self.precision}  # fmt: skip


@dataclass(frozen=True)
class Precision:
    by_run: list[Row]
    by_clause: list[Row]
    overall: Row

    def as_dict(self) -> dict[str, Any]:
        return {
            "by_run": [r.as_dict() for r in self.by_run],
            "by_clause": [r.as_dict() for r in self.by_clause],
            "overall": self.overall.as_dict(),
        }


def precision(store: GraphBackend) -> Precision:
    latest: dict[tuple[str, str], tuple[str, list[str], int]] = {}
    for group_id, run_id, decision, decided_on, _verdict, _at, started in store.read(
        ts.DISPOSITIONS
    ).rows:
        if decision in DECIDING:
            latest[(str(group_id), str(run_id))] = (
                str(decision), list(decided_on or []), int(started or 0),
            )  # fmt: skip
    runs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    run_start: dict[str, int] = {}
    clauses: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    total = [0, 0]
    for (_group, run_id), (decision, group_clauses, started) in latest.items():
        hit = int(decision in CONFIRMING)
        run_start[run_id] = started
        for counter in (runs[run_id], total, *(clauses[c] for c in group_clauses or ["none"])):
            counter[0] += hit
            counter[1] += 1
    return Precision(
        by_run=[Row(r, *runs[r]) for r in sorted(runs, key=lambda r: (run_start[r], r))],
        by_clause=[Row(c, *clauses[c]) for c in sorted(clauses)],
        overall=Row("all", *total),
    )
