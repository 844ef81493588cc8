"""Request and response models of the HTTP API: typed, documented, separate from the graph."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.triage_schemas import SuppressionIn
from graph.values import param_problem

Verdict = Literal["violation", "suspected", "cleared"]
Action = Literal[
    "none",
    "request_report",
    "freeze_pending_review",
    "restrict_new_positions",
    "permanent_restriction",
]
DecisionKind = Literal["confirm", "dismiss", "escalate", "action_taken"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorDetail(_Out):
    status: int = Field(description="HTTP status code, repeated for clients that lose it.")
    code: str = Field(description="Stable machine-readable code, e.g. `not_found`, `forbidden`.")
    message: str = Field(description="What went wrong, for people.")


class ErrorBody(_Out):
    error: ErrorDetail


class GroupSummary(_Out):
    group_id: str = Field(description="Stable across runs while membership stays mostly the same.")
    run_id: str = Field(description="The analysis run (assessment version) this verdict is from.")
    verdict: Verdict
    score: float = Field(ge=0, le=1, description="0..1, higher is worse.")
    clauses: list[str] = Field(description="Policy clauses found (names as in the data contract).")
    recommended_action: Action
    member_count: int
    lineage: str = Field(description="new | unchanged | continued | merged | split")
    changed_at: int = Field(description="Epoch ms when this group's assessment last changed.")
    current: bool = Field(description="Whether this is the latest run's assessment.")
    quote_volume: float = Field(description="Quote volume the members traded with each other.")
    volume: float = Field(
        description="Quote volume the findings involve: wash and concentrated trading among "
        "members, the members' synchronized trades with the market, spoofed notional, "
        "self-matched volume."
    )
    priority: float = Field(
        description="0..100, the queue's order: volume involved and its share of the symbol, "
        "repeat offence, recency, members, confidence (score)."
    )
    priority_reasons: list[str] = Field(description="What the priority is made of, in words.")
    decision: str | None = Field(
        default=None, description="The latest decision recorded on the group, if any."
    )
    members_preview: list[str] = Field(description="Up to 10 member account ids.")


class Me(_Out):
    key_id: str
    role: str
    name: str


class TimelineEvent(_Out):
    ts: int
    kind: Literal["trade", "login", "transfer", "sync"]
    account: str
    counterparty: str | None = None
    detail: str
    ref: str | None = Field(None, description="The trade id or transfer event id, if any.")


class GroupPage(_Out):
    items: list[GroupSummary]
    run_id: str | None = Field(description="The run every page of this listing is read from.")
    quote_assets: list[str] = Field(
        [], description="The quote assets of the traded symbols (`BASE_QUOTE`): the unit of "
        "`quote_volume` when there is one."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class Member(_Out):
    account_id: str
    role: str = Field(description="controller_candidate | member | counterparty")
    account_type: str
    status: str
    flags: list[str]


class Decision(_Out):
    decision_id: str
    group_id: str
    run_id: str = Field(description="The assessment version the decision was made on.")
    verdict: str = Field(description="The verdict at the time of the decision.")
    decision: DecisionKind
    action: Action | None
    note: str
    by_key: str
    by_role: str
    at: int
    by_name: str = Field("", description="The key's display name when the decision was made.")


class GroupDetail(GroupSummary):
    reasons: list[str]
    evidence: dict[str, Any] = Field(
        description="Links, wash sets, synchronized pairs, flags, history."
    )
    parents: list[str] = Field(description="Ids of the previous run's groups this one came from.")
    members: list[Member]
    decisions: list[Decision]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: DecisionKind = Field(
        description="confirm / dismiss / escalate (investigators), action_taken (enforcement)."
    )
    action: Action | None = Field(
        default=None, description="Required with action_taken: the action enforcement took."
    )
    note: str = Field(default="", max_length=4000)
    suppress: SuppressionIn | None = Field(
        default=None,
        description="With `dismiss`: the reason the analysis can use (office IP, stock device, "
        "household, market-maker pair); it becomes a suppression for the next runs.",
    )
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Admins only: record a freeze, restriction or closure without an approved "
        "proposal (four eyes), for this reason; logged as an override.",
    )


class Identifier(_Out):
    kind: Literal["ip", "device", "funding"]
    value: str
    relationship: str
    uses: int = Field(description="Logins or funding events of this account with it.")
    shared_by: int = Field(description="Accounts using this identifier.")
    specificity: float = Field(
        description="0..1: how much sharing it would say under the current run's settings (1: "
        "this account's own or shared by a few; 0: a hub such as a carrier NAT or VPN exit)."
    )


class AccountFlag(_Out):
    clause: str
    score: float
    evidence: dict[str, Any]


class AccountProfile(_Out):
    account_id: str
    properties: dict[str, Any]
    identifiers: list[Identifier]
    flags: list[AccountFlag]
    group_id: str | None


class GraphNode(_Out):
    id: str = Field(description="`Label:key`, e.g. `Account:U0000001`, `IP:10.0.0.1`.")
    label: str
    key: str
    properties: dict[str, Any]


class GraphEdge(_Out):
    source: str
    target: str
    type: str
    properties: dict[str, Any]


class Neighborhood(_Out):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = Field(description="True when the node limit cut the expansion short.")


class CypherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=20_000)
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Names are Cypher identifiers: letters, digits, _. Values are JSON: integers "
        "within the signed 64-bit range, nesting at most 32 levels, map keys non-empty and "
        "without backticks.",
    )
    timeout_ms: int | None = Field(default=None, ge=1, description="Capped by the server setting.")

    @field_validator("params")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in value if not PARAM_NAME.fullmatch(k)]
        if bad:
            raise ValueError(f"parameter names must be identifiers: {bad[:3]}")
        problem = param_problem(value)
        if problem:
            raise ValueError(problem)
        _utf8(json.dumps(value, ensure_ascii=False))
        return value

    @field_validator("query")
    @classmethod
    def _text(cls, value: str) -> str:
        return _utf8(value)


PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _utf8(text: str) -> str:
    """Lone surrogates cannot travel to the store; refuse them here (422), not there (500)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text is not valid Unicode (lone surrogate)") from exc
    return text


