"""Reads behind the UI's drill-down: the records a link, an account's activity or an ego
network's colouring is made of. Indexed keys are bound with WITH first (see graph/statements.py)."""

from __future__ import annotations

IDENTIFIER_RELS = "USED_IP|USED_DEVICE|DEPOSIT_FROM|WITHDRAW_TO"

# Money moving between two accounts, both ways (TRANSFER points where the money went). One
# transfer is usually two records: the sender's withdrawal and the receiver's deposit.
PAIR_TRANSFERS = """UNWIND [[$a, $b], [$b, $a]] AS pair
WITH pair[0] AS src, pair[1] AS dst
MATCH (s:Account {account_id: src})-[t:TRANSFER]->(d:Account {account_id: dst})
RETURN src, dst, t.ts, t.amount, t.asset, t.method, t.event_id, t.reported_by
ORDER BY t.ts, t.event_id LIMIT $limit"""

# The identifiers both accounts used (nodes), then each account's uses of them.
PAIR_SHARED = f"""WITH $a AS a, $b AS b
MATCH (x:Account {{account_id: a}})-[:{IDENTIFIER_RELS}]->(n)<-[:{IDENTIFIER_RELS}]-(y:Account {{account_id: b}})
RETURN DISTINCT id(n), labels(n)[0], coalesce(n.ip, n.device_id, n.key)"""

IDENTIFIER_USES = f"""UNWIND $accounts AS aid
MATCH (x:Account {{account_id: aid}})-[r:{IDENTIFIER_RELS}]->(n)
WHERE id(n) IN $ids
RETURN aid, id(n), type(r), r.times, r.ts, r.amount, r.asset"""

# An account's transfers, one direction per statement (merged and paged by the caller).
TRANSFERS_OUT = """WITH $account_id AS aid
MATCH (s:Account {account_id: aid})-[t:TRANSFER]->(o:Account)
WHERE t.ts > $after_ts OR (t.ts = $after_ts AND t.event_id > $after_id)
RETURN aid, o.account_id, t.ts, t.amount, t.asset, t.method, t.event_id, t.reported_by
ORDER BY t.ts, t.event_id LIMIT $limit"""

TRANSFERS_IN = """WITH $account_id AS aid
MATCH (o:Account)-[t:TRANSFER]->(s:Account {account_id: aid})
WHERE t.ts > $after_ts OR (t.ts = $after_ts AND t.event_id > $after_id)
RETURN o.account_id, aid, t.ts, t.amount, t.asset, t.method, t.event_id, t.reported_by
ORDER BY t.ts, t.event_id LIMIT $limit"""

# An account's logins: the times kept on its USED_IP relationships.
LOGINS = """WITH $account_id AS aid
MATCH (a:Account {account_id: aid})-[e:USED_IP]->(x:IP)
UNWIND e.times AS ts
WITH ts, x.ip AS ip
WHERE ts > $after_ts OR (ts = $after_ts AND ip > $after_id)
RETURN ts, ip ORDER BY ts, ip LIMIT $limit"""

# The current group (and its verdict) of each account drawn in an ego network.
ACCOUNT_GROUPS = """UNWIND $accounts AS aid
MATCH (a:Account {account_id: aid})-[:MEMBER_OF]->(g:Group {current: true})
RETURN aid, g.group_id, g.verdict"""

# A group's internal transfers with their times: the timeline's transfer events.
MEMBER_TRANSFER_EVENTS = """UNWIND $members AS aid
MATCH (s:Account {account_id: aid})-[t:TRANSFER]->(b:Account)
WHERE b.account_id IN $members
RETURN t.ts, s.account_id, b.account_id, t.amount, t.asset, t.event_id, t.reported_by
ORDER BY t.ts LIMIT $limit"""
