"""Cases that follow their groups from one analysis run to the next.

After a run is written and made current, ``sync_cases`` moves every active case onto the
group that continues its group in the new run, using the stable ids and the lineage the run
recorded (``parents``: the previous groups a new group shares two or more members with):

- a group that keeps its id (or continues under a new one) keeps its case;
- groups that merged: their cases merge into one (the case of the group whose id survived, else
  the oldest), the others are closed as ``merged`` with their thread and proposals shared, and
  a note on both says so;
- a group that split: its case stays with the largest part, every other part gets a case of
  its own linked to it (or, if that part already has a case, a link);
- a group no longer found: its case stays open, with the note "no longer detected in run X";
- a violation or suspected group with no case, open or closed, gets a new one.

Closed cases are left alone: a dismissed group does not come back as a new case on its own.
Every change is written as an AuditEntry (key ``analysis``, role ``system``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graph import case_statements as cs
from graph.backend import GraphBackend

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
OPENED_FOR = ("violation", "suspected")
DEFAULT_SLA_HOURS = 168.0
CHUNK = 2_000


def sla_hours(sla: Mapping[str, float], verdict: str | None) -> float:
    """The SLA of a verdict; unknown verdicts and cases without a group use ``manual``."""
    if verdict in sla:
        return float(sla[verdict or ""])
    return float(sla.get("manual", DEFAULT_SLA_HOURS))


def due_at(opened_at: int, sla: Mapping[str, float], verdict: str | None) -> int:
    return opened_at + int(sla_hours(sla, verdict) * HOUR_MS)


def new_case_id() -> str:
    return "C-" + uuid.uuid4().hex[:12]


def new_note_id(at: int, seq: int = 0) -> str:
    """Time, then sequence first: a thread ordered by (at, id) keeps the order notes were
    written in, also for the several notes one sync writes in the same millisecond."""
    return f"N{at:013d}-{seq:05d}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunGroup:
    group_id: str
    verdict: str
    lineage: str
    parents: tuple[str, ...]
    members: int


@dataclass
class _Case:
    case_id: str
    group_id: str
    status: str
    opened_at: int
    detected: bool
    verdict: str | None
    due_at: int


@dataclass
class SyncReport:
    """What a sync did (also in the audit log), for the CLI and tests."""

    opened: list[str] = field(default_factory=list)
    followed: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (closed case, into)
    split: list[tuple[str, str]] = field(default_factory=list)  # (new linked case, from)
    undetected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.opened)} opened, {len(self.followed)} followed their group, "
            f"{len(self.merged)} merged, {len(self.split)} opened for split parts, "
            f"{len(self.undetected)} no longer detected"
        )


class _Writes:
    """The sync's changes, collected and then sent as a few column-wise statements."""

    def __init__(self) -> None:
        self.create: list[tuple[str, str, str, str, str, int]] = []
        self.follow: dict[str, tuple[str, str, int]] = {}
        self.merge: list[tuple[str, str]] = []
        self.link: list[tuple[str, str, str]] = []
        self.undetected: list[str] = []
        self.notes: list[tuple[str, str]] = []
        self.audit: list[tuple[str, str, str]] = []

    def open(self, case_id: str, g: RunGroup, title: str, origin: str, due: int) -> None:
        self.create.append((case_id, g.group_id, title, g.verdict, origin, due))
        self.follow[case_id] = (g.group_id, g.verdict, due)

    def note(self, case_id: str, text: str, action: str) -> None:
        self.notes.append((case_id, text))
        self.audit.append((action, f"case:{case_id}", text))


