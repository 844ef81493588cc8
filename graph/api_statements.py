"""Cypher behind the HTTP API (both engines). Keys bound with WITH so indexes are used."""

from __future__ import annotations

GROUP_FIELDS = """g.group_id, g.run_id, g.verdict, g.score, g.clauses, g.recommended_action,
    g.member_count, g.lineage, coalesce(g.changed_at, g.assessed_at), g.current,
    coalesce(g.quote, 0.0), coalesce(g.members_preview, []), coalesce(g.priority, 0.0),
    coalesce(g.priority_reasons, []), coalesce(g.volume, g.quote, 0.0)"""

DATA_VERSION = """OPTIONAL MATCH (i:IngestRun)
WITH max(i.started_at) AS ingested, count(i) AS runs
OPTIONAL MATCH (r:AnalysisRun {status: 'current'})
WITH ingested, runs, r.run_id AS run
OPTIONAL MATCH (l:DecisionLog {key: 'decisions'})
RETURN ingested, runs, run, l.count"""

RUN_EXISTS = "MATCH (r:AnalysisRun {run_id: $run_id}) RETURN r.status"

# Keyset pagination over one run's groups, by priority or score (desc) then id: stable while
# the run exists, whatever later runs write.
LIST_GROUPS = f"""WITH $run_id AS run
MATCH (g:Group {{run_id: run}})
WITH g, CASE WHEN $sort = 'score' THEN g.score ELSE coalesce(g.priority, 0.0) END AS k
WHERE ($verdict IS NULL OR g.verdict = $verdict)
  AND ($clause IS NULL OR $clause IN g.clauses)
  AND ($min_score IS NULL OR g.score >= $min_score)
  AND ($changed_since IS NULL OR coalesce(g.changed_at, g.assessed_at) >= $changed_since)
  AND ($after_score IS NULL OR k < $after_score
       OR (k = $after_score AND g.group_id > $after_id))
RETURN {GROUP_FIELDS}
ORDER BY k DESC, g.group_id
LIMIT $limit"""

GROUP = f"""WITH $group_id AS gid
MATCH (g:Group {{group_id: gid}})
WHERE ($run_id IS NULL AND g.current = true) OR g.run_id = $run_id
RETURN {GROUP_FIELDS}, g.reasons, g.evidence, g.parents"""

GROUP_MEMBERS = """WITH $group_id AS gid
MATCH (a:Account)-[m:MEMBER_OF]->(g:Group {group_id: gid})
WHERE g.run_id = $run_id
OPTIONAL MATCH (a)-[:HAS_FLAG]->(f:Flag {current: true})
RETURN a.account_id, m.role, coalesce(a.account_type, 'retail'), coalesce(a.status, 'active'),
    collect(f.clause)
ORDER BY a.account_id"""

LATEST_DECISIONS = """MATCH (d:Decision) WHERE d.group_id IN $ids
RETURN d.group_id, d.decision ORDER BY d.at, d.decision_id"""

GROUP_DECISIONS = """WITH $group_id AS gid
MATCH (d:Decision {group_id: gid})
RETURN d.decision_id, d.group_id, d.run_id, d.verdict, d.decision, d.action, d.note, d.by_key,
    d.by_role, d.at, d.by_name
ORDER BY d.at, d.decision_id"""

ACCOUNT = """WITH $account_id AS aid
MATCH (a:Account {account_id: aid}) RETURN properties(a)"""

ACCOUNT_GROUP = f"""WITH $account_id AS aid
MATCH (a:Account {{account_id: aid}})-[:MEMBER_OF]->(g:Group {{current: true}})
RETURN {GROUP_FIELDS}"""

ACCOUNT_GROUP_IN_RUN = f"""WITH $account_id AS aid
MATCH (a:Account {{account_id: aid}})-[:MEMBER_OF]->(g:Group)
WHERE g.run_id = $run_id
RETURN {GROUP_FIELDS}"""

ACCOUNT_IDENTIFIERS = """WITH $account_id AS aid
MATCH (a:Account {account_id: aid})-[e:USED_IP|USED_DEVICE|DEPOSIT_FROM|WITHDRAW_TO]->(x)
WITH x, type(e) AS rel, count(e) AS uses
MATCH (x)<-[:USED_IP|USED_DEVICE|DEPOSIT_FROM|WITHDRAW_TO]-(o:Account)
RETURN labels(x)[0], coalesce(x.ip, x.device_id, x.key), rel, uses, count(DISTINCT o)
ORDER BY labels(x)[0], coalesce(x.ip, x.device_id, x.key), rel"""

