"""Response models of the temporal cycle search (``GET /v1/accounts/{id}/cycles`` and kin)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CycleHop(_Out):
    sender: str
    receiver: str
    kind: Literal["trade", "transfer"] = Field(
        description="A fill (seller -> buyer) or an internal transfer."
    )
    ref: str = Field(description="trade_id of the fill or event_id of the transfer.")
    unit: str = Field(
        description="Symbol of the fill (amount in its quote) or asset of the transfer."
    )
    ts: int = Field(description="UTC epoch milliseconds.")
    amount: float = Field(description="Quote value (price x qty) of a fill, amount of a transfer.")
    retained: float | None = Field(description="This hop's amount over the previous hop's.")


class CycleLoop(_Out):
    start: str
    accounts: list[str] = Field(description="The loop's accounts, from its start.")
    hops: list[CycleHop]
    span_ms: int = Field(description="From the first hop to the last.")
    retained: float = Field(description="The last hop's amount over the first's.")
    score: float = Field(description="How unusual the loop is (log10 units): follow + structure.")
    structure: float = Field(description="Penalty for hops through hubs (0 or less).")
    follow: float = Field(description="How rare it is that funds move on this whole at every hop.")
    case_hook: dict[str, Any] = Field(
        description="What opening this loop as a case needs: accounts, trade and transfer ids, times."
    )


class CycleSearchOut(_Out):
    since: int = Field(description="Window start (UTC epoch ms, inclusive).")
    until: int = Field(description="Window end (exclusive).")
    seeds: list[str]
    loops: list[CycleLoop] = Field(description="Most unusual first.")
    sequences: int = Field(description="Distinct account sequences found before the result cap.")
    expansions: int
    elapsed_ms: float
    complete: bool = Field(description="False when the search stopped at a limit.")
    stopped: str | None = Field(description="Which limit stopped it: expansion or time budget.")


class CyclesIn(BaseModel):
    # Strict: a JSON true is not an amount or a length.
    model_config = ConfigDict(extra="forbid", strict=True)
    accounts: list[str] = Field(
        min_length=1, max_length=500, description="Account ids, e.g. from a Cypher result."
    )
    window: str = Field("30d", max_length=10, description="Length of the window, e.g. 30d or 72h.")
    until: str | None = Field(
        None,
        max_length=40,
        description="End of the window (default: end of the latest loaded day).",
    )
    max_length: int = Field(6, ge=2, le=8)
    min_amount: float = Field(0.0, ge=0)
