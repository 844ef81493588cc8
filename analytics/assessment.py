"""One explainable assessment per group: verdict, score, clauses, evidence, recommended action.

Every verdict is derived from the evidence it carries: the clauses come from findings listed
in ``evidence`` (wash sets, synchronized pairs, concentrated relations, member flags), the
score is their noisy-or, and the action follows the policy ladder from the verdict, the
clauses and the enforcement history of the members and of accounts strongly linked to them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from analytics.behaviour import Flag
from analytics.config import AnalysisConfig
from analytics.cycles import WashSet
from analytics.linkage import Links, combine
from analytics.projection import Accounts, Sanctions
from analytics.trading import Relation, SyncPair

ACTION_RANK = {"warning": 1, "report_requested": 1, "frozen": 2, "restricted": 3, "closed": 4}
LADDER = (
    "none",
    "request_report",
    "freeze_pending_review",
    "restrict_new_positions",
    "permanent_restriction",
)


@dataclass
class Findings:
    """Everything the detectors found, indexed for the assessment of groups."""

    links: Links
    relations: list[Relation]
    sync: list[SyncPair]
    wash: list[WashSet]
    flags: list[Flag]
    sanctions: Sanctions
    data_gaps: list[str] = field(default_factory=list)


@dataclass
class GroupAssessment:
    members: list[int]
    roles: dict[int, str]
    verdict: str
    score: float
    clauses: list[str]
    action: str
    reasons: list[str]
    evidence: dict[str, Any]
    identifiers: list[tuple[int, str, float, str]]  # (node, kind, weight, why): graph evidence
    trades: list[int]  # positions in Trades: wash evidence
    group_id: str = ""
    lineage: str = "new"
    parents: tuple[str, ...] = ()
    priority: float = 0.0  # queue order (analytics.priority); ``score`` is the confidence
    priority_reasons: list[str] = field(default_factory=list)
    volume: float = 0.0  # quote volume the findings involve


@dataclass
class _Case:
    """A group while it is assessed: what the clauses have found so far."""

    members: list[int]
    inside: set[int]
    linked: bool  # at least half the members strongly linked to another member
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


class Assessor:
    def __init__(self, accounts: Accounts, findings: Findings, cfg: AnalysisConfig) -> None:
        self.accounts = accounts
        self.f = findings
        self.cfg = cfg
        self.flags_of: dict[int, list[Flag]] = defaultdict(list)
        for flag in findings.flags:
            self.flags_of[flag.account].append(flag)
        self.wash_of: dict[int, list[WashSet]] = defaultdict(list)
        for w in findings.wash:
            for m in w.members:
                self.wash_of[m].append(w)
        self.sync_of: dict[int, list[SyncPair]] = defaultdict(list)
        for p in findings.sync:
            self.sync_of[p.a].append(p)
        self.relation_of: dict[int, list[Relation]] = defaultdict(list)
        for r in findings.relations:
            self.relation_of[r.a].append(r)
        self.sanctions_of: dict[int, list[int]] = defaultdict(list)
        for i, a in enumerate(findings.sanctions.account.tolist()):
            self.sanctions_of[a].append(i)
        self.neighbours: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for (a, b), weight in findings.links.weights().items():
            self.neighbours[a].append((b, weight))
            self.neighbours[b].append((a, weight))

    def name(self, account: int) -> str:
        return self.accounts.ids[account]

    def assess(
        self, members: list[int], quote_among: float, trades_among: int, last_activity: int
    ) -> GroupAssessment:
        cfg = self.cfg.assessment
        inside = set(members)
        links, identifiers, best = self._links(members, inside)
        linked_members = sum(1 for m in members if best.get(m, 0.0) >= cfg.linked_min)
        case = _Case(members, inside, linked=linked_members * 2 >= len(members))
        case.evidence["links"] = links
        case.evidence["trading_among_members"] = {
            "trades": trades_among,
            "quote": round(quote_among, 2),
        }
        wash = self._wash_trading(case)
        self._coordinated_trading(case)
        self._concentrated_relations(case)
        self._member_findings(case)
        history, prior = self._history(members, inside, last_activity)
        if history:
            case.evidence["history"] = history
        if self.f.data_gaps:
            case.evidence["data_gaps"] = list(self.f.data_gaps)
        score = round(combine(case.scores.values()), 4)
        verdict = self._verdict(score)
        if verdict == "cleared":
            case.reasons.append(self._cleared_reason(links, trades_among))
        clauses = sorted(case.scores) if verdict != "cleared" else []
        action = self._action(verdict, clauses, prior, quote_among)
        if prior:
            case.reasons.append(
                f"repeat: earlier enforcement up to '{_rank_name(prior)}' on members or linked accounts"
            )
        case.evidence["score_parts"] = {c: round(v, 4) for c, v in sorted(case.scores.items())}
        trades = sorted({t for w in wash for t in w.evidence.tolist()})
        return GroupAssessment(
            members,
            self._roles(members, inside, best),
            verdict,
            score,
            clauses,
            action,
            case.reasons,
            case.evidence,
            identifiers,
            trades,
        )

    # -- one function per clause: each adds its score, reason and evidence to the case ------
    def _bonus(self, case: _Case) -> float:
        """Linked members make joint trading findings count more."""
        return self.cfg.assessment.linked_bonus if case.linked else 0.0

    def _wash_trading(self, case: _Case) -> list[WashSet]:
        """Completed trade cycles among members; returns the wash sets (their trades are
        evidence)."""
        cfg = self.cfg.assessment
        wash = [
            w for w in self._wash(case.members) if sum(m in case.inside for m in w.members) >= 2
        ]
        if not wash:
            return wash
        occurrences = sum(w.occurrences for w in wash)
        case.scores["wash_trading"] = min(
            1.0,
            min(1.0, cfg.wash_base + cfg.wash_per_occurrence * occurrences) + self._bonus(case),
        )
        volume = sum(w.quote for w in wash)
        case.reasons.append(
            f"{len(wash)} wash set(s): {occurrences} completed trade cycle(s), "
            f"quote volume {volume:,.2f}, members' net positions back to about zero"
        )
        case.evidence["wash"] = [self._wash_evidence(w) for w in wash]
        return wash

    def _coordinated_trading(self, case: _Case) -> None:
        """Members trading the same symbol and side at about the same time, beyond chance."""
        cfg = self.cfg.assessment
        sync = [p for m in case.members for p in self.sync_of.get(m, []) if p.b in case.inside]
        if not sync:
            return
        episodes = max(p.episodes for p in sync)
        covered = {m for p in sync for m in (p.a, p.b)}
        case.scores["coordinated_trading"] = min(
            1.0, cfg.sync_base + cfg.sync_per_episode * min(episodes, 10) + self._bonus(case)
        )
        case.reasons.append(
            f"{len(covered)} members traded the same symbol and side within "
            f"{self.cfg.trading.sync_window_ms / 1000:g}s of each other up to {episodes} times "
            f"(expected by chance: {max(p.expected for p in sync):.3f})"
        )
        case.evidence["synchronized"] = [
            {
                "a": self.name(p.a),
                "b": self.name(p.b),
                "episodes": p.episodes,
                "expected": round(p.expected, 6),
                "examples": [
                    # positions: replaced by the fills' trade ids when written
                    {"symbol": s, "side": side, "ts_a": ta, "ts_b": tb, "trade_a": i, "trade_b": j}
                    for s, side, ta, tb, i, j in p.examples
                ],
            }
            for p in sorted(sync, key=lambda p: (p.a, p.b))
        ]

    def _concentrated_relations(self, case: _Case) -> None:
        """Linked members trading with each other in concentration, without completed cycles:
        wash trading at a lower score."""
        relations = [
            r for m in case.members for r in self.relation_of.get(m, []) if r.b in case.inside
        ]
        if not relations:
            return
        if "wash_trading" not in case.scores and case.linked:
            case.scores["wash_trading"] = self.cfg.assessment.relation_score
            case.reasons.append(
                "linked members trade with each other in concentration "
                f"({sum(r.trades for r in relations)} trades) without completed cycles"
            )
        case.evidence["relations"] = [
            {
                "a": self.name(r.a),
                "b": self.name(r.b),
                "trades": r.trades,
                "quote": round(r.quote, 2),
                "share_of_a": round(r.share_a, 4),
                "share_of_b": round(r.share_b, 4),
            }
            for r in sorted(relations, key=lambda r: (r.a, r.b))
        ]

    def _member_findings(self, case: _Case) -> None:
        """Single-account clauses (spoofing, bots, self-matching, limits) of the members."""
        member_flags = [f for m in case.members for f in self.flags_of.get(m, [])]
        if not member_flags:
            return
        for flag in member_flags:
            case.scores[flag.clause] = max(case.scores.get(flag.clause, 0.0), flag.score)
        case.evidence["member_flags"] = [
            {"account": self.name(f.account), "clause": f.clause, "score": round(f.score, 4)}
            | _flag_volume(f)
            for f in member_flags
        ]
        case.reasons.append(
            "member findings: "
            + ", ".join(sorted({f"{f.clause} ({self.name(f.account)})" for f in member_flags}))
        )

    def _verdict(self, score: float) -> str:
        cfg = self.cfg.assessment
        if score >= cfg.violation_score:
            return "violation"
        if score >= cfg.suspected_score:
            return "suspected"
        return "cleared"

    # -- pieces -----------------------------------------------------------------
    def _links(
        self, members: list[int], inside: set[int]
    ) -> tuple[list[dict[str, Any]], list[tuple[int, str, float, str]], dict[int, float]]:
        out: list[dict[str, Any]] = []
        idents: dict[int, tuple[int, str, float, str]] = {}
        best: dict[int, float] = {}
        items = self.f.links.items
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pair_items = items.get((a, b))
                if not pair_items:
                    continue
                weight = combine(it.weight for it in pair_items)
                best[a] = max(best.get(a, 0.0), weight)
                best[b] = max(best.get(b, 0.0), weight)
                for it in pair_items:
                    why = _why(it.kind, it.accounts, it.co_use, it.events, self.cfg)
                    out.append(
                        {
                            "a": self.name(a),
                            "b": self.name(b),
                            "kind": it.kind,
                            "identifier": it.identifier,
                            "shared_by": it.accounts,
                            "weight": round(it.weight, 4),
                            "why": why,
                        }
                    )
                    if it.identifier >= 0:
                        idents[it.identifier] = (it.identifier, it.kind, round(it.weight, 4), why)
        out.sort(key=lambda d: (-d["weight"], d["a"], d["b"], d["kind"], d["identifier"]))
        return out[:50], [idents[k] for k in sorted(idents)], best

    def _wash(self, members: list[int]) -> list[WashSet]:
        seen: dict[int, WashSet] = {}
        for m in members:
            for w in self.wash_of.get(m, []):
                seen[id(w)] = w
        return sorted(seen.values(), key=lambda w: (w.members, w.symbol))

    def _wash_evidence(self, w: WashSet) -> dict[str, Any]:
        return {
            "symbol": w.symbol,
            "members": [self.name(m) for m in w.members],
            "trades": len(w.trades),
            "quote": round(w.quote, 2),
            "symbol_share": round(w.symbol_share, 6),
            "net_position_ratio": {self.name(m): r for m, r in sorted(w.net_ratio.items())},
            "cycles": [[self.name(m) for m in c] for c in w.cycles[:20]],
            "cycle_completions": w.occurrences,
            # The completed cycles' fills; a set whose cycles never closed within the window
            # cites its own fills instead: a finding always names the trades it rests on.
            "cited": "cycle_completions" if len(w.evidence) else "set_trades",
            "trade_positions": (w.evidence if len(w.evidence) else w.trades)[
                : self.cfg.wash.evidence_trades
            ].tolist(),  # replaced by trade ids when written
        }

    def _history(
        self, members: list[int], inside: set[int], last_activity: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Earlier actions on members or strongly linked accounts, taken before the group's
        latest activity: a decision on this very case does not make it its own repeat."""
        s = self.f.sanctions
        out: list[dict[str, Any]] = []
        prior = 0
        strong = self.cfg.linkage.strong_link
        sources: dict[int, str] = {m: "member" for m in members}
        for m in members:
            for other, w in self.neighbours.get(m, []):
                if w >= strong and other not in inside and other not in sources:
                    sources[other] = f"linked to {self.name(m)} (weight {w:.2f})"
        for account in sorted(sources):
            for i in self.sanctions_of.get(account, []):
                if int(s.ts[i]) >= last_activity:
                    continue
                prior = max(prior, ACTION_RANK.get(s.action[i], 1))
                out.append(
                    {
                        "account": self.name(account),
                        "action": s.action[i],
                        "clause": s.clause[i],
                        "ts": int(s.ts[i]),
                        "via": sources[account],
                    }
                )
        return out, prior

    def _action(self, verdict: str, clauses: list[str], prior: int, quote: float) -> str:
        if verdict == "cleared":
            return "none"
        cfg = self.cfg.assessment
        if prior >= ACTION_RANK["restricted"]:
            return "permanent_restriction"
        if prior >= 1:
            return "restrict_new_positions" if verdict == "violation" else "freeze_pending_review"
        if verdict == "suspected":
            return "request_report"
        low_impact = quote < cfg.low_impact_quote and set(clauses) <= set(cfg.non_malicious_clauses)
        return "request_report" if low_impact else "freeze_pending_review"

    def _roles(
        self, members: list[int], inside: set[int], best: dict[int, float]
    ) -> dict[int, str]:
        strength: dict[int, float] = defaultdict(float)
        for m in members:
            for other, w in self.neighbours.get(m, []):
                if other in inside:
                    strength[m] += w
        roles = {m: ("member" if best.get(m, 0.0) > 0 else "counterparty") for m in members}
        linked = [m for m in members if best.get(m, 0.0) > 0]
        if linked:
            controller = max(linked, key=lambda m: (strength[m], -m))
            roles[controller] = "controller_candidate"
        return roles

    def _cleared_reason(self, links: list[dict[str, Any]], trades_among: int) -> str:
        kinds = sorted({str(link["kind"]) for link in links})
        shared = ", ".join(kinds) if kinds else "trading only"
        if trades_among == 0:
            return f"cleared: linked by {shared}, no trading among members and no findings (household / shared network pattern)"
        return (
            f"cleared: linked by {shared}; {trades_among} trades among members are ordinary "
            "(no cycles, no synchronized trading, no concentration)"
        )


def _flag_volume(flag: Flag) -> dict[str, float]:
    """The volume a member's finding involves, for the group's priority."""
    if flag.clause == "spoofing":
        return {"spoofed_notional": float(flag.evidence.get("spoofed_notional", 0.0))}
    if flag.clause == "self_matching":
        return {"self_matched_quote": float(flag.evidence.get("quote_volume", 0.0))}
    return {}


def _rank_name(rank: int) -> str:
    return {1: "warning/report_requested", 2: "frozen", 3: "restricted", 4: "closed"}.get(
        rank, "none"
    )


def _why(kind: str, accounts: int, co_use: bool, events: int, cfg: AnalysisConfig) -> str:
    if kind == "transfer":
        return f"{events} internal transfer record(s) between the two accounts"
    noun = {"ip": "IP address", "device": "device", "funding": "funding source"}.get(kind, kind)
    when = (
        f"used within {cfg.linkage.co_use_window_s // 60} min of each other"
        if co_use
        else "never used at about the same time"
    )
    specific = "specific" if accounts <= cfg.linkage.specific_max_accounts else "fairly common"
    return f"{noun} shared by {accounts} accounts ({specific}), {when}"
