"""Write an analysis into the graph (Group, MEMBER_OF, EVIDENCE, Flag) and switch to it atomically."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pyarrow as pa

from analytics.assessment import GroupAssessment
from analytics.behaviour import Flag
from analytics.changes import assessments, emit, run_changes
from analytics.config import AnalysisConfig
from analytics.projection import identifier_keys
from analytics.run import Analysis
from analytics.shadow import KEEP_SHADOWS, current_run, delete_runs
from events.store import LITERAL_KEYS, in_list
from events.tables import DAY_MS
from graph import result_statements as rs
from graph import triage_statements as ts
from graph.backend import GraphBackend
from graph.schema import ensure_schema

log = logging.getLogger(__name__)

CHUNK = 500


def previous_groups(store: GraphBackend) -> dict[str, frozenset[str]]:
    """Membership of the current groups, for stable ids."""
    return {str(r[0]): frozenset(map(str, r[1])) for r in store.read(rs.CURRENT_MEMBERSHIP).rows}


def write_analysis(
    store: GraphBackend, analysis: Analysis, cfg: AnalysisConfig, *, shadow: bool = False
) -> str:
    """Write the run's results, make them current in one statement (and put what changed in
    the change feed), prune old runs. ``shadow``: write them as a shadow run instead, which
    nothing reads as current until it is promoted (``analytics.shadow``)."""
    ensure_schema(store)
    run_id = f"A{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
    now = int(time.time() * 1000)
    store.run(
        rs.CREATE_RUN,
        {
            "run_id": run_id,
            "started_at": now,
            "config_digest": cfg.digest(),
            "config": json.dumps(cfg.model_dump(mode="json"), sort_keys=True),
        },
    )
    trade_nodes = _resolve_evidence(store, analysis)
    _write_groups(store, run_id, analysis, now)
    _write_group_evidence(store, run_id, analysis.groups, trade_nodes)
    _write_flags(store, run_id, analysis)
    counts = {
        "run_id": run_id,
        "finished_at": int(time.time() * 1000),
        "groups": len(analysis.groups),
        "flags": len(analysis.flags),
    }
    if shadow:
        store.run(ts.MARK_SHADOW, {**counts, "base_run": current_run(store)})
    else:
        before = assessments(store, current_run(store))
        store.run(rs.SWITCH_CURRENT, counts)
        emit(store, run_changes(before, assessments(store, run_id), run_id))
    _prune(store, run_id, cfg.assessment.history_runs)
    store.checkpoint()
    return run_id


def _changed_at(group: GroupAssessment, before: list[Any] | None, now: int) -> int:
    """When the group's assessment last changed: kept while members and verdict stay the same."""
    if before is None or group.lineage != "unchanged":
        return now
    verdict, score, clauses, action, changed = before
    same = (verdict, round(float(score), 4), list(clauses or []), action) == (
        group.verdict,
        round(group.score, 4),
        group.clauses,
        group.action,
    )
    return int(changed) if same and changed is not None else now


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _resolve_evidence(store: GraphBackend, analysis: Analysis) -> dict[int, int]:
    """Replace positions and store-internal ids in evidence by the ids people know, and write
    the fills and orders cited as evidence into the graph; returns trade position -> node."""
    trades = analysis.trades
    positions: set[int] = set()
    for g in analysis.groups:
        positions.update(g.trades)
        for w in g.evidence.get("wash", []):
            positions.update(w["trade_positions"])
        for p in g.evidence.get("synchronized", []):
            positions.update(x for e in p["examples"] for x in (e["trade_a"], e["trade_b"]))
    for f in analysis.flags:
        positions.update(f.trades)
    cited = sorted(positions)
    ids = dict(zip(cited, trades.ids(cited), strict=True))
    trade_nodes = _write_evidence_trades(store, analysis, cited)
    idents = identifier_keys(
        store,
        sorted(
            {
                link["identifier"]
                for g in analysis.groups
                for link in g.evidence["links"]
                if link["identifier"] >= 0
            }
        ),
    )
    for g in analysis.groups:
        for w in g.evidence.get("wash", []):
            w["trade_ids"] = [ids[p] for p in w.pop("trade_positions")]
        for p in g.evidence.get("synchronized", []):
            for e in p["examples"]:
                e["trade_a"], e["trade_b"] = ids[e["trade_a"]], ids[e["trade_b"]]
            p["trade_ids"] = sorted({e[k] for e in p["examples"] for k in ("trade_a", "trade_b")})
        for link in g.evidence["links"]:
            node = link.pop("identifier")
            if node >= 0:
                link["identifier"] = idents.get(node, ("", ""))[1]
    for f in analysis.flags:
        if f.trades:
            f.evidence["trade_ids"] = [ids[p] for p in f.trades]
    _order_samples(store, analysis.flags, analysis)
    return trade_nodes


