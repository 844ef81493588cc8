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

# The Cypher editor's schema: what completion offers. db.labels()-style procedures both engines
# have; a property key list per label would need a scan, so keys come from db.propertyKeys().
SCHEMA_LABELS = "CALL db.labels() YIELD label RETURN label ORDER BY label"
SCHEMA_REL_TYPES = (
    "CALL db.relationshipTypes() YIELD relationshipType "
    "RETURN relationshipType ORDER BY relationshipType"
)
SCHEMA_PROPERTY_KEYS = (
    "CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey ORDER BY propertyKey"
)

# Saved queries, one node per (key, name): a person's own library in the console.
SAVED_QUERIES = """WITH $key_id AS kid
MATCH (s:SavedQuery {key_id: kid})
RETURN s.name, s.query, s.params, s.saved_at ORDER BY s.name"""

SAVE_QUERY = """MERGE (s:SavedQuery {key_id: $key_id, name: $name})
SET s.query = $query, s.params = $params, s.saved_at = $saved_at
RETURN s.saved_at"""

DELETE_SAVED_QUERY = """MATCH (s:SavedQuery {key_id: $key_id, name: $name})
DELETE s RETURN count(*)"""

# Example investigations offered in the console; every one runs on both engines (tested on the
# embedded store, linted by Neo4j's front-end like every statement here).
EXAMPLES = (
    {
        "name": "Accounts sharing a device with a group",
        "description": "Accounts outside the group that logged in from a device a member used.",
        "query": """MATCH (g:Group {group_id: $group_id, current: true})<-[:MEMBER_OF]-(m:Account)
MATCH (m)-[:USED_DEVICE]->(d:Device)<-[:USED_DEVICE]-(o:Account)
WHERE NOT (o)-[:MEMBER_OF]->(g)
RETURN o.account_id AS account, collect(DISTINCT d.device_id) AS devices,
       collect(DISTINCT m.account_id) AS members
ORDER BY size(devices) DESC, account LIMIT 50""",
        "params": {"group_id": ""},
    },
    {
        "name": "Money paths between two accounts",
        "description": "Transfers and repeated trading (seller to buyer) from one account to "
        "another, up to three hops. For time-ordered loops use the account page's cycle search.",
        "query": """MATCH (a:Account {account_id: $from})
MATCH p = (a)-[:TRANSFER|TRADES_WITH*1..3]->(b:Account {account_id: $to})
RETURN p LIMIT 25""",
        "params": {"from": "", "to": ""},
    },
    {
        "name": "Groups whose members were sanctioned before",
        "description": "Current groups with members that have earlier enforcement actions.",
        "query": """MATCH (g:Group {current: true})<-[:MEMBER_OF]-(a:Account)-[:SANCTIONED]->(e:EnforcementAction)
RETURN g.group_id AS group_id, g.verdict AS verdict, count(DISTINCT a) AS sanctioned_members,
       collect(DISTINCT e.action) AS actions, max(e.ts) AS last_action
ORDER BY sanctioned_members DESC, group_id LIMIT 50""",
        "params": {},
    },
)
