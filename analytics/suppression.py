"""Suppressions: what investigators taught the analysis when they dismissed a group.

A suppression names evidence that is explained, with who said so, why and until when:

- ``office_ip`` / ``stock_device`` (scope ``identifier``): sharing this IP or device links
  nobody (our office, a stock device fingerprint);
- ``household`` (scope ``accounts``): shared identifiers and transfers among these accounts
  are one household's, not common control;
- ``market_maker_pair`` (scope ``pair``): these two accounts' linkage, concentrated trading
  and synchronized trading are a known market-maker arrangement.

The analysis applies every suppression in force (not revoked, not expired) to the evidence
before groups are formed: the weights it sets to zero no longer join accounts into a group, so
the same group is not raised again on the same evidence; new evidence (a wash cycle, another
shared device) still counts. Every change is noted, and the groups that hold an account it
touched say so in their evidence (``suppressions``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from analytics.linkage import Links, combine
from analytics.projection import Accounts
from analytics.trading import Relation, SyncPair
from graph import triage_statements as ts
from graph.backend import GraphBackend

REASONS = {
    "office_ip": ("identifier", "ip"),
    "stock_device": ("identifier", "device"),
    "household": ("accounts", None),
    "market_maker_pair": ("pair", None),
}
REASON_TEXT = {
    "office_ip": "our office's IP",
    "stock_device": "a stock device fingerprint",
    "household": "one household",
    "market_maker_pair": "a known market-maker arrangement",
}


@dataclass(frozen=True)
class Rule:
    suppression_id: str
    reason: str
    scope: str
    label: str  # the identifier or accounts, for people
    identifiers: frozenset[int] = frozenset()  # store-internal ids of suppressed identifiers
    accounts: frozenset[int] = frozenset()  # account positions


@dataclass
class Applied:
    """What the suppressions changed, per account pair (a < b)."""

    notes: dict[tuple[int, int], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def note(self, a: int, b: int, rule: Rule, effect: str) -> None:
        self.notes[(a, b) if a < b else (b, a)].append(
            {"suppression_id": rule.suppression_id, "reason": rule.reason, "effect": effect}
        )

    def for_members(self, members: list[int], names: list[str]) -> list[dict[str, Any]]:
        """The changes touching a group's members, one entry per suppression."""
        inside = set(members)
        by_rule: dict[str, dict[str, Any]] = {}
        for (a, b), notes in sorted(self.notes.items()):
            if a not in inside and b not in inside:
                continue
            for n in notes:
                entry = by_rule.setdefault(
                    n["suppression_id"],
                    {"suppression_id": n["suppression_id"], "reason": n["reason"], "changes": []},
                )
                entry["changes"].append(f"{names[a]}-{names[b]}: {n['effect']}")
        out = []
        for entry in by_rule.values():
            changes = entry.pop("changes")
            more = f" (and {len(changes) - 5} more)" if len(changes) > 5 else ""
            entry["effect"] = "; ".join(changes[:5]) + more
            entry["pairs"] = len(changes)
            out.append(entry)
        return out


def read_rules(store: GraphBackend, accounts: Accounts, now_ms: int | None = None) -> list[Rule]:
    """The suppressions in force at ``now_ms`` (default: now), resolved to this graph."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    position = {a: i for i, a in enumerate(accounts.ids)}
    rules = []
    for sid, scope, reason, kind, value, ids in store.read(
        ts.ACTIVE_SUPPRESSIONS, {"now": now_ms}
    ).rows:
        if scope == "identifier":
            nodes = (
                frozenset(
                    int(r[0])
                    for r in store.read(ts.IDENTIFIER_NODE[str(kind)], {"value": value}).rows
                )
                if kind in ts.IDENTIFIER_NODE
                else frozenset()
            )
            rules.append(Rule(sid, reason, scope, f"{kind} {value}", identifiers=nodes))
        else:
            members = frozenset(position[a] for a in ids or [] if a in position)
            rules.append(Rule(sid, reason, scope, ", ".join(ids or []), accounts=members))
    return rules


def apply(
    rules: list[Rule], links: Links, relations: list[Relation], sync: list[SyncPair]
) -> tuple[list[Relation], list[SyncPair], Applied]:
    """Sets the suppressed evidence's weight to zero (drops it) in ``links`` and returns the
    relations and synchronized pairs that remain, with what changed."""
    applied = Applied()
    apply_to_links(rules, links, applied)
    relations, sync = apply_to_trading(rules, relations, sync, applied)
    return relations, sync, applied


def apply_to_links(rules: list[Rule], links: Links, applied: Applied) -> None:
    """Drops the suppressed linkage evidence from ``links`` (the wash search and the fill
    engines need the linked pairs before trading relations exist)."""
    if not rules:
        return
    # Identifier rules need every pair that shares the identifier: one pass over the pairs
    # with a set lookup per item. Account-set rules only look at the pairs inside their set.
    by_node = {node: r for r in rules if r.scope == "identifier" for node in r.identifiers}
    touched: dict[tuple[int, int], list[Rule]] = defaultdict(list)
    if by_node:
        for pair, items in links.items.items():
            hit = {id(by_node[i.identifier]): by_node[i.identifier] for i in items
                   if i.identifier in by_node}  # fmt: skip
            touched[pair].extend(hit.values())
    for rule in rules:
        if rule.scope != "identifier":
            members = sorted(rule.accounts)
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    if (a, b) in links.items:
                        touched[(a, b)].append(rule)
    for (a, b), pair_rules in touched.items():
        items = links.items[(a, b)]
        before = combine(i.weight for i in items)
        keep = list(items)
        for rule in pair_rules:
            if rule.scope == "identifier":
                dropped = [i for i in keep if i.identifier in rule.identifiers]
                keep = [i for i in keep if i not in dropped]
            else:
                dropped, keep = keep, []
            if dropped:
                applied.note(a, b, rule, _link_effect(dropped, rule, before, keep))
        if keep:
            links.items[(a, b)] = keep
        else:
            del links.items[(a, b)]


def apply_to_trading(
    rules: list[Rule], relations: list[Relation], sync: list[SyncPair], applied: Applied
) -> tuple[list[Relation], list[SyncPair]]:
    """The trading relations and synchronized pairs no pair rule covers."""
    pairs = [r for r in rules if r.scope == "pair"]
    if not pairs:
        return relations, sync

    def covered(a: int, b: int) -> Rule | None:
        return next((r for r in pairs if a in r.accounts and b in r.accounts), None)

    def kept[T: (Relation, SyncPair)](items: list[T], what: str) -> list[T]:
        out: list[T] = []
        for item in items:
            found = covered(item.a, item.b)
            if found is None:
                out.append(item)
            else:
                applied.note(item.a, item.b, found, f"{what} weight {item.weight:.2f} -> 0 "
                             f"({REASON_TEXT[found.reason]})")  # fmt: skip
        return out

    return kept(relations, "trading relation"), kept(sync, "synchronized trading")


def _link_effect(hit: list[Any], rule: Rule, before: float, keep: list[Any]) -> str:
    what = rule.label if rule.scope == "identifier" else ", ".join(sorted({i.kind for i in hit}))
    dropped = combine(i.weight for i in hit)
    after = combine(i.weight for i in keep)
    return (
        f"{what} weight {dropped:.2f} -> 0, pair link {before:.2f} -> {after:.2f} "
        f"({REASON_TEXT[rule.reason]})"
    )
