"""Request and response models of ``/v1/cases``: cases, their thread, sanction proposals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas import Decision

CaseStatus = Literal["open", "in_review", "pending_approval", "closed"]
Disposition = Literal["confirmed", "dismissed", "escalated"]
# The sanctions that need a second person's approval (four eyes) before action_taken.
Sanction = Literal["freeze_pending_review", "restrict_new_positions", "permanent_restriction"]
SANCTIONS: frozenset[str] = frozenset(Sanction.__args__)  # type: ignore[attr-defined]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseSummary(_Out):
    case_id: str
    group_id: str | None = Field(description="The group the case follows (stable across runs).")
    title: str
    status: CaseStatus
    verdict: str | None = Field(description="The group's verdict in the latest run it was found.")
    origin: str = Field(description="analysis | split | manual")
    assignee: str | None = Field(description="Key id of the person working the case.")
    assignee_name: str | None
    opened_at: int
    opened_by: str = Field(description="`analysis` or the key id that opened it.")
    due_at: int = Field(description="Epoch ms: opened_at plus the SLA of the group's verdict.")
    overdue: bool = Field(description="Not closed and past its due date.")
    disposition: str | None = Field(
        description="On closed cases: confirmed | dismissed | escalated | merged."
    )
    disposition_reason: str | None
    closed_at: int | None
    detected: bool = Field(description="Whether the latest run still finds the group.")
    last_run_id: str | None = Field(description="The latest run that found the group.")
    account_ids: list[str] = Field(description="For a case opened on accounts (no group).")
    merged_into: str | None = Field(description="The case this one was merged into.")
    updated_at: int


class CaseNote(_Out):
    note_id: str
    case_id: str = Field(description="The case it was written in (merged threads keep it).")
    at: int
    by_key: str
    by_role: str
    by_name: str
    kind: str = Field(description="note (a person) | system (the analysis, a state change)")
    text: str


class Proposal(_Out):
    proposal_id: str
    case_id: str
    group_id: str | None
    action: Sanction
    note: str
    status: Literal["proposed", "approved", "rejected", "applied"]
    proposed_by: str
    proposed_role: str
    proposed_name: str
    proposed_at: int
    decided_by: str | None
    decided_role: str | None
    decided_name: str | None
    decided_at: int | None
    decision_note: str | None
    decision_id: str | None = Field(description="The action_taken decision that applied it.")


class CaseLink(_Out):
    kind: Literal["linked", "merged_into", "merged_from"]
    case_id: str
    group_id: str | None
    status: str
    why: str


class CaseDetail(CaseSummary):
    notes: list[CaseNote]
    proposals: list[Proposal]
    links: list[CaseLink]
    decisions: list[Decision] = Field(description="Decisions recorded on the case's group.")


class CasePage(_Out):
    items: list[CaseSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class CaseIn(_In):
    group_id: str | None = Field(default=None, max_length=200)
    account_ids: list[str] | None = Field(default=None, min_length=1, max_length=500)
    title: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _one_subject(self) -> CaseIn:
        if (self.group_id is None) == (self.account_ids is None):
            raise ValueError("give group_id or account_ids (one of them)")
        return self


class Assignee(_Out):
    key_id: str
    name: str
    role: str


class AssignIn(_In):
    assignee: str = Field(min_length=1, max_length=64, description="Key id of the new assignee.")


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=4000)


class StatusIn(_In):
    status: Literal["in_review", "closed"]
    disposition: Disposition | None = Field(default=None, description="Required to close.")
    reason: str = Field(default="", max_length=4000, description="Required to dismiss.")

    @model_validator(mode="after")
    def _closing(self) -> StatusIn:
        if self.status == "closed" and self.disposition is None:
            raise ValueError("closing a case needs a disposition")
        if self.status != "closed" and self.disposition is not None:
            raise ValueError("a disposition is given only when closing")
        if self.disposition == "dismissed" and not self.reason.strip():
            raise ValueError("a dismissal needs a reason")
        return self


class ProposalIn(_In):
    action: Sanction
    note: str = Field(default="", max_length=4000)


class ProposalDecisionIn(_In):
    note: str = Field(default="", max_length=4000)
