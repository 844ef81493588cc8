"""Cypher that writes analysis results into the graph and reads them back (both engines).

A run writes its ``Group`` and ``Flag`` nodes with ``current = false``; one statement then
flips ``current`` for the new run and the previous one together, so readers see either the
old results or the new ones, never a mix. Earlier runs stay as history (``current = false``)
until pruned.
"""

from __future__ import annotations

ROWS = "UNWIND range(0, size($group_id) - 1) AS i\n"

CREATE_RUN = """CREATE (:AnalysisRun {run_id: $run_id, started_at: $started_at, status: 'writing',
    config_digest: $config_digest, config: $config})"""

CREATE_GROUPS = (
    ROWS
    + """CREATE (g:Group {group_id: $group_id[i], run_id: $run_id, current: false,
    verdict: $verdict[i], score: $score[i], clauses: $clauses[i],
    recommended_action: $recommended_action[i], member_count: $member_count[i],
    reasons: $reasons[i], evidence: $evidence[i], lineage: $lineage[i], parents: $parents[i],
    assessed_at: $assessed_at, changed_at: $changed_at[i], quote: $quote[i],
    members_preview: $members_preview[i], priority: $priority[i],
    priority_reasons: $priority_reasons[i], volume: $volume[i]})
WITH g, i
UNWIND range(0, size($member_nodes[i]) - 1) AS j
WITH g, i, j, $member_nodes[i][j] AS node
MATCH (a) WHERE id(a) = node
CREATE (a)-[:MEMBER_OF {role: $member_roles[i][j], run_id: $run_id}]->(g)"""
)

CREATE_GROUP_EVIDENCE = (
    ROWS
    + """WITH i, $group_id[i] AS gid, $node[i] AS node
MATCH (g:Group {group_id: gid}) WHERE g.run_id = $run_id
MATCH (x) WHERE id(x) = node
CREATE (g)-[:EVIDENCE {kind: $kind[i], weight: $weight[i], why: $why[i], run_id: $run_id}]->(x)"""
)

CREATE_FLAGS = """UNWIND range(0, size($node) - 1) AS i
WITH i, $node[i] AS node
MATCH (a) WHERE id(a) = node
CREATE (a)-[:HAS_FLAG]->(:Flag {account_id: $account_id[i], clause: $clause[i], score: $score[i],
    evidence: $evidence[i], run_id: $run_id, current: false})"""

SWITCH_CURRENT = """MATCH (n) WHERE (n:Group OR n:Flag) AND (n.current = true OR n.run_id = $run_id)
SET n.current = (n.run_id = $run_id)
WITH count(n) AS switched
MATCH (r:AnalysisRun)
SET r.status = CASE WHEN r.run_id = $run_id THEN 'current'
                    WHEN r.status = 'current' THEN 'superseded' ELSE r.status END,
    r.finished_at = CASE WHEN r.run_id = $run_id THEN $finished_at ELSE r.finished_at END,
    r.groups = CASE WHEN r.run_id = $run_id THEN $groups ELSE r.groups END,
    r.flags = CASE WHEN r.run_id = $run_id THEN $flags ELSE r.flags END
RETURN switched"""

RUNS = "MATCH (r:AnalysisRun) RETURN r.run_id, r.status, r.started_at ORDER BY r.started_at DESC"

DELETE_RUN_RESULTS = """MATCH (n) WHERE (n:Group OR n:Flag) AND n.run_id IN $runs
WITH n LIMIT $limit DETACH DELETE n RETURN count(*)"""

DELETE_RUNS = "MATCH (r:AnalysisRun) WHERE r.run_id IN $runs DELETE r"

CURRENT_ASSESSMENTS = """MATCH (g:Group {current: true})
RETURN g.group_id, g.verdict, g.score, g.clauses, g.recommended_action, g.changed_at"""

