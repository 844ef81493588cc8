"""``linkscope export OUT_DIR``: the current assessment as the contract's output CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

from graph import result_statements as rs
from graph.backend import GraphBackend
from linkscope.errors import InputError

GROUP_COLUMNS = ("group_id", "verdict", "score", "clauses", "recommended_action", "member_count")
MEMBER_COLUMNS = ("group_id", "account_id", "role")
FLAG_COLUMNS = ("account_id", "clause", "score", "evidence")


def export(store: GraphBackend, out_dir: Path) -> dict[str, int]:
    """Write groups.csv, group_members.csv and account_flags.csv; returns row counts."""
    if not store.read(rs.CURRENT_RUN).rows:
        raise InputError("no analysis in this store yet: run `linkscope analyze` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = [
        [gid, verdict, _score(score), ";".join(clauses or []), action, int(count)]
        for gid, verdict, score, clauses, action, count in store.read(rs.EXPORT_GROUPS).rows
    ]
    members = store.read(rs.EXPORT_MEMBERS).rows
    flags = [
        [account, clause, _score(score), evidence]
        for account, clause, score, evidence in store.read(rs.EXPORT_FLAGS).rows
    ]
    counts = {}
    for name, header, rows in (
        ("groups.csv", GROUP_COLUMNS, groups),
        ("group_members.csv", MEMBER_COLUMNS, members),
        ("account_flags.csv", FLAG_COLUMNS, flags),
    ):
        tmp = out_dir / f".{name}.tmp"
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        tmp.replace(out_dir / name)  # a reader never sees half a file
        counts[name] = len(rows)
    return counts


def _score(value: object) -> str:
    return f"{float(value):.4f}"  # type: ignore[arg-type]