ACCOUNT_FLAGS = """WITH $account_id AS aid
MATCH (a:Account {account_id: aid})-[:HAS_FLAG]->(f:Flag {current: true})
RETURN f.clause, f.score, f.evidence ORDER BY f.clause"""

# One hop of a neighbourhood: from the frontier's nodes over the allowed relationship types.
# (Filtering on m here, e.g. for current groups only, makes FalkorDB plan a scan of every
# node: 9 s instead of 12 ms at 10k accounts. The caller filters.)
NEIGHBOURS = """UNWIND $ids AS i
MATCH (n)-[r]-(m) WHERE id(n) = i AND type(r) IN $types
RETURN id(n), id(m), labels(m)[0], properties(m), type(r), id(startNode(r)) = id(n),
    properties(r)
ORDER BY id(n), id(m)
LIMIT $limit"""

NODE_BY_KEY = """WITH $account_id AS aid
MATCH (a:Account {account_id: aid}) RETURN id(a), properties(a)"""

CREATE_DECISION = """WITH $group_id AS gid
MATCH (g:Group {group_id: gid}) WHERE g.run_id = $run_id
CREATE (d:Decision {decision_id: $decision_id, group_id: gid, run_id: $run_id,
    verdict: g.verdict, score: g.score, clauses: g.clauses, decision: $decision,
    action: $action, note: $note, by_key: $by_key, by_name: $by_name, by_role: $by_role,
    at: $at})
CREATE (d)-[:ON]->(g)
WITH d, g
MATCH (a:Account)-[:MEMBER_OF]->(g)
CREATE (d)-[:CONCERNS]->(a)
WITH count(a) AS members
MERGE (l:DecisionLog {key: 'decisions'})
SET l.count = coalesce(l.count, 0) + 1
RETURN members"""

CREATE_AUDIT = """CREATE (:AuditEntry {at: $at, key_id: $key_id, role: $role, action: $action,
    target: $target, detail: $detail})"""

AUDIT = """MATCH (e:AuditEntry) WHERE $before IS NULL OR e.at < $before
RETURN e.at, e.key_id, e.role, e.action, e.target, e.detail
ORDER BY e.at DESC LIMIT $limit"""

RUNS = """MATCH (r:AnalysisRun)
RETURN r.run_id, r.status, r.started_at, r.finished_at, r.groups, r.flags
ORDER BY r.started_at DESC LIMIT $limit"""

# Cluster view of a group: its identifier evidence, members' links to it, trading and transfers
# among members.
GROUP_IDENTIFIERS = """WITH $group_id AS gid
MATCH (g:Group {group_id: gid})-[e:EVIDENCE]->(x) WHERE g.run_id = $run_id AND NOT x:Trade
MATCH (x)<-[:USED_IP|USED_DEVICE|DEPOSIT_FROM|WITHDRAW_TO]-(o:Account)
RETURN id(x), labels(x)[0], coalesce(x.ip, x.device_id, x.key), max(e.weight), collect(DISTINCT e.why)[0],
    count(DISTINCT o)"""

MEMBER_IDENTIFIER_LINKS = """UNWIND $members AS aid
MATCH (a:Account {account_id: aid})-[r:USED_IP|USED_DEVICE|DEPOSIT_FROM|WITHDRAW_TO]->(x)
WHERE id(x) IN $identifiers
RETURN aid, id(x), type(r), count(r)"""

MEMBER_TRADES = """UNWIND $members AS aid
MATCH (s:Account {account_id: aid})-[t:TRADES_WITH]->(b:Account)
WHERE b.account_id IN $members
RETURN s.account_id, b.account_id, sum(t.trades), sum(t.quote)"""

MEMBER_TRANSFERS = """UNWIND $members AS aid
MATCH (s:Account {account_id: aid})-[t:TRANSFER]->(b:Account)
WHERE b.account_id IN $members
RETURN s.account_id, b.account_id, count(t), sum(t.amount)"""

TIMELINE_LOGINS = """UNWIND $members AS aid
MATCH (a:Account {account_id: aid})-[e:USED_IP]->(x:IP)
UNWIND e.times AS ts
RETURN ts, aid, x.ip ORDER BY ts LIMIT $limit"""
