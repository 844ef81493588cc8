"""Statements of the investigator tools: temporal cycle search, the Cypher editor's schema and
saved queries. Written in the subset FalkorDB and Neo4j 5 both run (tests/test_cypher_lint.py)."""

from __future__ import annotations

# Internal transfers in a time window, sender -> receiver (the way the money moved).
TRANSFERS_IN_WINDOW = """MATCH (s:Account)-[t:TRANSFER]->(r:Account)
WHERE t.ts >= $since AND t.ts < $until AND t.amount >= $min_amount AND s <> r
RETURN s.account_id, r.account_id, t.ts, t.amount, t.event_id, t.asset"""

# The current members of a group (a set of accounts for the cycle search).
GROUP_MEMBER_IDS = """WITH $group_id AS gid
MATCH (a:Account)-[:MEMBER_OF]->(g:Group {group_id: gid, current: true})
RETURN a.account_id ORDER BY a.account_id"""
