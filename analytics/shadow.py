"""What-if runs: a shadow run is analysed and written like any run but never made current;
it is compared with the current run, then promoted to current or discarded."""

from __future__ import annotations

import logging
import time
from typing import Any

from analytics.changes import assessments, emit, run_changes
from graph import result_statements as rs
from graph import triage_statements as ts
from graph.backend import GraphBackend
from linkscope.errors import Busy, NotFound

log = logging.getLogger(__name__)

KEEP_SHADOWS = 5  # shadow runs kept; older ones are discarded by later runs
FIELDS = ("verdict", "clauses", "recommended_action")


def run_info(store: GraphBackend, run_id: str) -> dict[str, Any]:
    rows = store.read(ts.RUN_INFO, {"run_id": run_id}).rows
    if not rows:
        raise NotFound(f"no analysis run {run_id!r}")
    keys = ("run_id", "status", "started_at", "finished_at", "groups", "flags", "base_run",
            "config_digest")  # fmt: skip
    return dict(zip(keys, rows[0], strict=True))


def current_run(store: GraphBackend) -> str | None:
    rows = store.read(ts.CURRENT_RUN_ID).rows
    return str(rows[0][0]) if rows else None


def compare(store: GraphBackend, run_id: str) -> dict[str, Any]:
    """The shadow run against the current run: groups that appear, disappear, or change
    verdict, clauses or recommended action (one row per change)."""
    info = run_info(store, run_id)
    current = current_run(store)
    before = assessments(store, current)
    after = assessments(store, run_id)
    changes: list[dict[str, Any]] = []
    for gid in sorted(set(before) | set(after)):
        old, new = before.get(gid), after.get(gid)
        if old is None or new is None:
            changes.append({"group_id": gid, "change": "appears" if old is None else "disappears",
                            "before": old, "after": new})  # fmt: skip
            continue
        for name, change in zip(FIELDS, ("verdict", "clauses", "action"), strict=True):
            if old[name] != new[name]:
                changes.append({"group_id": gid, "change": change, "before": old, "after": new})
    counts: dict[str, int] = {k: 0 for k in ("appears", "disappears", "verdict", "clauses",
                                              "action")}  # fmt: skip
    for c in changes:
        counts[c["change"]] += 1
    counts["groups_current"], counts["groups_shadow"] = len(before), len(after)
    return {"shadow_run": run_id, "current_run": current, "base_run": info["base_run"],
            "status": info["status"], "counts": counts, "changes": changes}  # fmt: skip


def _shadow(store: GraphBackend, run_id: str) -> dict[str, Any]:
    info = run_info(store, run_id)
    if info["status"] != "shadow":
        raise Busy(f"run {run_id} is {info['status']}, not a shadow run")
    return info


def promote(store: GraphBackend, run_id: str) -> int:
    """Make a shadow run current (refused when the current run changed since it was made:
    its group ids and lineage were assigned against that run). Returns change events."""
    info = _shadow(store, run_id)
    current = current_run(store)
    if info["base_run"] != current:
        raise Busy(
            f"the current run is {current}, the shadow run was made against "
            f"{info['base_run']}: run the dry run again"
        )
    before = assessments(store, current)
    store.run(rs.SWITCH_CURRENT, {"run_id": run_id, "finished_at": int(time.time() * 1000),
                                  "groups": info["groups"], "flags": info["flags"]})  # fmt: skip
    emitted = emit(store, run_changes(before, assessments(store, run_id), run_id))
    store.checkpoint()
    return emitted


def discard(store: GraphBackend, run_id: str) -> None:
    _shadow(store, run_id)
    delete_runs(store, [run_id])


def delete_runs(store: GraphBackend, runs: list[str]) -> None:
    while int(store.run(rs.DELETE_RUN_RESULTS, {"runs": runs, "limit": 20_000}).scalar() or 0):
        pass
    store.run(rs.DELETE_RUNS, {"runs": runs})
