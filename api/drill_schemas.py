"""Response models of the drill-down reads: the records behind a link, a trade and an
account's activity (transfers and logins; fills and orders are in api/schemas.py)."""

from __future__ import annotations

from pydantic import Field

from api.schemas import Fill, OrderEvent, _Out


class Transfer(_Out):
    """One internal transfer (a `funding` row with method `internal`), as the graph holds it."""

    event_id: str
    ts: int = Field(description="UTC epoch milliseconds.")
    source: str = Field(description="The account the money left.")
    target: str = Field(description="The account the money reached.")
    amount: float
    asset: str | None = None
    method: str | None = None
    reported_by: list[str] = Field(
        description="The accounts whose funding records report it (sender, receiver or both)."
    )


class TransferPage(_Out):
    items: list[Transfer]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class Login(_Out):
    ts: int = Field(description="UTC epoch milliseconds.")
    ip: str


class LoginPage(_Out):
    items: list[Login]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class IdentifierUse(_Out):
    """How one account used one identifier: logins (IP, device) or funding events."""

    account: str
    relationship: str
    count: int
    first: int | None = Field(None, description="UTC epoch ms of the first use.")
    last: int | None = Field(None, description="UTC epoch ms of the last use.")
    times: list[int] = Field(description="Up to 20 use times, oldest first.")
    amount: float | None = Field(None, description="Funding: the total amount moved.")
    asset: str | None = None


class SharedIdentifier(_Out):
    kind: str = Field(description="IP, Device or FundingSource.")
    value: str
    uses: list[IdentifierUse]


class LinkDetail(_Out):
    """What links two accounts: the transfers between them and the identifiers both used."""

    a: str
    b: str
    transfers: list[Transfer]
    transfers_truncated: bool
    identifiers: list[SharedIdentifier]


class TradeDetail(_Out):
    trade: Fill
    orders: list[OrderEvent] = Field(description="The buy and sell orders behind the fill, where known.")
