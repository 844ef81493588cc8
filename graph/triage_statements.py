"""Cypher of casework that feeds the analysis (both engines): suppressions, the change feed
(what webhooks deliver and ``GET /v1/events`` serves), shadow runs and dispositions."""

from __future__ import annotations

SUPPRESSION_FIELDS = """s.suppression_id, s.scope, s.reason, s.identifier_kind, s.identifier,
    s.accounts, s.note, s.group_id, s.by_key, s.by_role, s.created_at, s.expires_at,
    s.revoked_at, s.revoked_by"""

CREATE_SUPPRESSION = """CREATE (s:Suppression {suppression_id: $suppression_id, scope: $scope,
    reason: $reason, identifier_kind: $identifier_kind, identifier: $identifier,
    accounts: $accounts, note: $note, group_id: $group_id, by_key: $by_key, by_role: $by_role,
    created_at: $created_at, expires_at: $expires_at})
RETURN s.suppression_id"""

LIST_SUPPRESSIONS = f"""MATCH (s:Suppression)
WHERE $active IS NULL OR ($active = (s.revoked_at IS NULL AND s.expires_at > $now))
RETURN {SUPPRESSION_FIELDS}
ORDER BY s.created_at DESC, s.suppression_id LIMIT $limit"""

SUPPRESSION = f"""WITH $suppression_id AS sid
MATCH (s:Suppression {{suppression_id: sid}}) RETURN {SUPPRESSION_FIELDS}"""

REVOKE_SUPPRESSION = """WITH $suppression_id AS sid
MATCH (s:Suppression {suppression_id: sid}) WHERE s.revoked_at IS NULL
SET s.revoked_at = $at, s.revoked_by = $by_key
RETURN s.suppression_id"""

# What an analysis run applies: in force now (not revoked, not expired).
ACTIVE_SUPPRESSIONS = """MATCH (s:Suppression)
WHERE s.revoked_at IS NULL AND s.expires_at > $now
RETURN s.suppression_id, s.scope, s.reason, s.identifier_kind, s.identifier, s.accounts
ORDER BY s.suppression_id"""

IDENTIFIER_NODE = {
    "ip": "WITH $value AS v MATCH (x:IP {ip: v}) RETURN id(x)",
    "device": "WITH $value AS v MATCH (x:Device {device_id: v}) RETURN id(x)",
    "funding": "WITH $value AS v MATCH (x:FundingSource {key: v}) RETURN id(x)",
}

KNOWN_ACCOUNTS = """UNWIND $ids AS aid
MATCH (a:Account {account_id: aid}) RETURN a.account_id"""

# The change feed: one sequence for every event, allocated in the statement that writes them.
APPEND_CHANGES = """MERGE (f:ChangeFeed {key: 'changes'})
SET f.seq = coalesce(f.seq, 0) + size($kind)
WITH f.seq - size($kind) AS base
UNWIND range(0, size($kind) - 1) AS i
CREATE (e:ChangeEvent {seq: base + i + 1, kind: $kind[i], at: $at, subject: $subject[i],
    run_id: $run_id[i], payload: $payload[i]})
RETURN max(e.seq)"""

CHANGES_AFTER = """MATCH (e:ChangeEvent) WHERE e.seq > $after
  AND ($kinds IS NULL OR e.kind IN $kinds)
RETURN e.seq, e.kind, e.at, e.subject, e.run_id, e.payload
ORDER BY e.seq LIMIT $limit"""

LAST_CHANGE = "MATCH (f:ChangeFeed {key: 'changes'}) RETURN f.seq"

# Verdict, clauses and action of every group of one run (shadow-run comparison, change events).
RUN_ASSESSMENTS = """WITH $run_id AS run
MATCH (g:Group {run_id: run})
RETURN g.group_id, g.verdict, g.clauses, g.recommended_action, g.member_count,
    coalesce(g.priority, 0.0), g.lineage, g.parents
ORDER BY g.group_id"""

RUN_INFO = """WITH $run_id AS run
MATCH (r:AnalysisRun {run_id: run})
RETURN r.run_id, r.status, r.started_at, r.finished_at, r.groups, r.flags, r.base_run,
    r.config_digest"""

CURRENT_RUN_ID = "MATCH (r:AnalysisRun {status: 'current'}) RETURN r.run_id"

# A shadow run is complete but not current: nothing reads it unless asked for by id.
MARK_SHADOW = """WITH $run_id AS run
MATCH (r:AnalysisRun {run_id: run})
SET r.status = 'shadow', r.finished_at = $finished_at, r.groups = $groups, r.flags = $flags,
    r.base_run = $base_run
RETURN r.run_id"""

SHADOW_RUNS = """MATCH (r:AnalysisRun {status: 'shadow'})
RETURN r.run_id ORDER BY r.started_at DESC"""

# Dispositions: every decision with the clauses of the assessment it was made on.
DISPOSITIONS = """MATCH (d:Decision)
OPTIONAL MATCH (r:AnalysisRun {run_id: d.run_id})
RETURN d.group_id, d.run_id, d.decision, d.clauses, d.verdict, d.at, r.started_at
ORDER BY d.at, d.decision_id"""

# Webhook deliveries (every attempt), newest first per subscription.
CREATE_DELIVERY = """CREATE (:WebhookDelivery {webhook_id: $webhook_id, seq: $seq,
    attempt: $attempt, at: $at, status_code: $status_code, outcome: $outcome, error: $error})"""

DELIVERIES = """WITH $webhook_id AS wid
MATCH (d:WebhookDelivery {webhook_id: wid})
RETURN d.webhook_id, d.seq, d.attempt, d.at, d.status_code, d.outcome, d.error
ORDER BY d.at DESC, d.seq DESC, d.attempt DESC LIMIT $limit"""
