"""Cypher for cases, their notes and sanction proposals (both engines; see docs/graph-model.md).

A ``Case`` follows a group by its stable ``group_id`` (Group nodes are one per run and get
pruned, so the case holds the id and an ``ABOUT`` relationship to each run's node). Notes are
only ever created: a thread is append-only. Every change a person makes is one conditional
statement (``WHERE`` on the state it expects), so two API workers cannot both claim a case or
both decide a proposal: the loser matches nothing and gets a 409.
"""

from __future__ import annotations

CASE_FIELDS = """c.case_id, c.group_id, c.title, c.status, c.verdict, c.origin, c.assignee,
    c.assignee_name, c.opened_at, c.opened_by, c.due_at, c.disposition, c.disposition_reason,
    c.closed_at, coalesce(c.detected, false), c.last_run_id, coalesce(c.account_ids, []),
    c.merged_into, c.updated_at"""

# Keyset pagination: most urgent first (due date), then id.
LIST_CASES = f"""MATCH (c:Case)
WHERE ($status IS NULL OR c.status = $status OR ($status = 'active' AND c.status <> 'closed'))
  AND ($verdict IS NULL OR c.verdict = $verdict)
  AND ($assignee IS NULL OR c.assignee = $assignee)
  AND (NOT $unassigned OR c.assignee IS NULL)
  AND (NOT $overdue OR (c.status <> 'closed' AND c.due_at < $now))
  AND ($group_id IS NULL OR c.group_id = $group_id)
  AND ($after_due IS NULL OR c.due_at > $after_due
       OR (c.due_at = $after_due AND c.case_id > $after_id))
RETURN {CASE_FIELDS}
ORDER BY c.due_at, c.case_id
LIMIT $limit"""

CASE = f"""WITH $case_id AS cid
MATCH (c:Case {{case_id: cid}})
RETURN {CASE_FIELDS}"""

CASE_NOTES = """WITH $case_id AS cid
MATCH (:Case {case_id: cid})-[:HAS_NOTE]->(n:CaseNote)
RETURN n.note_id, n.case_id, n.at, n.by_key, n.by_role, n.by_name, n.kind, n.text
ORDER BY n.at, n.note_id"""

CASE_PROPOSALS = """WITH $case_id AS cid
MATCH (:Case {case_id: cid})-[:HAS_PROPOSAL]->(p:SanctionProposal)
RETURN p.proposal_id, p.case_id, p.group_id, p.action, p.note, p.status, p.proposed_by,
    p.proposed_role, p.proposed_name, p.proposed_at, p.decided_by, p.decided_role,
    p.decided_name, p.decided_at, p.decision_note, p.decision_id
ORDER BY p.proposed_at, p.proposal_id"""

CASE_LINKS = """WITH $case_id AS cid
MATCH (c:Case {case_id: cid})-[r:LINKED|MERGED_INTO]-(o:Case)
RETURN type(r), startNode(r) = c, o.case_id, o.group_id, o.status, coalesce(r.why, '')
ORDER BY o.case_id"""

# Active (not closed) case of a group, for "one case per group".
ACTIVE_CASE_OF_GROUP = """WITH $group_id AS gid
MATCH (c:Case {group_id: gid}) WHERE c.status <> 'closed'
RETURN c.case_id ORDER BY c.opened_at LIMIT 1"""

# For `linkscope status`: cases per status, and how many unclosed ones are past due.
CASE_COUNTS = """MATCH (c:Case)
RETURN c.status, count(c), sum(CASE WHEN c.status <> 'closed' AND c.due_at < $now THEN 1 ELSE 0 END)
ORDER BY c.status"""

ACCOUNTS_EXIST = """UNWIND $ids AS aid
MATCH (a:Account {account_id: aid}) RETURN a.account_id"""

CREATE_CASE = """CREATE (c:Case {case_id: $case_id, group_id: $group_id, title: $title,
    status: 'open', verdict: $verdict, origin: $origin, opened_at: $at, opened_by: $by,
    due_at: $due_at, updated_at: $at, detected: $detected, last_run_id: $run_id,
    account_ids: $account_ids})
RETURN c.case_id"""

LINK_CASE_ACCOUNTS = """WITH $case_id AS cid
MATCH (c:Case {case_id: cid})
UNWIND $account_ids AS aid
MATCH (a:Account {account_id: aid})
MERGE (c)-[:CONCERNS]->(a)"""

