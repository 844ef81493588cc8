"""Wash trading: trader sets whose trades go round and whose positions return to about zero.

After Victor & Weintraud (WWW 2021): per symbol, the trade graph's strongly connected
components are candidate sets; a member whose net position over the set's trades is not about
zero, or whose trades in the symbol are mostly with others (a market maker), is removed and
the components are computed again, until the sets are stable. Only repeated counterparty
relations and identifier-linked pairs are searched: a one-off fill between strangers cannot
make a wash cycle on its own, and leaving them out keeps the components small.
Cycles inside a set (networkx ``simple_cycles`` with a length bound, exact on small graphs)
and their time-windowed occurrences are the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import igraph as ig
import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics.config import WashConfig
from analytics.projection import BoolArray, FloatArray, IntArray, Trades
from analytics.trading import pair_code_split, pair_codes, pair_counts


@dataclass(frozen=True)
class WashSet:
    symbol: str
    members: tuple[int, ...]
    trades: IntArray  # positions in ``Trades`` of the set's fills in the symbol
    quote: float
    symbol_share: float  # the set's quote volume over the symbol's
    net_ratio: dict[int, float]  # |bought - sold| / traded quantity, per member
    cycles: list[tuple[int, ...]]  # member cycles found (a -> b -> ... -> a)
    occurrences: int  # time-windowed completions of those cycles
    evidence: IntArray  # positions of the trades in those completions (capped)


def candidate_mask(
    trades: Trades, n_accounts: int, linked: set[tuple[int, int]], cfg: WashConfig
) -> BoolArray:
    """Fills between repeated counterparties or identifier-linked accounts."""
    # The pairs' codes once, counted as synchronized trading counts its pairs (``pair_totals``
    # also sums quote volumes, for the relations, and built the codes a second time here).
    at, code = pair_codes(trades, n_accounts)
    repeated, _ = pair_counts(iter([code]), cfg.repeat_min_trades, pair_code_split(n_accounts))
    keep = np.union1d(repeated, np.array([a * n_accounts + b for a, b in linked], dtype=np.int64))
    del repeated
    # A search among the few kept pairs: ``np.isin`` sorts the fills' codes with them.
    slot = np.minimum(np.searchsorted(keep, code), max(len(keep) - 1, 0))
    mask: BoolArray = np.zeros(len(trades), dtype=bool)
    if len(keep):
        mask[at[keep[slot] == code]] = True
    return mask


def wash_sets(
    trades: Trades, n_accounts: int, linked: set[tuple[int, int]], cfg: WashConfig
) -> list[WashSet]:
    """Wash sets per symbol, from every fill of the window."""
    mask = candidate_mask(trades, n_accounts, linked, cfg)
    symbol_quote = np.bincount(trades.symbol, weights=trades.quote, minlength=len(trades.symbols))
    out: list[WashSet] = []
    for sym in np.unique(trades.symbol[mask]).tolist():
        in_symbol = trades.symbol == sym
        # Trades per account in this symbol, with anyone: the base of the internal share.
        per_account = np.bincount(trades.seller[in_symbol], minlength=n_accounts) + np.bincount(
            trades.buyer[in_symbol], minlength=n_accounts
        )
        idx = np.flatnonzero(mask & in_symbol)
        for members, chosen in stable_sets(
            trades.seller, trades.buyer, trades.qty, idx, per_account, cfg
        ):
            if len(chosen) < cfg.min_trades:
                continue
            out.append(_describe(trades, sym, members, chosen, float(symbol_quote[sym]), cfg))
    out.sort(key=lambda w: (w.members, w.symbol))
    return out


def described(
    trades: Trades, sets: list[IntArray], symbol_quote: dict[str, float], cfg: WashConfig
) -> list[WashSet]:
    """Wash sets found elsewhere (positions of each set's fills in ``trades``, which holds at
    least those fills), described as ``wash_sets`` describes them; ``symbol_quote``: each
    symbol's quote volume over every fill."""
    out = []
    for chosen in sets:
        chosen = np.sort(chosen)
        sym = int(trades.symbol[chosen[0]])
        members = _members(trades.seller, trades.buyer, chosen)
        volume = symbol_quote[trades.symbols[sym]]
        out.append(_describe(trades, sym, members, chosen, volume, cfg))
    out.sort(key=lambda w: (w.members, w.symbol))
    return out


