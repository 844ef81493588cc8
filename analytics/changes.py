"""The change feed: what changed for enforcement, in order, for webhooks and for polling.

Whoever makes a change appends it here in the same process (an analysis run that becomes
current, a promoted shadow run, and case and four-eyes code through ``emit``); the API's
webhook dispatcher delivers from the feed, so a run made from the shell is pushed as well.
Kinds: ``new_violation`` and ``verdict_changed`` (emitted when a run becomes current),
``case_closed`` and ``action_approved`` (for casework: call ``emit`` where a case closes or a
sanction is approved).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from graph import triage_statements as ts
from graph.backend import GraphBackend

KINDS = ("verdict_changed", "new_violation", "case_closed", "action_approved")
CHUNK = 500


@dataclass(frozen=True)
class Change:
    kind: str
    subject: str
    run_id: str | None
    payload: dict[str, Any]


def emit(store: GraphBackend, changes: list[Change]) -> int:
    """Append ``changes`` to the feed in order; returns the last sequence number (0: none)."""
    last = 0
    for start in range(0, len(changes), CHUNK):
        part = changes[start : start + CHUNK]
        for c in part:
            if c.kind not in KINDS:
                raise ValueError(f"unknown change kind {c.kind!r}")
        last = int(
            store.run(
                ts.APPEND_CHANGES,
                {
                    "kind": [c.kind for c in part],
                    "subject": [c.subject for c in part],
                    "run_id": [c.run_id for c in part],
                    "payload": [json.dumps(c.payload, sort_keys=True) for c in part],
                    "at": int(time.time() * 1000),
                },
            ).scalar()
            or 0
        )
    return last


def assessments(store: GraphBackend, run_id: str | None) -> dict[str, dict[str, Any]]:
    """Verdict, clauses, action, members and priority of every group of one run."""
    if run_id is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for gid, verdict, clauses, action, members, priority, lineage, parents in store.read(
        ts.RUN_ASSESSMENTS, {"run_id": run_id}
    ).rows:
        out[str(gid)] = {
            "verdict": verdict,
            "clauses": list(clauses or []),
            "recommended_action": action,
            "member_count": int(members or 0),
            "priority": float(priority or 0.0),
            "lineage": lineage,
            "parents": list(parents or []),
        }
    return out


def run_changes(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], run_id: str
) -> list[Change]:
    """What a run that became current changed: new violations and changed verdicts."""
    out = []
    for gid in sorted(after):
        new, old = after[gid], before.get(gid)
        payload = {"group_id": gid, "run_id": run_id, "verdict": new["verdict"],
                   "previous_verdict": old["verdict"] if old else None,
                   "clauses": new["clauses"], "recommended_action": new["recommended_action"],
                   "priority": new["priority"], "member_count": new["member_count"]}  # fmt: skip
        if new["verdict"] == "violation" and (old is None or old["verdict"] != "violation"):
            out.append(Change("new_violation", f"group:{gid}", run_id, payload))
        if old is not None and old["verdict"] != new["verdict"]:
            out.append(Change("verdict_changed", f"group:{gid}", run_id, payload))
    for gid in sorted(set(before) - set(after)):
        old = before[gid]
        if old["verdict"] != "cleared":  # no longer detected: its verdict is gone
            payload = {"group_id": gid, "run_id": run_id, "verdict": None,
                       "previous_verdict": old["verdict"], "clauses": [],
                       "recommended_action": None, "priority": None,
                       "member_count": old["member_count"]}  # fmt: skip
            out.append(Change("verdict_changed", f"group:{gid}", run_id, payload))
    return out


# Hook points for casework (cases and four-eyes): call these where the change is made.
def case_closed(
    store: GraphBackend, case_id: str, group_id: str | None, disposition: str, by_key: str
) -> int:
    """A case was closed (confirmed / dismissed / escalated): pushed as ``case_closed``."""
    payload = {"case_id": case_id, "group_id": group_id, "disposition": disposition,
               "by_key": by_key}  # fmt: skip
    return emit(store, [Change("case_closed", f"case:{case_id}", None, payload)])


def action_approved(
    store: GraphBackend, group_id: str, action: str, proposed_by: str, approved_by: str
) -> int:
    """A sanction was approved by a second person: pushed as ``action_approved``."""
    payload = {"group_id": group_id, "action": action, "proposed_by": proposed_by,
               "approved_by": approved_by}  # fmt: skip
    return emit(store, [Change("action_approved", f"group:{group_id}", None, payload)])