ADD_NOTE = """WITH $case_id AS cid
MATCH (c:Case {case_id: cid})
CREATE (c)-[:HAS_NOTE]->(:CaseNote {note_id: $note_id, case_id: cid, at: $at, by_key: $by_key,
    by_role: $by_role, by_name: $by_name, kind: $kind, text: $text})
SET c.updated_at = $at
RETURN cid"""

CLAIM = """WITH $case_id AS cid
MATCH (c:Case {case_id: cid})
WHERE c.assignee IS NULL AND c.status <> 'closed'
SET c.assignee = $key, c.assignee_name = $name, c.updated_at = $at,
    c.status = CASE c.status WHEN 'open' THEN 'in_review' ELSE c.status END
RETURN c.status"""

# $holder: the assignee the caller must be (an investigator hands on their own case), or null.
ASSIGN = """WITH $case_id AS cid
MATCH (c:Case {case_id: cid})
WHERE c.status <> 'closed' AND ($holder IS NULL OR c.assignee = $holder)
SET c.assignee = $key, c.assignee_name = $name, c.updated_at = $at,
    c.status = CASE c.status WHEN 'open' THEN 'in_review' ELSE c.status END
RETURN c.status"""

SET_STATUS = """WITH $case_id AS cid
MATCH (c:Case {case_id: cid})
WHERE c.status IN $from AND ($holder IS NULL OR c.assignee = $holder)
OPTIONAL MATCH (c)-[:HAS_PROPOSAL]->(p:SanctionProposal {status: 'proposed'})
WITH c, count(p) AS pending
WHERE pending = 0 OR $status <> 'closed'
SET c.status = $status, c.disposition = $disposition, c.disposition_reason = $reason,
    c.closed_at = $closed_at, c.updated_at = $at
RETURN c.status"""

# One pending proposal per case; proposing puts the case in pending_approval.
CREATE_PROPOSAL = """WITH $case_id AS cid
MATCH (c:Case {case_id: cid})
WHERE c.status IN ['open', 'in_review'] AND ($holder IS NULL OR c.assignee = $holder)
OPTIONAL MATCH (c)-[:HAS_PROPOSAL]->(p:SanctionProposal {status: 'proposed'})
WITH c, count(p) AS pending
WHERE pending = 0
CREATE (c)-[:HAS_PROPOSAL]->(:SanctionProposal {proposal_id: $proposal_id, case_id: c.case_id,
    group_id: c.group_id, action: $action, note: $note, status: 'proposed', proposed_by: $key,
    proposed_role: $role, proposed_name: $name, proposed_at: $at})
SET c.status = 'pending_approval', c.updated_at = $at
RETURN c.case_id"""

PROPOSAL = """WITH $proposal_id AS pid
MATCH (c:Case)-[:HAS_PROPOSAL]->(p:SanctionProposal {proposal_id: pid})
RETURN c.case_id, p.status, p.proposed_by, p.action"""

# Four eyes: the key that proposed can never match here. A rejection returns the case to review.
DECIDE_PROPOSAL = """WITH $proposal_id AS pid
MATCH (c:Case)-[:HAS_PROPOSAL]->(p:SanctionProposal {proposal_id: pid})
WHERE p.status = 'proposed' AND p.proposed_by <> $key AND c.case_id = $case_id
SET p.status = $outcome, p.decided_by = $key, p.decided_role = $role, p.decided_name = $name,
    p.decided_at = $at, p.decision_note = $note, c.updated_at = $at,
    c.status = CASE WHEN $outcome = 'rejected' AND c.status = 'pending_approval'
                    THEN 'in_review' ELSE c.status END
RETURN p.proposal_id"""

# An approved, not yet applied proposal for this group and action (action_taken needs one).
APPROVED_PROPOSAL = """WITH $group_id AS gid
MATCH (c:Case {group_id: gid})-[:HAS_PROPOSAL]->(p:SanctionProposal)
WHERE p.status = 'approved' AND p.action = $action
RETURN p.proposal_id, c.case_id ORDER BY p.decided_at LIMIT 1"""

APPLY_PROPOSAL = """WITH $proposal_id AS pid
MATCH (c:Case)-[:HAS_PROPOSAL]->(p:SanctionProposal {proposal_id: pid})
WHERE p.status = 'approved'
SET p.status = 'applied', p.decision_id = $decision_id, p.applied_at = $at, c.updated_at = $at
RETURN c.case_id"""

