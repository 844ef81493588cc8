"""Every write statement of the ingest, in the Cypher subset FalkorDB and Neo4j 5 share.

Parameters are passed column-wise (``$trade_id[i]``, ``$ts[i]`` …) under
``UNWIND range(0, size($col) - 1) AS i``: FalkorDB parses a list of scalars per column several
times faster than a list of maps (measured with bench/bench_ingest.py), and Neo4j runs it unchanged.
Rows reach a node by internal id (``id(n)``, kept from its MERGE) instead of an index lookup.
An indexed key is first bound with ``WITH i, $col[i] AS key``: FalkorDB's planner uses the
index for a variable but scans the label for the expression ``$col[i]`` (16 s vs 0.07 s for
20k MERGEs on 20k accounts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

ROWS = "UNWIND range(0, size($k) - 1) AS i\n"


def columns(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Turn rows into one list per column; ``k`` is the row-count anchor of ``ROWS``."""
    out: dict[str, Any] = {name: list(map(itemgetter(name), rows)) for name in names}
    out["k"] = list(range(len(rows)))
    return out


# Nodes of an indexed label are created with every property in one pattern, never given one by
# a later SET: FalkorDB indexes a node again on any SET (any property, even the same value), and
# the index's garbage collector then forks the whole server every ~30 s to reclaim the old
# entries (at L: 1M accounts, 1M IPs and 1.4M funding sources indexed twice, three forks of
# 60-85 s of CPU each during the ingest). An account the store holds already is not written:
# the ingest's stored check has found it identical (other values are quarantined).
CREATE_ACCOUNTS = (
    ROWS
    + """CREATE (a:Account {account_id: $account_id[i], created_at: $created_at[i],
    kyc_level: $kyc_level[i], country: $country[i], account_type: $account_type[i],
    api_authorized: $api_authorized[i], status: $status[i]})
RETURN a.account_id AS account_id, id(a) AS node_id"""
)

ACCOUNT_IDS = "MATCH (a:Account) RETURN a.account_id AS account_id, id(a) AS node_id"

# Login times are kept per (account, identifier) as a set of epoch-ms values: that set is
# what makes re-ingest exact, and the times are the evidence for "same IP within minutes".
# The loader sends each pair's times sorted and distinct, so the new first and last times are
# its ends: no pass over the whole stored set (two ``reduce`` passes were ~15% of a statement).
_MERGE_TIMES = """WITH e, coalesce(e.times, []) AS known, $times[i] AS incoming
WITH e, known, incoming, [t IN incoming WHERE NOT t IN known] AS fresh
WITH e, known + fresh AS times, size(fresh) AS added, incoming[0] AS low, incoming[-1] AS high
SET e.times = times, e.count = size(times),
    e.first_ts = CASE WHEN e.first_ts IS NULL OR low < e.first_ts THEN low ELSE e.first_ts END,
    e.last_ts = CASE WHEN e.last_ts IS NULL OR high > e.last_ts THEN high ELSE e.last_ts END
RETURN sum(added) AS added"""

# An IP's version is a function of its (normalised) address, so matching on both finds the
# node the address names, and a new one is created whole.
MERGE_LOGIN_IPS = (
    ROWS
    + """WITH i, $ip[i] AS key
MATCH (a) WHERE id(a) = $node[i]
MERGE (n:IP {ip: key, version: $version[i]})
MERGE (a)-[e:USED_IP]->(n)
"""
    + _MERGE_TIMES
)

MERGE_LOGIN_DEVICES = (
    ROWS
    + """WITH i, $device_id[i] AS key
MATCH (a) WHERE id(a) = $node[i]
MERGE (n:Device {device_id: key})
MERGE (a)-[e:USED_DEVICE]->(n)
"""
    + _MERGE_TIMES
)