class CypherOut(_Out):
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = Field(description="True when more rows than the row cap were returned.")
    elapsed_ms: float


class RunInfo(_Out):
    run_id: str
    status: str = Field(
        description="queued | running | writing | current | superseded | shadow (a dry run, "
        "not current) | discarded | failed"
    )
    started_at: int | None
    finished_at: int | None
    groups: int | None
    flags: int | None
    steps: list[str] = Field(default_factory=list, description="Steps done (runs in progress).")
    error: str | None = None


class AuditEntry(_Out):
    at: int
    key_id: str
    role: str
    action: str
    target: str
    detail: str


class Health(_Out):
    status: str


class Fill(_Out):
    """One fill from the event store (contract columns of `trades`)."""

    trade_id: str
    ts: int = Field(description="UTC epoch milliseconds.")
    symbol: str
    price: float
    qty: float
    buyer_id: str
    seller_id: str
    taker_side: str | None = None
    buy_order_id: str | None = None
    sell_order_id: str | None = None
    market: str | None = None


class OrderEvent(_Out):
    """One order from the event store (contract columns of `orders`)."""

    order_id: str
    account_id: str
    symbol: str
    side: str
    type: str
    price: float | None = None
    qty: float
    placed_at: int = Field(description="UTC epoch milliseconds.")
    ended_at: int | None = None
    final_status: str
    filled_qty: float | None = None
    channel: str | None = None


class FillPage(_Out):
    items: list[Fill]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class OrderPage(_Out):
    items: list[OrderEvent]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class MarketTrade(_Out):
    """A trade of the whole market in the replayed symbol (who traded is left out)."""

    trade_id: str
    ts: int = Field(description="UTC epoch milliseconds.")
    price: float
    qty: float
    taker_side: str | None = None


class ReplayOut(_Out):
    """Orders and fills of some accounts in one symbol and time range, against the market."""

    accounts: list[str]
    symbol: str
    since: int = Field(description="Start of the range (UTC epoch ms, inclusive).")
    until: int = Field(description="End of the range (UTC epoch ms, exclusive).")
    orders: list[OrderEvent] = Field(
        description="Orders live in the range (placed before `until`, not ended before `since`), "
        "by placement time; `channel` tells API from manual (web, app) orders."
    )
    fills: list[Fill] = Field(description="The accounts' fills in the range, oldest first.")
    market: list[MarketTrade] = Field(description="The symbol's trades in the range, oldest first.")
    totals: dict[str, int] = Field(
        description="Rows in the range per list (`orders`, `fills`, `market`) before the cap."
    )
    cap: int = Field(description="Most rows returned per list.")
    capped: bool = Field(description="True when a list holds fewer rows than its total.")
