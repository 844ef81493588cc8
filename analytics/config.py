"""Every weight and threshold of the analysis, in one documented place.

``linkscope analyze --config FILE`` reads a JSON file with any subset of these fields (nested
by section); ``linkscope analyze --show-config`` prints the values in force. A run records the
digest of its config on its ``AnalysisRun`` node, so verdicts can be traced to their settings.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from linkscope.errors import ConfigError


class _Section(BaseModel):
    # Strict: a setting of the wrong type is refused, not coerced (``false`` is no count and
    # "5" no number), in a config file and in the body of POST /v1/runs alike.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class LinkageConfig(_Section):
    kind_weight: dict[str, float] = Field(
        default={"device": 0.9, "funding": 0.85, "ip": 0.45},
        description="Evidence weight (0..1) of one identifier shared by two accounts, per kind "
        "(funding = a deposit source or withdrawal address).",
    )
    specific_max_accounts: int = Field(
        default=5,
        description="An identifier shared by at most this many accounts counts in full; beyond, "
        "its weight falls with the square of the number of accounts.",
    )
    hub_min_accounts: dict[str, int] = Field(
        default={"device": 16, "funding": 16, "ip": 12},
        description="Shared by at least this many accounts, an identifier is a hub (carrier NAT, "
        "VPN exit, office, stock device fingerprint, exchange hot wallet) and is no evidence.",
    )
    co_use_window_s: int = Field(
        default=1_800,
        description="Two accounts using one IP or device within this many seconds of each other "
        "is co-use: same place, same time.",
    )
    without_co_use_factor: dict[str, float] = Field(
        default={"ip": 0.35, "device": 0.8, "funding": 1.0},
        description="Weight factor for a shared identifier the accounts never used at about the "
        "same time (an IP months apart may have been re-assigned).",
    )
    transfer_weight: float = Field(
        default=0.75, description="Weight of an internal transfer between two accounts."
    )
    strong_link: float = Field(
        default=0.5,
        description="Linked at least this strongly, an account shares the enforcement history "
        "of the accounts it is linked to (a repeat offender's new accounts).",
    )


class TradingConfig(_Section):
    relation_min_trades: int = Field(
        default=3, description="Trades between two accounts before their relation is weighed."
    )
    relation_min_share: float = Field(
        default=0.15,
        description="The pair's trades must be at least this share of each side's trades "
        "(a market maker's many counterparties are a tiny share of its flow).",
    )
    relation_weight: float = Field(
        default=0.5, description="Weight of a concentrated trading relation at share 1."
    )
    sync_window_ms: int = Field(
        default=5_000,
        description="Two accounts trading the same symbol and side within this time is one "
        "synchronized episode.",
    )
    sync_min_episodes: int = Field(
        default=5, description="Episodes a pair needs before it counts as synchronized."
    )
    sync_min_ratio: float = Field(
        default=5.0,
        description="Observed episodes over those expected by chance: the market's trades within "
        "the window around each of one account's trades (bursts) times the other account's share "
        "of the market's activity around it.",
    )
    sync_baseline_window_ms: int = Field(
        default=1_800_000,
        description="Window around each trade in which an account's share of the market's "
        "activity is measured (the chance baseline follows each account's own rhythm).",
    )
    sync_max_p: float = Field(
        default=1e-7,
        description="Poisson probability of the observed episodes under chance at or below "
        "which a pair is synchronized (small: millions of pairs are tested).",
    )
    sync_weight: float = Field(default=0.8, description="Weight of a synchronized pair.")
    sync_max_neighbours: int = Field(
        default=200,
        description="Events looked ahead per event when pairing (bounds work in a burst).",
    )


class WashConfig(_Section):
    repeat_min_trades: int = Field(
        default=2,
        description="Trades (any symbol) that make a pair a repeated counterparty relation; only "
        "such pairs and identifier-linked pairs are searched for cycles.",
    )
    net_margin: float = Field(
        default=0.1,
        description="A member's net position over the set's trades must stay within this share "
        "of its traded quantity (Victor & Weintraud: positions return to about zero).",
    )
    min_internal_share: float = Field(
        default=0.5,
        description="Share of a member's trades in the symbol that must be with the set; "
        "counterparties of the whole market (market makers) fall out.",
    )
    min_trades: int = Field(
        default=3, description="Trades a wash set needs (one 3-cycle with matching sizes)."
    )
    cycle_window_s: int = Field(
        default=3_600, description="Trades closing one cycle must fall within this window."
    )
    max_cycle_length: int = Field(default=6, description="Longest cycle searched.")
    evidence_trades: int = Field(default=60, description="Trades kept as evidence per set.")
    link_weight: float = Field(default=0.9, description="Weight between members of a wash set.")


class BehaviourConfig(_Section):
    self_trade_min: int = Field(default=2, description="Self-trades before an account is flagged.")
    spoof_bait_fill_ratio: float = Field(
        default=5.0,
        description="A bait order is at least this many times the switch fill it is matched to "
        "and the account's median fill in the symbol (the account's own baseline: a market "
        "maker quotes the sizes it trades).",
    )
    spoof_bait_symbol_ratio: float = Field(
        default=5.0,
        description="A bait order is at least this many times the symbol's typical order "
        "(median over account-days of the mean order size).",
    )
    spoof_bait_max_filled_share: float = Field(
        default=0.1, description="A bait order was cancelled with at most this share filled."
    )
    spoof_min_rest_ms: int = Field(
        default=50, description="A bait order rested at least this long (long enough to be seen)."
    )
    spoof_cancel_after_fill_ms: int = Field(
        default=5_000,
        description="The bait is pulled at most this long after the account's opposite fill.",
    )
    spoof_fill_after_cancel_ms: int = Field(
        default=2_000,
        description="Or the fill follows the pulled bait within this time (the wall vanishes "
        "just before the account trades into the moved price).",
    )
    spoof_max_distance: float = Field(
        default=0.005,
        description="Bait rests on the passive side within this fraction of the fill price "
        "(near the touch, where it is seen, without crossing it).",
    )
    spoof_min_one_sided: float = Field(
        default=0.8,
        description="Bait quantity over bait plus the account's own large orders (by the "
        "symbol's measure) on the fill's side resting at the same time: quoting both sides "
        "scores about 0.5.",
    )
    spoof_min_episodes: int = Field(
        default=3, description="One-sided bait-and-switch episodes an account needs in the window."
    )
    spoof_min_switch_share: float = Field(
        default=0.05,
        description="Episodes over the account's fills in the symbols concerned: a busy market "
        "maker meets a few switch-shaped coincidences among thousands of fills.",
    )
    spoof_evidence_episodes: int = Field(
        default=20, description="Episodes (with their order and fill ids) cited per flag."
    )
    bot_min_api_orders: int = Field(
        default=10, description="API orders in a day by an account without API approval."
    )
    bot_min_orders: int = Field(
        default=100, description="Orders in a day before timing regularity is judged."
    )
    bot_max_gap_cv: float = Field(
        default=0.2,
        description="Robust variation of gaps between orders (median absolute deviation over "
        "median) at or below which timing is machine-regular (human order flow: ~0.5-1).",
    )
    trade_limits: dict[str, int] = Field(
        default={"spot": 500, "futures": 500},
        description="Intraday trade-count limit per market (UTC day, buys and sells).",
    )
    limit_exempt_account_types: list[str] = Field(
        default=["market_maker"],
        description="Account types with negotiated limits, not checked against trade_limits.",
    )


class AssessmentConfig(_Section):
    resolution: float = Field(
        default=0.12,
        description="Leiden CPM resolution: a group's mean link weight must exceed it "
        "(keeps groups tight instead of components joined through weak links).",
    )
    seed: int = Field(default=20261122, description="Seed of community detection.")
    violation_score: float = Field(
        default=0.7, description="Score from which a group is a violation."
    )
    suspected_score: float = Field(default=0.35, description="Score from which it is suspected.")
    low_impact_quote: float = Field(
        default=50_000.0,
        description="Quote volume under which a first-time case is low impact (report request "
        "instead of a freeze).",
    )
    linked_min: float = Field(
        default=0.3,
        description="Identifier or transfer link weight from which two members count as linked; "
        "a group is linked when at least half its members are.",
    )
    linked_bonus: float = Field(
        default=0.2, description="Added to a joint finding's score when the group is linked."
    )
    wash_base: float = Field(
        default=0.45, description="Score of a wash set with no completed cycle."
    )
    wash_per_occurrence: float = Field(
        default=0.1, description="Added per time-windowed cycle completion (up to 1)."
    )
    sync_base: float = Field(
        default=0.4, description="Score of a synchronized pair at the minimum."
    )
    sync_per_episode: float = Field(
        default=0.04, description="Added per synchronized episode (counted up to 10)."
    )
    relation_score: float = Field(
        default=0.4,
        description="Score of linked members trading with each other in concentration, without "
        "cycles (suspected self-dealing).",
    )
    non_malicious_clauses: list[str] = Field(
        default=["limit_breach", "unauthorized_bot"],
        description="Clauses that, first time and low impact, get a report request, not a freeze.",
    )
    stable_id_jaccard: float = Field(
        default=0.5, description="Membership overlap that keeps a group's id across runs."
    )
    history_runs: int = Field(default=20, description="Earlier runs' groups kept in the graph.")
    window_days: int | None = Field(
        default=None,
        ge=1,
        description="Days of fills and orders analysed, ending with the latest loaded day "
        "(null: all); `analyze --window/--since/--until` override it.",
    )


class AnalysisConfig(_Section):
    linkage: LinkageConfig = LinkageConfig()
    trading: TradingConfig = TradingConfig()
    wash: WashConfig = WashConfig()
    behaviour: BehaviourConfig = BehaviourConfig()
    assessment: AssessmentConfig = AssessmentConfig()

    @classmethod
    def load(cls, path: Path | None) -> AnalysisConfig:
        if path is None:
            return cls()
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"analysis config {path}: {exc}") from exc

    def digest(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]
