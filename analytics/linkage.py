"""Account-account linkage evidence from shared identifiers and internal transfers.

An identifier (IP, device, funding source) says more the fewer accounts share it: shared by
at most ``specific_max_accounts`` it counts in full, beyond that its weight falls with the
square of the count, and from ``hub_min_accounts`` on it is a hub (carrier NAT, VPN exit,
office, stock fingerprint, exchange hot wallet) and says nothing. Hubs are recognised from
the data (how many accounts use them), never from lists. Use at about the same time (co-use)
is stronger than use months apart. Evidence items combine per pair as a noisy-or.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from analytics.config import LinkageConfig
from analytics.projection import IntArray, Transfers, Uses


@dataclass(frozen=True)
class LinkItem:
    """One piece of evidence that two accounts are linked, and why it weighs what it weighs."""

    kind: str  # ip | device | funding | transfer
    identifier: int  # store-internal id of the shared node; -1 for a transfer
    accounts: int  # how many accounts share the identifier (2 for a transfer)
    weight: float
    co_use: bool  # used within the co-use window (transfers: always)
    events: int = 1


@dataclass
class Links:
    """Evidence per account pair (a < b), combined weight as a noisy-or of its items."""

    items: dict[tuple[int, int], list[LinkItem]] = field(default_factory=lambda: defaultdict(list))
    hubs: dict[str, int] = field(default_factory=dict)  # hub identifiers per kind (for the summary)

    def add(self, a: int, b: int, item: LinkItem) -> None:
        self.items[(a, b) if a < b else (b, a)].append(item)

    def weight(self, a: int, b: int) -> float:
        key = (a, b) if a < b else (b, a)
        return combine(item.weight for item in self.items.get(key, ()))

    def weights(self) -> dict[tuple[int, int], float]:
        return {pair: combine(i.weight for i in items) for pair, items in self.items.items()}


def combine(weights: Iterable[float]) -> float:
    """Noisy-or: independent pieces of evidence, each alone enough with its probability."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - min(max(float(w), 0.0), 1.0)
    return 1.0 - miss


def specificity(accounts: int, cfg: LinkageConfig, kind: str) -> float:
    if accounts < 2 or accounts >= cfg.hub_min_accounts.get(kind, 16):
        return 0.0
    if accounts <= cfg.specific_max_accounts:
        return 1.0
    return float((cfg.specific_max_accounts / accounts) ** 2)


def link_accounts(uses: list[Uses], transfers: Transfers, cfg: LinkageConfig) -> Links:
    links = Links()
    for use in uses:
        _add_shared(links, use, cfg)
    _add_transfers(links, transfers, cfg)
    return links


def _add_shared(links: Links, use: Uses, cfg: LinkageConfig) -> None:
    if not len(use.account):
        links.hubs[use.kind] = 0
        return
    window_ms = cfg.co_use_window_s * 1000
    base = cfg.kind_weight.get(use.kind, 0.5)
    factor = cfg.without_co_use_factor.get(use.kind, 1.0)
    # Uses are sorted by (account, identifier, ts); regroup by identifier.
    order = np.lexsort((use.ts, use.account, use.identifier))
    ident, acc, ts = use.identifier[order], use.account[order], use.ts[order]
    starts = np.flatnonzero(np.r_[True, ident[1:] != ident[:-1]])
    ends = np.r_[starts[1:], len(ident)]
    pair_code = ident * (int(acc.max()) + 1) + acc
    group = np.cumsum(np.r_[True, ident[1:] != ident[:-1]]) - 1
    first_use = np.r_[True, pair_code[1:] != pair_code[:-1]]
    distinct = np.bincount(group[first_use], minlength=len(starts))
    hubs = 0
    for s, e, n in zip(starts.tolist(), ends.tolist(), distinct.tolist(), strict=True):
        if n < 2:
            continue
        spec = specificity(n, cfg, use.kind)
        if spec == 0.0:
            hubs += 1
            continue
        times = _times_by_account(acc[s:e], ts[s:e])
        for (a, ta), (b, tb) in combinations(sorted(times.items()), 2):
            co_use = _close(ta, tb, window_ms)
            weight = base * spec * (1.0 if co_use else factor)
            links.add(a, b, LinkItem(use.kind, int(ident[s]), n, weight, co_use, len(ta) + len(tb)))
    links.hubs[use.kind] = hubs


def _times_by_account(acc: IntArray, ts: IntArray) -> dict[int, IntArray]:
    bounds = np.flatnonzero(np.r_[True, acc[1:] != acc[:-1], True])
    return {int(acc[bounds[k]]): ts[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1)}


def _close(ta: IntArray, tb: IntArray, window_ms: int) -> bool:
    """Any two times, one from each (sorted) list, within the window."""
    pos = np.searchsorted(tb, ta)
    before = np.abs(ta - tb[np.maximum(pos - 1, 0)])
    after = np.abs(tb[np.minimum(pos, len(tb) - 1)] - ta)
    return bool(min(before.min(), after.min()) <= window_ms)


def _add_transfers(links: Links, transfers: Transfers, cfg: LinkageConfig) -> None:
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for a, b in zip(transfers.source.tolist(), transfers.target.tolist(), strict=True):
        if a != b:
            counts[(min(a, b), max(a, b))] += 1
    for (a, b), n in sorted(counts.items()):
        weight = 1.0 - (1.0 - cfg.transfer_weight) ** min(n, 3)
        links.add(a, b, LinkItem("transfer", -1, 2, weight, True, n))
