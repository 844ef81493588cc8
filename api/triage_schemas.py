"""Request and response models of triage: suppressions, shadow runs and their comparison,
dispositions, the change feed and webhook subscriptions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from linkscope.errors import InputError

SuppressionReason = Literal["office_ip", "stock_device", "household", "market_maker_pair"]
ChangeKind = Literal["verdict_changed", "new_violation", "case_closed", "action_approved"]
ID = Field(min_length=1, max_length=256)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reason: SuppressionReason = Field(
        description="office_ip / stock_device (give `identifier`), household (give 2+ "
        "`accounts`), market_maker_pair (give exactly 2 `accounts`)."
    )
    identifier: str | None = Field(
        default=None, min_length=1, max_length=256, description="The IP or device id."
    )
    accounts: list[str] | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=4000, description="Why, for the next person.")
    expires_at: int | None = Field(
        default=None, ge=0, description="Epoch ms; default 90 days from now. Must be ahead."
    )

    @model_validator(mode="after")
    def _fits_reason(self) -> SuppressionIn:
        if self.reason in ("office_ip", "stock_device"):
            if self.identifier is None or self.accounts:
                raise ValueError(f"{self.reason} takes an identifier and no accounts")
        else:
            wanted = 2 if self.reason == "market_maker_pair" else None
            ids = self.accounts or []
            if self.identifier is not None or len(set(ids)) < 2:
                raise ValueError(f"{self.reason} takes two or more distinct accounts")
            if wanted and len(set(ids)) != wanted:
                raise ValueError("market_maker_pair takes exactly two accounts")
            if any(not a.strip() or len(a) > 256 for a in ids):
                raise ValueError("account ids are non-empty strings of at most 256 characters")
        return self


class Suppression(_Out):
    suppression_id: str
    scope: Literal["identifier", "accounts", "pair"]
    reason: SuppressionReason
    identifier_kind: str | None
    identifier: str | None
    accounts: list[str]
    note: str
    group_id: str | None = Field(description="The group whose dismissal made it, if any.")
    by_key: str
    by_role: str
    created_at: int
    expires_at: int
    revoked_at: int | None
    revoked_by: str | None
    active: bool = Field(description="In force: not revoked and not expired.")


class DispositionRow(_Out):
    key: str = Field(description="A run id, a clause, or `all`.")
    confirmed: int
    decided: int
    precision: float | None = Field(description="confirmed / decided; null when none decided.")


class Dispositions(_Out):
    by_run: list[DispositionRow]
    by_clause: list[DispositionRow]
    overall: DispositionRow


class GroupChange(_Out):
    group_id: str
    change: Literal["appears", "disappears", "verdict", "clauses", "action"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class RunComparison(_Out):
    shadow_run: str
    current_run: str | None
    base_run: str | None = Field(description="The current run when the shadow run was made.")
    status: str
    counts: dict[str, int]
    changes: list[GroupChange]


class ChangeEvent(_Out):
    seq: int = Field(description="Position in the feed; increases by one per event.")
    kind: ChangeKind
    at: int
    subject: str = Field(description="What changed: `group:<id>`, `case:<id>`, …")
    run_id: str | None
    payload: dict[str, Any]


class ChangePage(_Out):
    items: list[ChangeEvent]
    next_cursor: str = Field(description="Pass as `after` to read on; the same when empty.")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(min_length=8, max_length=2000, description="http:// or https:// URL.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from api.webhooks import check_url

        try:
            return check_url(value)
        except InputError as exc:
            raise ValueError(str(exc)) from exc

    events: list[ChangeKind] = Field(min_length=1, description="Kinds of change to deliver.")
    description: str = Field(default="", max_length=500)


class Webhook(_Out):
    webhook_id: str
    url: str
    events: list[str]
    description: str
    created_at: int
    created_by: str
    delivered_seq: int = Field(description="Last feed position delivered (or given up on).")
    secret: str | None = Field(
        default=None, description="HMAC-SHA256 key of the signatures; shown once, at creation."
    )


class Delivery(_Out):
    webhook_id: str
    seq: int
    attempt: int
    at: int
    status_code: int | None
    outcome: Literal["delivered", "retrying", "gave_up"]
    error: str
