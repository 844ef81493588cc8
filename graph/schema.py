"""Labels, keys and indexes of the linkscope graph (see docs/graph-model.md)."""

from __future__ import annotations

import logging

from graph.backend import GraphBackend
from graph.dialect import NodeIndex, index_statement, is_already_indexed_error
from linkscope.errors import QueryError

log = logging.getLogger(__name__)

INDEXES: tuple[NodeIndex, ...] = (
    NodeIndex("Account", "account_id"),
    NodeIndex("IP", "ip"),
    NodeIndex("Device", "device_id"),
    NodeIndex("FundingSource", "key"),
    NodeIndex("Trade", "trade_id"),
    NodeIndex("Symbol", "symbol"),
    NodeIndex("Order", "order_id"),
    NodeIndex("EnforcementAction", "key"),
    NodeIndex("IngestRun", "run_id"),
    NodeIndex("IngestState", "key"),
    NodeIndex("AnalysisRun", "run_id"),
    NodeIndex("Group", "group_id", unique=False),  # one node per run: ids repeat across runs
    NodeIndex("Group", "run_id", unique=False),
    NodeIndex("Flag", "run_id", unique=False),
    NodeIndex("Decision", "decision_id"),
    NodeIndex("Decision", "group_id", unique=False),
    NodeIndex("Suppression", "suppression_id"),
    NodeIndex("ChangeEvent", "seq"),
    NodeIndex("WebhookDelivery", "webhook_id", unique=False),
    NodeIndex("Case", "case_id"),
    NodeIndex("Case", "group_id", unique=False),  # closed cases keep their group's id
    NodeIndex("CaseNote", "note_id"),
    NodeIndex("SanctionProposal", "proposal_id"),
)


# The property that names a node of each label to people (API node ids are `Label:key`).
NODE_KEYS = {
    "Account": "account_id",
    "IP": "ip",
    "Device": "device_id",
    "FundingSource": "key",
    "Trade": "trade_id",
    "Symbol": "symbol",
    "Order": "order_id",
    "EnforcementAction": "key",
    "Group": "group_id",
    "Decision": "decision_id",
    "Case": "case_id",
    "CaseNote": "note_id",
    "SanctionProposal": "proposal_id",
}


def ensure_schema(store: GraphBackend) -> None:
    """Create every index; safe to call on every start."""
    for index in INDEXES:
        try:
            store.run(index_statement(store.dialect, index))
        except QueryError as exc:
            if not is_already_indexed_error(str(exc)):
                raise