def sync_cases(store: GraphBackend, run_id: str, sla: Mapping[str, float]) -> SyncReport:
    """Make the cases follow the groups of ``run_id`` (the run just made current)."""
    now = int(time.time() * 1000)
    groups = {
        str(r[0]): RunGroup(
            str(r[0]), str(r[1]), str(r[2] or "new"), tuple(map(str, r[3])), int(r[4])
        )
        for r in store.read(cs.RUN_GROUPS, {"run_id": run_id}).rows
    }
    cases = [
        _Case(str(r[0]), str(r[1]), str(r[2]), int(r[3]), bool(r[4]), r[5], int(r[6] or 0))
        for r in store.read(cs.SYNC_CASES).rows
    ]
    has_any_case = {c.group_id for c in cases}
    active = [c for c in cases if c.status != "closed"]
    report = SyncReport()
    w = _Writes()

    # Where each previous group went: the new groups that name it as a parent (or keep its id).
    successors: dict[str, list[RunGroup]] = {}
    for g in groups.values():
        for parent in {*g.parents, g.group_id}:
            successors.setdefault(parent, []).append(g)

    def biggest(parts: list[RunGroup], old_id: str) -> RunGroup:
        return min(parts, key=lambda g: (-g.members, g.group_id != old_id, g.group_id))

    # 1. Each active case goes to the largest successor of its group, or is no longer detected.
    heading: dict[str, list[_Case]] = {}
    rest_of_split: list[tuple[_Case, RunGroup]] = []
    for case in active:
        parts = successors.get(case.group_id, [])
        if not parts:
            if case.detected:
                w.undetected.append(case.case_id)
                w.note(case.case_id, f"no longer detected in run {run_id}", "case:undetected")
                report.undetected.append(case.case_id)
            continue
        main = biggest(parts, case.group_id)
        heading.setdefault(main.group_id, []).append(case)
        rest_of_split += [(case, g) for g in parts if g.group_id != main.group_id]

    # 2. Several cases on one group: merge them into the one whose group kept its id, else the
    # oldest.
    owner: dict[str, str] = {}
    for gid, arriving in heading.items():
        arriving.sort(key=lambda c: (c.group_id != gid, c.opened_at, c.case_id))
        target, others = arriving[0], arriving[1:]
        owner[gid] = target.case_id
        g = groups[gid]
        due = min(target.due_at, due_at(target.opened_at, sla, g.verdict))
        w.follow[target.case_id] = (gid, g.verdict, due)
        report.followed.append(target.case_id)
        if target.group_id != gid:
            w.note(
                target.case_id,
                f"group {target.group_id} continues as {gid} ({g.lineage}) in run {run_id}",
                "case:follow",
            )
        elif not target.detected:
            w.note(target.case_id, f"detected again in run {run_id}", "case:detected")
        for other in others:
            w.merge.append((other.case_id, target.case_id))
            report.merged.append((other.case_id, target.case_id))
            text = (
                f"groups {other.group_id} and {target.group_id} merged into {gid} in run "
                f"{run_id}: case {other.case_id} merged into {target.case_id} (its thread kept)"
            )
            w.note(target.case_id, text, "case:merge")
            w.note(other.case_id, text, "case:merge")

    # 3. The other parts of a split group: a linked case each (or a link to the case they have).
    for case, part in rest_of_split:
        new_owner = owner.get(part.group_id)
        if new_owner is None and part.group_id in has_any_case:
            continue  # the part already had a case, closed: leave it closed
        if new_owner is None:
            new_owner = new_case_id()
            owner[part.group_id] = new_owner
            has_any_case.add(part.group_id)
            w.open(
                new_owner,
                part,
                f"Group {part.group_id} (split from {case.case_id})",
                "split",
                due_at(now, sla, part.verdict),
            )
            report.split.append((new_owner, case.case_id))
            w.note(
                new_owner,
                f"opened in run {run_id}: group {case.group_id} of case {case.case_id} split; "
                f"this part is {part.group_id}",
                "case:open",
            )
        if new_owner == case.case_id:
            continue
        why = f"split of group {case.group_id} in run {run_id}"
        w.link.append((new_owner, case.case_id, why))
        w.note(case.case_id, f"{why}: part {part.group_id} is case {new_owner}", "case:split")

    # 4. Violation and suspected groups without any case get one.
    for g in sorted(groups.values(), key=lambda g: g.group_id):
        if g.verdict in OPENED_FOR and g.group_id not in owner and g.group_id not in has_any_case:
            case_id = new_case_id()
            owner[g.group_id] = case_id
            w.open(case_id, g, f"Group {g.group_id}", "analysis", due_at(now, sla, g.verdict))
            report.opened.append(case_id)
            w.note(case_id, f"opened by analysis run {run_id}: {g.verdict}", "case:open")

    _write(store, run_id, now, w)
    log.info("cases: %s", report.summary())
    return report


def _batched(
    store: GraphBackend, statement: str, columns: dict[str, list[Any]], **fixed: Any
) -> None:
    """Send column-wise rows in chunks (a large run opens thousands of cases at once)."""
    total = len(next(iter(columns.values())))
    for start in range(0, total, CHUNK):
        part = {name: values[start : start + CHUNK] for name, values in columns.items()}
        store.run(statement, {**fixed, **part})


def _write(store: GraphBackend, run_id: str, now: int, w: _Writes) -> None:
    if w.create:
        names = ("case_id", "group_id", "title", "verdict", "origin", "due_at")
        columns: dict[str, list[Any]] = {
            name: [c[k] for c in w.create] for k, name in enumerate(names)
        }
        _batched(store, cs.CREATE_CASES, columns, run_id=run_id, at=now)
    if w.follow:
        ids = sorted(w.follow)
        columns = {"case_id": list(ids)}
        for k, name in enumerate(("group_id", "verdict", "due_at")):
            columns[name] = [w.follow[i][k] for i in ids]
        _batched(store, cs.FOLLOW_GROUPS, columns, run_id=run_id, at=now)
    if w.merge:
        columns = {"case_id": [m[0] for m in w.merge], "into": [m[1] for m in w.merge]}
        _batched(store, cs.MERGE_CASES, columns, at=now)
    if w.link:
        columns = {
            name: [x[k] for x in w.link] for k, name in enumerate(("case_id", "other", "why"))
        }
        _batched(store, cs.LINK_CASES, columns)
    if w.undetected:
        _batched(store, cs.MARK_UNDETECTED, {"case_id": w.undetected}, at=now)
    if w.notes:
        columns = {
            "case_id": [n[0] for n in w.notes],
            "note_id": [new_note_id(now, i) for i in range(len(w.notes))],
            "text": [n[1] for n in w.notes],
        }
        _batched(store, cs.ADD_NOTES, columns, at=now)
    if w.audit:
        columns = {
            "action": [a[0] for a in w.audit],
            "target": [a[1] for a in w.audit],
            "detail": [a[2][:2000] for a in w.audit],
        }
        _batched(store, cs.CREATE_AUDITS, columns, at=now)
