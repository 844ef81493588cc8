"""The policy clauses a verdict can cite, by name, with the text a pack quotes for each.

The names are the data contract's typologies (``labels``); the texts say what the clause forbids
in the words of the contract, so a reader of the pack needs no other document.
"""

from __future__ import annotations

CLAUSES: dict[str, tuple[str, str]] = {
    "wash_trading": (
        "Wash trading",
        "Accounts under one control trading with each other, often in cycles, with little net "
        "position change: volume without a change of ownership.",
    ),
    "self_matching": (
        "Self-matching",
        "One account on both sides of a trade.",
    ),
    "coordinated_trading": (
        "Coordinated trading",
        "Linked accounts trading the same symbol and side in lockstep.",
    ),
    "spoofing": (
        "Spoofing and layering",
        "Large or frequent orders placed and cancelled to mislead about supply or demand, "
        "typically pulled around the account's own fill on the other side.",
    ),
    "unauthorized_bot": (
        "Unauthorized automated trading",
        "Automated trading by an account without approval for API trading.",
    ),
    "limit_breach": (
        "Trading limit breach",
        "Intraday trade count over the limit set for the market.",
    ),
}

ACTIONS: dict[str, str] = {
    "none": "no action",
    "request_report": "request a report from the account holders",
    "freeze_pending_review": "freeze the accounts pending review",
    "restrict_new_positions": "restrict the accounts to closing positions",
    "permanent_restriction": "restrict the accounts permanently",
}


def title(clause: str) -> str:
    return CLAUSES.get(clause, (clause.replace("_", " ").capitalize(), ""))[0]


def text(clause: str) -> str:
    return CLAUSES.get(clause, ("", "A clause of the exchange's trading policy."))[1]
