"""How the cluster views read: parallel links between two accounts merged into one edge (with
its count and total), and property values written for people (ISO times, words for booleans)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CYCLE_COLOR = "#d0021b"
SYNC_COLOR = "#e8a33d"
TRADE_COLOR = "#52606d"
TRANSFER_COLOR = "#2f8f8f"
IDENTIFIER_COLOR = "#9aa5b1"
# The colour a merged edge takes: the strongest kind of link it holds.
RANK = ("cycle", "trade", "sync", "transfer")
COLORS = {"cycle": CYCLE_COLOR, "trade": TRADE_COLOR, "sync": SYNC_COLOR, "transfer": TRANSFER_COLOR}
NOUNS = {"cycle": "trades", "trade": "trades", "sync": "episodes", "transfer": "transfers"}
REL_WORDS = {"USED_IP": "logged in from", "USED_DEVICE": "used", "DEPOSIT_FROM": "deposited from",
             "WITHDRAW_TO": "withdrew to", "TRANSFER": "transferred to", "TRADES_WITH": "sold to",
             "MEMBER_OF": "is a member of", "HAS_FLAG": "is flagged", "SANCTIONED": "was sanctioned"}  # fmt: skip
TIME_KEYS = ("ts", "at", "first_ts", "last_ts", "changed_at", "created_at")


@dataclass(frozen=True)
class PairPart:
    """One link between two members before merging: ``count`` trades, episodes or transfers,
    ``amount`` their quote volume or amount moved."""

    source: str
    target: str
    kind: str
    count: int
    amount: float
    title: str


def volume_width(quote: float) -> float:
    return 1.0 + min(9.0, math.log10(1.0 + max(quote, 0.0)))


def merged_edges(parts: list[PairPart]) -> list[dict[str, Any]]:
    """One edge per pair of accounts, whatever links them: drawn on top of each other, parallel
    edges hid each other and their tooltips (13 edges on 4 pairs in a wash ring)."""
    pairs: dict[tuple[str, str], list[PairPart]] = {}
    for p in parts:
        pairs.setdefault(tuple(sorted((p.source, p.target))), []).append(p)  # type: ignore[arg-type]
    edges = []
    for (a, b), held in sorted(pairs.items()):
        kinds = sorted({p.kind for p in held}, key=RANK.index)
        directed = [(p.source, p.target) for p in held if p.kind != "sync"]
        forward, backward = (a, b) in directed, (b, a) in directed
        source, target = (b, a) if backward and not forward else (a, b)
        arrows = "to, from" if forward and backward else "to" if directed else ""
        count = sum(p.count for p in held)
        traded = sum(p.amount for p in held if p.kind in ("trade", "cycle"))
        moved = sum(p.amount for p in held if p.kind == "transfer")
        family = {k: "trade" if k == "cycle" else k for k in RANK}  # a cycle's links are trades
        summary = ", ".join(
            f"{sum(p.count for p in held if family[p.kind] == k)} {NOUNS[k]}"
            for k in dict.fromkeys(family[k] for k in kinds)
        )
        totals = [f"quote {traded:,.2f}" if traded else "", f"moved {moved:,.2f}" if moved else ""]
        hover = " · ".join(x for x in [summary, *totals] if x)
        only_dashed = all(p.kind in ("sync", "transfer") for p in held)
        edges.append({
            "id": f"pair:{a}|{b}", "from": f"Account:{source}", "to": f"Account:{target}",
            "arrows": arrows, "kind": "+".join(kinds), "pair": [a, b],
            "count": count, "links": len(held), "total": round(traded + moved, 2),
            "width": volume_width(traded) if traded else 2,
            "color": {"color": COLORS[kinds[0]]},
            "dashes": ([2, 4] if kinds[0] == "sync" else [6, 4]) if only_dashed else False,
            "title": "\n".join([f"{a} – {b}: {hover}", *(p.title for p in held)]),
            "hover": hover,
        })  # fmt: skip
    return edges


def shown(key: str, value: Any) -> str:
    """A property value for a tooltip: times as ISO 8601 UTC, booleans as words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and (key in TIME_KEYS or key.endswith("_at")) and value > 0:
        return iso(value)
    if isinstance(value, list):
        return ", ".join(shown(key, v) for v in value[:5]) + (" …" if len(value) > 5 else "")
    return str(value)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