# A funding event's own values; its method lives on the FundingSource (one per source, not one
# per event: a venue's millions of deposits would repeat it). The backend counts the
# relationships a batch created (``QueryResult.relationships_created``): what was already
# stored adds nothing. A source's key is ``method:ref`` (methods hold no colon), so matching on
# all three finds the node the key names, and a new one is created whole.
MERGE_DEPOSITS = (
    ROWS
    + """WITH i, $source_key[i] AS key
MATCH (a) WHERE id(a) = $node[i]
MERGE (s:FundingSource {key: key, method: $method[i], ref: $ref[i]})
MERGE (a)-[f:DEPOSIT_FROM {event_id: $event_id[i]}]->(s)
SET f.ts = $ts[i], f.asset = $asset[i], f.amount = $amount[i]"""
)

MERGE_WITHDRAWALS = MERGE_DEPOSITS.replace("DEPOSIT_FROM", "WITHDRAW_TO")

# Internal transfers link two accounts directly, in the direction the money moved.
MERGE_TRANSFERS = (
    ROWS
    + """MATCH (src) WHERE id(src) = $from_node[i]
MATCH (dst) WHERE id(dst) = $to_node[i]
MERGE (src)-[f:TRANSFER {event_id: $event_id[i]}]->(dst)
ON CREATE SET f.reported_by = $account_id[i], f.direction = $direction[i]
SET f.ts = $ts[i], f.asset = $asset[i], f.amount = $amount[i], f.method = $method[i]"""
)

# The aggregated counterparty relationship (seller -> buyer, per symbol) of pairs with repeated
# fills, computed from the event store: what exploration and Cypher users follow instead of
# millions of fills. Totals are set, not added, so writing them twice changes nothing.
SET_TRADE_PAIRS = (
    ROWS
    + """MATCH (s) WHERE id(s) = $seller[i]
MATCH (b) WHERE id(b) = $buyer[i]
MERGE (s)-[e:TRADES_WITH {symbol: $symbol[i]}]->(b)
SET e.trades = $trades[i], e.qty = $qty[i], e.quote = $quote[i],
    e.first_ts = $first_ts[i], e.last_ts = $last_ts[i]"""
)

CREATE_TRADE_PAIRS = (
    ROWS
    + """MATCH (s) WHERE id(s) = $seller[i]
MATCH (b) WHERE id(b) = $buyer[i]
CREATE (s)-[:TRADES_WITH {symbol: $symbol[i], trades: $trades[i], qty: $qty[i],
    quote: $quote[i], first_ts: $first_ts[i], last_ts: $last_ts[i]}]->(b)"""
)

# Asked of the type list first: FalkorDB answers a pattern of a relationship type it has never
# stored by scanning every node (2.4 s at 100k accounts, before the first fills' pairs).
ANY_TRADE_PAIR = """CALL db.relationshipTypes() YIELD relationshipType
WITH relationshipType WHERE relationshipType = 'TRADES_WITH'
MATCH ()-[e:TRADES_WITH]->() RETURN e.symbol LIMIT 1"""

DELETE_TRADE_PAIRS = """MATCH ()-[e:TRADES_WITH]->()
WITH e LIMIT $limit
DELETE e
RETURN count(*) AS deleted"""

GET_STATE = "MATCH (s:IngestState {key: $key}) RETURN s.dirty AS dirty"
SET_STATE = """MERGE (s:IngestState {key: $key})
SET s.dirty = $dirty, s.updated_by = $run_id"""

MERGE_ENFORCEMENT = (
    ROWS
    + """WITH i, $key[i] AS key
MATCH (a) WHERE id(a) = $node[i]
MERGE (x:EnforcementAction {key: key})
ON CREATE SET x.loaded_run = $run_id
SET x.account_id = $account_id[i], x.ts = $ts[i], x.action = $action[i],
    x.clause = $clause[i], x.case_id = $case_id[i]
MERGE (a)-[:SANCTIONED]->(x)
RETURN sum(CASE WHEN x.loaded_run = $run_id THEN 1 ELSE 0 END) AS added"""
)

START_RUN = """MERGE (r:IngestRun {run_id: $run_id})
SET r.started_at = $started_at, r.source = $source, r.status = 'running'"""

FINISH_RUN = """MATCH (r:IngestRun {run_id: $run_id})
SET r.finished_at = $finished_at, r.status = $status, r.summary = $summary"""