CURRENT_MEMBERSHIP = """MATCH (a:Account)-[:MEMBER_OF]->(g:Group {current: true})
RETURN g.group_id, collect(a.account_id)"""

EXPORT_GROUPS = """MATCH (g:Group {current: true})
RETURN g.group_id, g.verdict, g.score, g.clauses, g.recommended_action, g.member_count
ORDER BY g.group_id"""

EXPORT_MEMBERS = """MATCH (a:Account)-[m:MEMBER_OF]->(g:Group {current: true})
RETURN g.group_id, a.account_id, m.role ORDER BY g.group_id, a.account_id"""

EXPORT_FLAGS = """MATCH (f:Flag {current: true})
RETURN f.account_id, f.clause, f.score, f.evidence ORDER BY f.account_id, f.clause"""

CURRENT_RUN = """MATCH (r:AnalysisRun {status: 'current'})
RETURN r.run_id, r.started_at, r.finished_at, r.groups, r.flags, r.config_digest"""

# Fills and orders cited as evidence are copied from the event store into the graph.
EVIDENCE_TRADE_FIELDS = ("trade_id", "ts", "symbol", "price", "qty", "market", "taker_side",
                         "buy_order_id", "sell_order_id")  # fmt: skip
EVIDENCE_ORDER_FIELDS = ("order_id", "account_id", "symbol", "side", "type", "price", "qty",
                         "placed_at", "ended_at", "final_status", "filled_qty", "channel")  # fmt: skip


def _create_missing(label: str, fields: tuple[str, ...]) -> str:
    """Creates the nodes whose key (the first field) is not stored, with every field in the
    ``CREATE``: FalkorDB indexes a node again on any later SET, and its index's garbage
    collector then forks the whole server (graph/statements.py). A fill or order is immutable
    (its id is its content), so a stored one is left as it is. Keys must be distinct within a
    call: a pending ``CREATE`` is not seen by the same statement's later rows."""
    key, *rest = fields
    props = ", ".join(f"{name}: ${name}[i]" for name in rest)
    return f"""UNWIND range(0, size(${key}) - 1) AS i
WITH i, ${key}[i] AS key
OPTIONAL MATCH (old:{label} {{{key}: key}})
WITH i, key, old WHERE old IS NULL
CREATE (:{label} {{{key}: key, {props}}})"""


CREATE_EVIDENCE_TRADES = _create_missing("Trade", EVIDENCE_TRADE_FIELDS)

LINK_EVIDENCE_TRADES = """UNWIND range(0, size($trade_id) - 1) AS i
WITH i, $trade_id[i] AS key
MATCH (s) WHERE id(s) = $seller[i]
MATCH (b) WHERE id(b) = $buyer[i]
MATCH (t:Trade {trade_id: key})
MERGE (s)-[:SOLD]->(t)
MERGE (b)-[:BOUGHT]->(t)
RETURN i, id(t)"""

CREATE_EVIDENCE_ORDERS = _create_missing("Order", EVIDENCE_ORDER_FIELDS)

LINK_EVIDENCE_ORDERS = """UNWIND range(0, size($node) - 1) AS i
WITH i, $order_id[i] AS key
MATCH (a) WHERE id(a) = $node[i]
MATCH (o:Order {order_id: key})
MERGE (a)-[:PLACED]->(o)"""

# The order statistics of the (account, symbol, day)s a flag cites, from the event store.
MERGE_EVIDENCE_ORDER_DAYS = """UNWIND range(0, size($node) - 1) AS i
WITH i, $symbol[i] AS key
MATCH (a) WHERE id(a) = $node[i]
MERGE (y:Symbol {symbol: key})
MERGE (a)-[d:ORDERS_ON {day: $day[i]}]->(y)
SET d += $stats[i]"""

# The settings the current results were made with: the API starts its runs with them.
CURRENT_CONFIG = "MATCH (r:AnalysisRun {status: 'current'}) RETURN r.config"