def sets_in_symbol(fills: pa.Table, cfg: WashConfig) -> pa.Table:
    """The stable sets of one symbol from its candidate fills alone (``trade_id``, ``ts``,
    ``s``, ``b``, ``qty``, and ``s_n`` / ``b_n``: the seller's and buyer's trades in the symbol
    with anyone): one row (``set_no``, ``trade_id``) per fill of a set with enough fills.
    What an engine that keeps the fills elsewhere runs per symbol; same sets as ``wash_sets``."""
    order = pc.sort_indices(fills, sort_keys=[("ts", "ascending"), ("trade_id", "ascending")])
    fills = fills.take(order)
    s = fills.column("s").to_numpy()
    b = fills.column("b").to_numpy()
    accounts, local = np.unique(np.concatenate([s, b]), return_inverse=True)
    seller, buyer = local[: len(s)], local[len(s) :]
    per_account = np.zeros(len(accounts), dtype=np.int64)
    per_account[seller] = fills.column("s_n").to_numpy()
    per_account[buyer] = fills.column("b_n").to_numpy()
    qty = np.asarray(fills.column("qty").to_numpy(), dtype=np.float64)
    idx = np.arange(len(s), dtype=np.int64)
    found = [
        chosen
        for _, chosen in stable_sets(seller, buyer, qty, idx, per_account, cfg)
        if len(chosen) >= cfg.min_trades
    ]
    empty = np.zeros(0, dtype=np.int64)
    set_no = np.concatenate([np.full(len(c), i, dtype=np.int64) for i, c in enumerate(found)] or [empty])
    rows = np.concatenate(found or [empty])
    return pa.table({"set_no": set_no, "trade_id": fills.column("trade_id").take(pa.array(rows))})


def stable_sets(
    seller: IntArray,
    buyer: IntArray,
    qty: FloatArray,
    idx: IntArray,
    per_account: IntArray,
    cfg: WashConfig,
) -> list[tuple[tuple[int, ...], IntArray]]:
    """The sets among fills ``idx`` (ascending positions) whose members trade mostly with each
    other and end about flat; ``per_account``: each account's trades in the symbol."""
    nodes = np.unique(np.concatenate([seller[idx], buyer[idx]]))
    alive = np.zeros(int(per_account.shape[0]), dtype=bool)
    alive[nodes] = True
    while True:
        sub = idx[alive[seller[idx]] & alive[buyer[idx]]]
        if not len(sub):
            return []
        comp = _strong_components(seller[sub], buyer[sub])
        same = comp[seller[sub]] == comp[buyer[sub]]
        sub = sub[same]
        sellers, buyers, q = seller[sub], buyer[sub], qty[sub]
        size = len(alive)
        sold = np.bincount(sellers, weights=q, minlength=size)
        bought = np.bincount(buyers, weights=q, minlength=size)
        inside = np.bincount(sellers, minlength=size) + np.bincount(buyers, minlength=size)
        present = inside > 0
        # Counterparties of the whole market go first: removing them may balance the rest.
        low_share = present & (inside < cfg.min_internal_share * np.maximum(per_account, 1))
        unbalanced = present & (np.abs(bought - sold) > cfg.net_margin * np.maximum(bought, sold))
        drop = low_share if low_share.any() else unbalanced
        stale = alive & ~present
        if not drop.any() and not stale.any():
            break
        alive &= ~drop & ~stale
    groups: dict[int, list[int]] = {}
    for t in sub.tolist():
        groups.setdefault(int(comp[seller[t]]), []).append(t)
    sets = []
    for members_trades in groups.values():
        chosen = np.asarray(sorted(members_trades), dtype=np.int64)
        sets.append((_members(seller, buyer, chosen), chosen))
    return sets


