"""``linkscope analyze``: projections -> detectors -> groups -> assessments -> graph.

Steps are timed and reported through a callback, so the CLI can show progress and a summary
and the benchmark can print where the time goes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from analytics import behaviour, cycles, linkage, projection, spoofing, suppression, trading
from analytics.assessment import Assessor, Findings, GroupAssessment
from analytics.behaviour import Flag
from analytics.communities import combined_edges, detect_groups
from analytics.config import AnalysisConfig
from analytics.engines.base import Engine, Fills
from analytics.engines.embedded import EmbeddedEngine
from analytics.engines.embedded import order_rows as order_rows  # where tests look for it
from analytics.lineage import assign_ids
from analytics.memory import release_memory
from analytics.priority import prioritize
from analytics.projection import Accounts, Trades, Window
from events.location import events_for
from events.store import EventStore
from graph.backend import GraphBackend

log = logging.getLogger(__name__)

Step = Callable[[str, float], None]


@dataclass
class Analysis:
    accounts: Accounts
    trades: Trades
    events: EventStore
    window: Window
    groups: list[GroupAssessment]
    flags: list[Flag]
    findings: Findings
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    edges: dict[tuple[int, int], float] = field(default_factory=dict)  # what Leiden ran on


@contextmanager
def _timed(timings: dict[str, float], name: str, report: Step | None) -> Iterator[None]:
    start = time.perf_counter()
    yield
    release_memory()
    timings[name] = time.perf_counter() - start
    if report is not None:
        report(name, timings[name])


def analyze(
    store: GraphBackend,
    cfg: AnalysisConfig,
    previous: dict[str, frozenset[str]] | None = None,
    report: Step | None = None,
    *,
    events: EventStore | None = None,
    window: Window = Window(),
    engine: Engine | None = None,
) -> Analysis:
    """Run every detector on the graph and the fills and orders of ``window``; nothing is
    written here. ``events`` defaults to the event store beside ``store``; ``engine`` (the
    stages that grow with fills and orders) to the embedded one."""
    events = events or events_for(store)
    engine = engine or EmbeddedEngine()
    t: dict[str, float] = {}
    # The graph's reads keep the store's server busy and the event store's keep DuckDB's and
    # pyarrow's threads busy, so each side runs while the other does: one worker thread, and
    # the step that collects its result reports only the time still waited for.
    with ThreadPoolExecutor(1, thread_name_prefix="analysis") as beside:
        with _timed(t, "read accounts", report):
            accounts = projection.read_accounts(store)
        graph_side = beside.submit(_read_graph_side, store, accounts)
        with _timed(t, "read fills (event store)", report):
            fills = engine.fills(events, accounts, window)
        with _timed(t, "read order statistics (event store)", report):
            orders = fills.order_days(cfg)
        with _timed(t, "read identifiers, transfers, history (graph, beside)", report):
            uses, transfers, sanctions = graph_side.result()
        n = len(accounts)
        gaps = _data_gaps(uses, orders.rows, fills.total)
        # An engine whose stages run in this process (ready before ``prepare``: the embedded
        # one) searches spoofing alone: beside the trading stages, DuckDB's buffers and their
        # fill-sized arrays were in memory together (L: 8.3 GB at the peak, ~2.6 GB of it the
        # search's) for ~40 s saved. Spark's stages run in its own processes: there the search
        # runs beside them, once ``prepare`` (which needs the linked pairs) is done.
        spoof_search = None
        spoofs = None
        if fills.ready:
            with _timed(t, "spoofing episodes (event store)", report):
                spoofs = fills.spoofing(orders, cfg.behaviour)
        with _timed(t, "linkage evidence", report):
            links = linkage.link_accounts(uses, transfers, cfg.linkage)
        with _timed(t, "suppressions", report):
            rules = suppression.read_rules(store, accounts)
            suppressed = suppression.Applied()
            suppression.apply_to_links(rules, links, suppressed)
            link_weights = links.weights()
            linked_pairs = {p for p, w in link_weights.items() if w > 0}
        if not fills.ready:
            with _timed(t, f"fill stages ({engine.name})", report):
                fills.prepare(linked_pairs, cfg)
            spoof_search = beside.submit(fills.spoofing, orders, cfg.behaviour)
        with _timed(t, "trading relations", report):
            relations = fills.relations(cfg.trading)
        with _timed(t, "synchronized trading", report):
            sync = fills.synchronized_pairs(cfg.trading)
        relations, sync = suppression.apply_to_trading(rules, relations, sync, suppressed)
        with _timed(t, "wash trading cycles", report):
            wash = fills.wash_sets(linked_pairs, cfg.wash)
        if spoof_search is not None:
            with _timed(t, "spoofing episodes (event store, beside)", report):
                spoofs = spoof_search.result()
    assert spoofs is not None
    trades = fills.trades
    with _timed(t, "account behaviour", report):
        bots = behaviour.bot_flags(orders.days, accounts, cfg.behaviour)
        spoofing.explain_not_spoofing(bots, spoofs)
        flags = (
            fills.self_matching_flags(cfg.behaviour)
            + spoofs.flags
            + bots
            + fills.limit_flags(cfg.behaviour)
        )
        flags.sort(key=lambda f: (f.account, f.clause))
    with _timed(t, "communities", report):
        edges = _edges(link_weights, relations, sync, wash, cfg)
        groups = detect_groups(
            n, edges, resolution=cfg.assessment.resolution, seed=cfg.assessment.seed
        )
    with _timed(t, "assessment", report):
        findings = Findings(links, relations, sync, wash, flags, sanctions, gaps)
        assessed = _assess(accounts, fills, groups, findings, cfg, previous or {})
        for g in assessed:
            notes = suppressed.for_members(g.members, accounts.ids)
            if notes:
                g.evidence["suppressions"] = notes
    counts = {
        "accounts": n,
        "trades": fills.total,
        "links": len(links.items),
        "hub_identifiers": sum(links.hubs.values()),
        "relations": len(relations),
        "synchronized_pairs": len(sync),
        "wash_sets": len(wash),
        "flags": len(flags),
        "groups": len(assessed),
        "suppressions": len(rules),
    }
    for verdict in ("violation", "suspected", "cleared"):
        counts[verdict] = sum(g.verdict == verdict for g in assessed)
    return Analysis(accounts, trades, events, window, assessed, flags, findings, t, counts, edges)


def _read_graph_side(
    store: GraphBackend, accounts: Accounts
) -> tuple[list[projection.Uses], projection.Transfers, projection.Sanctions]:
    uses = [projection.read_uses(store, accounts, kind) for kind in ("ip", "device", "funding")]
    return (
        uses,
        projection.read_transfers(store, accounts),
        projection.read_sanctions(store, accounts),
    )


def _edges(
    link_weights: dict[tuple[int, int], float],
    relations: list[trading.Relation],
    sync: list[trading.SyncPair],
    wash: list[cycles.WashSet],
    cfg: AnalysisConfig,
) -> dict[tuple[int, int], float]:
    """The weighted account graph the communities are found in: linkage, trading relations,
    synchronized pairs, and every pair of a wash set."""
    wash_edges: dict[tuple[int, int], float] = {}
    for w in wash:
        for i, a in enumerate(w.members):
            for b in w.members[i + 1 :]:
                wash_edges[(a, b)] = cfg.wash.link_weight
    return combined_edges(
        link_weights,
        {(r.a, r.b): r.weight for r in relations},
        {(p.a, p.b): p.weight for p in sync},
        wash_edges,
    )


def _assess(
    accounts: Accounts,
    fills: Fills,
    groups: list[list[int]],
    findings: Findings,
    cfg: AnalysisConfig,
    previous: dict[str, frozenset[str]],
) -> list[GroupAssessment]:
    """Assess each group, with examples of its synchronized trading, and give it a stable id
    (carried over from the previous run's group it continues)."""
    n = len(accounts)
    paired = np.array([x for p in findings.sync for x in (p.a, p.b)], dtype=np.int64)
    index = trading.TradeIndex(fills.trades, n, paired)
    in_groups = {m for g in groups for m in g}
    for p in findings.sync:
        if p.a in in_groups:
            p.examples.extend(trading.sync_examples(index, p, cfg.trading.sync_window_ms))
    assessor = Assessor(accounts, findings, cfg)
    among_trades, among_quote = fills.trading_among(groups)
    last_trade = fills.last_trade()
    assessed = [
        assessor.assess(g, float(among_quote[i]), int(among_trades[i]), int(last_trade[g].max()))
        for i, g in enumerate(groups)
    ]
    lineage = assign_ids(
        [[accounts.ids[m] for m in g.members] for g in assessed],
        previous,
        cfg.assessment.stable_id_jaccard,
    )
    for g, lin in zip(assessed, lineage, strict=True):
        g.group_id, g.lineage, g.parents = lin.group_id, lin.kind, lin.parents
    prioritize(
        assessed, fills.trades, index, findings.sync, findings.wash,
        cfg.trading.sync_window_ms, fills.symbol_quote(), last_trade,
    )  # fmt: skip
    assessed.sort(key=lambda g: g.group_id)
    return assessed


def _data_gaps(uses: list[projection.Uses], order_days: int, fills: int) -> list[str]:
    gaps = []
    if not order_days:
        gaps.append("no orders data: spoofing and unauthorized-bot detection not assessed")
    for use in uses:
        if not len(use.account):
            gaps.append(f"no {use.kind} data: linkage by {use.kind} not assessed")
    if not fills:
        gaps.append("no trades: trading relations, cycles and limits not assessed")
    return gaps