# --- the analysis' side: cases following their groups from run to run -------------------------

SYNC_CASES = """MATCH (c:Case) WHERE c.group_id IS NOT NULL
RETURN c.case_id, c.group_id, c.status, c.opened_at, coalesce(c.detected, false), c.verdict,
    c.due_at, c.assignee, c.assignee_name"""

RUN_GROUPS = """WITH $run_id AS run
MATCH (g:Group {run_id: run})
RETURN g.group_id, g.verdict, g.lineage, coalesce(g.parents, []), g.member_count"""

CASE_ROWS = "UNWIND range(0, size($case_id) - 1) AS i\n"

CREATE_CASES = (
    CASE_ROWS
    + """CREATE (:Case {case_id: $case_id[i], group_id: $group_id[i], title: $title[i],
    status: 'open', verdict: $verdict[i], origin: $origin[i], opened_at: $at, opened_by: 'analysis',
    due_at: $due_at[i], updated_at: $at, detected: true, last_run_id: $run_id, account_ids: []})"""
)

# The case now stands for this group of this run: id, verdict, due date, and ABOUT its node.
FOLLOW_GROUPS = (
    CASE_ROWS
    + """WITH i, $case_id[i] AS cid
MATCH (c:Case {case_id: cid})
SET c.group_id = $group_id[i], c.verdict = $verdict[i], c.due_at = $due_at[i],
    c.detected = true, c.last_run_id = $run_id, c.updated_at = $at
WITH c, $group_id[i] AS gid
MATCH (g:Group {group_id: gid}) WHERE g.run_id = $run_id
MERGE (c)-[:ABOUT]->(g)"""
)

MARK_UNDETECTED = """UNWIND $case_id AS cid
MATCH (c:Case {case_id: cid})
SET c.detected = false, c.updated_at = $at"""

ADD_NOTES = (
    CASE_ROWS
    + """WITH i, $case_id[i] AS cid
MATCH (c:Case {case_id: cid})
CREATE (c)-[:HAS_NOTE]->(:CaseNote {note_id: $note_id[i], case_id: cid, at: $at, by_key: 'analysis',
    by_role: 'system', by_name: 'analysis', kind: 'system', text: $text[i]})
SET c.updated_at = $at"""
)

# Merged cases: closed as merged, their thread and proposals shared with the case they joined
# (the notes keep the case id they were written in), their assignee taken if it has none. A
# case a person closed while the analysis ran keeps its own disposition.
MERGE_CASES = (
    CASE_ROWS
    + """WITH i, $case_id[i] AS cid, $into[i] AS target
MATCH (a:Case {case_id: cid}) WHERE a.status <> 'closed'
MATCH (b:Case {case_id: target})
SET a.status = 'closed', a.disposition = 'merged', a.merged_into = target, a.closed_at = $at,
    a.updated_at = $at, b.assignee = coalesce(b.assignee, a.assignee),
    b.assignee_name = CASE WHEN b.assignee = a.assignee THEN coalesce(b.assignee_name, a.assignee_name)
                      ELSE b.assignee_name END
MERGE (a)-[:MERGED_INTO]->(b)
WITH a, b
OPTIONAL MATCH (a)-[:HAS_NOTE|HAS_PROPOSAL]->(x)
WITH b, collect(x) AS items
UNWIND items AS x
WITH b, x, CASE WHEN x:CaseNote THEN [1] ELSE [] END AS note,
    CASE WHEN x:SanctionProposal THEN [1] ELSE [] END AS proposal
FOREACH (_ IN note | MERGE (b)-[:HAS_NOTE]->(x))
FOREACH (_ IN proposal | MERGE (b)-[:HAS_PROPOSAL]->(x))"""
)

LINK_CASES = (
    CASE_ROWS
    + """WITH i, $case_id[i] AS cid, $other[i] AS oid
MATCH (a:Case {case_id: cid})
MATCH (b:Case {case_id: oid})
MERGE (a)-[r:LINKED]->(b)
SET r.why = $why[i]"""
)

CREATE_AUDITS = """UNWIND range(0, size($target) - 1) AS i
CREATE (:AuditEntry {at: $at, key_id: 'analysis', role: 'system', action: $action[i],
    target: $target[i], detail: $detail[i]})"""