def _members(seller: IntArray, buyer: IntArray, chosen: IntArray) -> tuple[int, ...]:
    return tuple(sorted(set(seller[chosen].tolist()) | set(buyer[chosen].tolist())))


def _strong_components(sellers: IntArray, buyers: IntArray) -> IntArray:
    """Component label per account position (positions not in the edges get their own)."""
    nodes, inverse = np.unique(np.concatenate([sellers, buyers]), return_inverse=True)
    m = len(sellers)
    graph = ig.Graph(
        n=len(nodes), edges=np.column_stack([inverse[:m], inverse[m:]]).tolist(), directed=True
    )
    membership = np.asarray(graph.connected_components(mode="strong").membership, dtype=np.int64)
    labels = np.full(int(nodes.max()) + 1, -1, dtype=np.int64)
    labels[nodes] = membership
    full = np.arange(int(nodes.max()) + 1, dtype=np.int64) + len(nodes)  # unique for the rest
    return np.where(labels >= 0, labels, full)


def _describe(
    trades: Trades,
    sym: int,
    members: tuple[int, ...],
    chosen: IntArray,
    symbol_quote: float,
    cfg: WashConfig,
) -> WashSet:
    sellers, buyers, qty = trades.seller[chosen], trades.buyer[chosen], trades.qty[chosen]
    net: dict[int, float] = {}
    for m in members:
        sold = float(qty[sellers == m].sum())
        bought = float(qty[buyers == m].sum())
        net[m] = round(abs(bought - sold) / max(bought, sold, 1e-12), 6)
    graph = nx.DiGraph()
    graph.add_edges_from(zip(sellers.tolist(), buyers.tolist(), strict=True))
    cycles = sorted(
        _canonical(c) for c in nx.simple_cycles(graph, length_bound=cfg.max_cycle_length)
    )
    occurrences, evidence = _occurrences(trades, chosen, cycles, cfg)
    quote = float(trades.quote_of(chosen).sum())
    return WashSet(
        trades.symbols[sym],
        members,
        chosen,
        quote,
        quote / symbol_quote if symbol_quote > 0 else 0.0,
        net,
        cycles,
        occurrences,
        evidence[: cfg.evidence_trades],
    )


def _canonical(cycle: list[int]) -> tuple[int, ...]:
    start = cycle.index(min(cycle))
    return tuple(cycle[start:] + cycle[:start])


def _occurrences(
    trades: Trades, chosen: IntArray, cycles: list[tuple[int, ...]], cfg: WashConfig
) -> tuple[int, IntArray]:
    """Completions of each cycle: one fill on every edge within ``cycle_window_s``."""
    window = cfg.cycle_window_s * 1000
    used: set[int] = set()
    evidence: list[int] = []
    count = 0
    by_edge: dict[tuple[int, int], list[int]] = {}
    for t in chosen.tolist():
        by_edge.setdefault((int(trades.seller[t]), int(trades.buyer[t])), []).append(t)
    for cycle in cycles:
        edges = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
        for first in by_edge[edges[0]]:
            if first in used:
                continue
            t0 = int(trades.ts[first])
            picked = [first]
            for edge in edges[1:]:
                match = next(
                    (
                        t
                        for t in by_edge[edge]
                        if t not in used and abs(int(trades.ts[t]) - t0) <= window
                    ),
                    None,
                )
                if match is None:
                    break
                picked.append(match)
            if len(picked) == len(edges):
                count += 1
                used.update(picked)
                evidence.extend(picked)
    return count, np.asarray(sorted(evidence), dtype=np.int64)


def self_trades(trades: Trades) -> dict[int, IntArray]:
    """Fills where one account is on both sides, per account."""
    idx = np.flatnonzero(trades.seller == trades.buyer)
    out: dict[int, list[int]] = {}
    for t in idx.tolist():
        out.setdefault(int(trades.seller[t]), []).append(t)
    return {a: np.asarray(v, dtype=np.int64) for a, v in sorted(out.items())}