def _distinct(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """The ``fields`` of ``rows`` as columns, each key (the first field) once: for the
    ``rs.CREATE_EVIDENCE_*`` statements, which do not see their own pending creates."""
    distinct = list({r[fields[0]]: r for r in rows}.values())
    return {name: [r[name] for r in distinct] for name in fields}


def _write_evidence_trades(
    store: GraphBackend, analysis: Analysis, positions: list[int]
) -> dict[int, int]:
    """Cited fills become Trade nodes (SOLD/BOUGHT), so Cypher can follow Group -> Trade."""
    if not positions:
        return {}
    trades, accounts = analysis.trades, analysis.accounts
    ts = trades.ts[positions]
    rows = analysis.events.lookup(
        "trades", trades.ids(positions), since=int(ts.min()), until=int(ts.max()) + 1
    ).to_pylist()
    by_id = {r["trade_id"]: r for r in rows}
    node_of = accounts.node_of
    out: dict[int, int] = {}
    for start in range(0, len(positions), CHUNK * 4):
        part = [by_id[i] for i in trades.ids(positions[start : start + CHUNK * 4])]
        store.run(rs.CREATE_EVIDENCE_TRADES, _distinct(part, rs.EVIDENCE_TRADE_FIELDS))
        params: dict[str, Any] = {"trade_id": [r["trade_id"] for r in part]}
        params["seller"] = [node_of[r["seller_id"]] for r in part]
        params["buyer"] = [node_of[r["buyer_id"]] for r in part]
        for i, node in store.run(rs.LINK_EVIDENCE_TRADES, params).rows:
            out[positions[start + int(i)]] = int(node)
    return out


# Which orders of a flagged (account, symbol, day) are shown as evidence, most telling first:
# large quick cancels, other cancels by size, then orders sent through the API.
_ORDER_RANK = """CASE WHEN o.final_status = 'cancelled'
    THEN o.qty + CASE WHEN o.ended_at - o.placed_at <= 1000 THEN 1e12 ELSE 0 END
    WHEN o.channel = 'api' THEN 1.0 ELSE 0.0 END"""
ORDER_SAMPLES = 10
EVIDENCE_ORDER_DAYS = 10


def _order_samples(store: GraphBackend, flags: list[Flag], analysis: Analysis) -> None:
    # A flag cites the orders of its latest offending days only (every day's figures are in its
    # evidence): a market maker quoting all month must not make write-back grow with its days.
    wanted = [(f, sym, day) for f in flags for sym, day in f.order_days[-EVIDENCE_ORDER_DAYS:]]
    if not wanted:
        return
    accounts = analysis.accounts
    keys = pa.table(
        {
            "i": list(range(len(wanted))),
            "account_id": [accounts.ids[f.account] for f, _, _ in wanted],
            "symbol": [sym for _, sym, _ in wanted],
            "day": [day for _, _, day in wanted],
        }
    )
    days = [day for _, _, day in wanted]
    # Flags that name their orders (spoofing bait) cite those; the others a sample of the day.
    sampled = pa.array([not f.cited_orders for f, _, _ in wanted])
    with analysis.events.connection() as con:
        con.register("wanted", keys.filter(sampled))
        samples = con.sql(
            f"SELECT w.i, o.* FROM wanted w JOIN {_sampled_orders(analysis, wanted)} o "
            f"ON o.account_id = w.account_id "
            f"AND o.symbol = w.symbol AND o.placed_at // {DAY_MS} = w.day "
            f"WHERE {_ORDER_RANK} > 0 "
            f"QUALIFY row_number() OVER (PARTITION BY w.i ORDER BY {_ORDER_RANK} DESC, "
            f"o.order_id) <= {ORDER_SAMPLES} ORDER BY w.i, o.order_id"
        ).to_arrow_table()
        con.unregister("wanted")
        con.register("wanted", keys)
        day_stats = con.sql(
            f"SELECT w.i, d.* FROM wanted w JOIN "
            f"{analysis.events.scan('order_days', min(days) * DAY_MS, (max(days) + 1) * DAY_MS)} d "
            "ON d.account_id = w.account_id AND d.symbol = w.symbol AND d.day = w.day ORDER BY w.i"
        ).to_arrow_table()
    _write_order_days(store, day_stats.to_pylist(), analysis)
    rows = samples.to_pylist()
    for r in rows:
        wanted[r["i"]][0].evidence.setdefault("order_ids", []).append(r["order_id"])
    named = {r["order_id"]: r for f in flags for r in f.cited_orders}
    rows += [named[o] for o in sorted(named)]
    for f in flags:
        if f.cited_orders:
            f.evidence["order_ids"] = f.orders
    node_of = accounts.node_of
    for start in range(0, len(rows), CHUNK * 4):
        part = rows[start : start + CHUNK * 4]
        store.run(rs.CREATE_EVIDENCE_ORDERS, _distinct(part, rs.EVIDENCE_ORDER_FIELDS))
        store.run(
            rs.LINK_EVIDENCE_ORDERS,
            {
                "node": [node_of[r["account_id"]] for r in part],
                "order_id": [r["order_id"] for r in part],
            },
        )


def _sampled_orders(analysis: Analysis, wanted: list[tuple[Flag, str, int]]) -> str:
    """The orders a sample can come from (SQL): each cited day's file alone, with the literal
    list of the accounts cited on that day, which lets DuckDB skip the row groups of the other
    accounts. A flag cites a day or two of its own (M: 82 account-days of 80 accounts over 30
    days), so most of a day's row groups go unread; one scan of the whole window read all."""
    by_day: dict[int, set[str]] = {}
    for f, _, day in wanted:
        if not f.cited_orders:
            by_day.setdefault(day, set()).add(analysis.accounts.ids[f.account])
    parts = []
    for day, ids in sorted(by_day.items()):
        scan = analysis.events.scan("orders", day * DAY_MS, (day + 1) * DAY_MS)
        prune = f"account_id IN {in_list(sorted(ids))}" if len(ids) <= LITERAL_KEYS else "true"
        parts.append(f"SELECT * FROM {scan} WHERE {prune}")
    if not parts:
        return f"(SELECT * FROM {analysis.events.scan('orders')} WHERE false)"
    return "(" + " UNION ALL ".join(parts) + ")"


def _write_order_days(store: GraphBackend, rows: list[dict[str, Any]], analysis: Analysis) -> None:
    """The cited days' order statistics become ``ORDERS_ON`` relationships (evidence)."""
    node_of = analysis.accounts.node_of
    skip = {"i", "account_id", "symbol", "day"}
    for start in range(0, len(rows), CHUNK * 4):
        part = rows[start : start + CHUNK * 4]
        store.run(
            rs.MERGE_EVIDENCE_ORDER_DAYS,
            {
                "node": [node_of[r["account_id"]] for r in part],
                "symbol": [r["symbol"] for r in part],
                "day": [r["day"] for r in part],
                "stats": [
                    {k: v for k, v in r.items() if k not in skip and v is not None} for r in part
                ],
            },
        )


def _write_groups(store: GraphBackend, run_id: str, analysis: Analysis, now: int) -> None:
    """Group nodes with their assessment, and MEMBER_OF for each member (not yet current)."""
    accounts = analysis.accounts
    groups = analysis.groups
    before = {str(r[0]): r[1:] for r in store.read(rs.CURRENT_ASSESSMENTS).rows}
    changed_at = [_changed_at(g, before.get(g.group_id), now) for g in groups]
    for start in range(0, len(groups), CHUNK):
        chunk = groups[start : start + CHUNK]
        store.run(
            rs.CREATE_GROUPS,
            {
                "run_id": run_id,
                "assessed_at": now,
                "changed_at": changed_at[start : start + CHUNK],
                "quote": [g.evidence["trading_among_members"]["quote"] for g in chunk],
                "members_preview": [[accounts.ids[m] for m in g.members[:10]] for g in chunk],
                "group_id": [g.group_id for g in chunk],
                "verdict": [g.verdict for g in chunk],
                "score": [g.score for g in chunk],
                "priority": [g.priority for g in chunk],
                "priority_reasons": [g.priority_reasons for g in chunk],
                "volume": [g.volume for g in chunk],
                "clauses": [g.clauses for g in chunk],
                "recommended_action": [g.action for g in chunk],
                "member_count": [len(g.members) for g in chunk],
                "reasons": [g.reasons for g in chunk],
                "evidence": [dumps(g.evidence) for g in chunk],
                "lineage": [g.lineage for g in chunk],
                "parents": [list(g.parents) for g in chunk],
                "member_nodes": [[int(accounts.node_ids[m]) for m in g.members] for g in chunk],
                "member_roles": [[g.roles[m] for m in g.members] for g in chunk],
            },
        )


def _write_group_evidence(
    store: GraphBackend, run_id: str, groups: list[GroupAssessment], trade_nodes: dict[int, int]
) -> None:
    """EVIDENCE from each group to the identifiers and wash trades its verdict rests on, with
    the weight and the reason the assessment gave them (the API shows these)."""
    rows: list[tuple[str, int, str, float, str]] = []
    for g in groups:
        rows.extend(
            (g.group_id, node, kind, weight, why) for node, kind, weight, why in g.identifiers
        )
        rows.extend(
            (
                g.group_id,
                trade_nodes[t],
                "wash_trade",
                1.0,
                "trade in a completed wash cycle",
            )
            for t in g.trades
        )
    for start in range(0, len(rows), CHUNK * 4):
        part = rows[start : start + CHUNK * 4]
        store.run(
            rs.CREATE_GROUP_EVIDENCE,
            {
                "run_id": run_id,
                "group_id": [r[0] for r in part],
                "node": [r[1] for r in part],
                "kind": [r[2] for r in part],
                "weight": [r[3] for r in part],
                "why": [r[4] for r in part],
            },
        )


def _write_flags(store: GraphBackend, run_id: str, analysis: Analysis) -> None:
    """Flag nodes of single-account findings, linked from their accounts."""
    accounts = analysis.accounts
    flags = analysis.flags
    for start in range(0, len(flags), CHUNK):
        batch = flags[start : start + CHUNK]
        store.run(
            rs.CREATE_FLAGS,
            {
                "run_id": run_id,
                "node": [int(accounts.node_ids[f.account]) for f in batch],
                "account_id": [accounts.ids[f.account] for f in batch],
                "clause": [f.clause for f in batch],
                "score": [round(f.score, 4) for f in batch],
                "evidence": [dumps(f.evidence) for f in batch],
            },
        )


def _prune(store: GraphBackend, run_id: str, keep: int) -> None:
    runs = store.read(rs.RUNS).rows
    finished = [str(r[0]) for r in runs if r[1] in ("current", "superseded")]
    stale = [str(r[0]) for r in runs if r[1] == "writing" and r[0] != run_id]  # crashed runs
    shadows = [str(r[0]) for r in runs if r[1] == "shadow"][KEEP_SHADOWS:]
    old = finished[keep:] + stale + shadows
    if not old:
        return
    delete_runs(store, old)
    log.info("pruned %d earlier analysis runs", len(old))
