"""Temporal cycle search: money or tokens that leave an account and come back to it.

A *flow* is one fill (seller -> buyer: the sold asset moves that way; its amount is the fill's
quote value, price x qty) or one internal transfer (sender -> receiver, its amount). A *loop*
from account A is a sequence of flows A -> B -> ... -> A through distinct accounts, each flow
strictly later than the one before, all inside the search window. Amounts are free: the share
each hop retains of the previous hop's amount is shown, not required.

Why not Cypher: variable-length cycle patterns do not finish on a real-sized graph
(docs/performance.md), and fills live in the event store, not the graph. The search runs on a
compact in-memory adjacency built from the window's fills and transfers (``Flows``; the API
keeps the last ones per data version), as a depth-first search over accounts that is bounded
three ways:

- *feasibility*: before searching, ``latest[r][v]`` is computed for every account v and every
  r < max length: the latest time v can send and still get back to A within r hops (r
  vectorised passes over all flows). A hop to w at time t is only taken if w can still close
  the loop (``t < latest[remaining][w]``), so the search never walks into a branch without a
  loop at its end;
- *one walk per account sequence*: from each prefix the search takes, per next account, the
  earliest later flow (arriving earliest keeps every continuation open), so a busy pair with
  thousands of fills costs one branch, not thousands;
- *a budget*: expansions and wall time; the answer says when it stopped at its limit.

Ranking ("how unusual"), in log10 units, higher is stranger:
- follow-through (the main term): funds that move on nearly whole at every hop are rare among
  random pairs of flows. ``F(g)`` is the share of random pairs of the window's flows whose
  amounts are within a log ratio ``g`` of each other (sampled, seeded). With ``g_max`` the
  loosest step of the loop (largest |log(amount_i+1 / amount_i)|) and k steps, the chance that
  every step of a random loop is that tight is ``F(g_max)^k``:
  ``follow = -k log10 F(g_max) - sum(log10 choices)``, at least 0, where choices is the number
  of flows of each hop the shown instance was picked from (a close amount found among many
  tries is that many times less strange).
- structure (a penalty): under a random-matching null where each account keeps its number of
  distinct counterparties in the window, a hop u -> v appears with probability about
  ``p_hop = out_breadth(u) * in_breadth(v) / pairs`` (pairs: distinct sender-receiver pairs in
  the window). A hop more than ten times as likely as the window's typical hop (geometric mean
  over pairs: through a market maker or another hub) costs ``log10(p_hop / p_typical) - 1``;
  other hops cost nothing, so members busy with many outsiders are not excused, and a loop is
  not stranger only for being longer.
``score = structure + follow``. For each account sequence found, the instance shown is the
time-respecting choice of flows (one per hop) whose amounts change least (a small dynamic
programme over the hops' flows); the greedy earliest instance proves the loop exists.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from events.store import EventStore
from graph import investigation_statements as q
from graph.backend import GraphBackend
from linkscope.errors import InputError

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

TRADE, TRANSFER = 0, 1
KINDS = ("trade", "transfer")
# One sorted int64 search key per flow: pair index x 2^36 + ms since the window start (2^36 ms
# is ~795 days; 2^27 pairs fit beside it).
_SHIFT = np.int64(1) << np.int64(36)
MAX_WINDOW_MS = int(_SHIFT) - 1
_NEVER = np.iinfo(np.int64).min
_PAIR_CAP = 400  # flows per hop the instance search considers (the pair's earliest ones)


@dataclass
class Flows:
    """The window's flows as arrays, sorted by (sender, receiver, time)."""

    since: int
    until: int
    accounts: list[str]  # account index -> id
    index: dict[str, int]
    src: IntArray
    dst: IntArray
    ts: IntArray
    amount: FloatArray
    kind: npt.NDArray[np.int8]
    ref: pa.Array  # trade_id or event_id, in load order (``row``)
    unit: pa.Array  # symbol (trades) or asset (transfers), in load order
    row: IntArray  # each flow's position in ``ref`` and ``unit``
    pair_src: IntArray = field(init=False)
    pair_dst: IntArray = field(init=False)
    pair_start: IntArray = field(init=False)  # first flow of the pair (flows are contiguous)
    node_pairs: IntArray = field(init=False)  # CSR over pairs: node v's pairs
    keys: IntArray = field(init=False)  # pair index << 36 | ts - since: one sorted search key
    out_breadth: IntArray = field(init=False)
    in_breadth: IntArray = field(init=False)
    pair_stop: IntArray = field(init=False)  # one past the pair's last flow
    pair_last: IntArray = field(init=False)  # time of the pair's last flow
    pair_structure: FloatArray = field(init=False)  # structure surprise of each pair's hop
    gaps: FloatArray = field(init=False)  # sorted |log a - log b| of random pairs of flows
    # The flows again, by (sender, time), for the feasibility passes (kept, not gathered per search).
    timed_src: npt.NDArray[np.int32] = field(init=False)
    timed_dst: npt.NDArray[np.int32] = field(init=False)
    timed_ts: IntArray = field(init=False)

    def __post_init__(self) -> None:
        if self.until - self.since > MAX_WINDOW_MS:
            raise InputError("a cycle search window is at most two years long")
        n = len(self.accounts)
        m = len(self.src)
        change = np.ones(m, dtype=bool)
        if m:
            change[1:] = (self.src[1:] != self.src[:-1]) | (self.dst[1:] != self.dst[:-1])
        self.pair_start = np.flatnonzero(change).astype(np.int64)
        self.pair_src = self.src[self.pair_start]
        self.pair_dst = self.dst[self.pair_start]
        pair_of = np.cumsum(change) - 1
        self.keys = pair_of.astype(np.int64) * _SHIFT + (self.ts - self.since)
        self.node_pairs = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.pair_src, minlength=n), out=self.node_pairs[1:])
        self.out_breadth = np.bincount(self.pair_src, minlength=n).astype(np.int64)
        self.in_breadth = np.bincount(self.pair_dst, minlength=n).astype(np.int64)
        self.pair_stop = np.append(self.pair_start[1:], m).astype(np.int64)
        self.pair_last = self.ts[self.pair_stop - 1] if m else np.zeros(0, np.int64)
        timed = np.argsort(self.src * _SHIFT + (self.ts - self.since), kind="stable")
        self.timed_src = self.src[timed].astype(np.int32)
        self.timed_dst = self.dst[timed].astype(np.int32)
        self.timed_ts = self.ts[timed]
        log_p = self.log_p(self.pair_src, self.pair_dst)
        typical = float(np.mean(log_p)) if len(log_p) else 0.0
        self.pair_structure = -np.maximum(0.0, log_p - typical - 1.0)
        # The follow-through null: how far apart (in log amount) two flows picked at random
        # are. Seeded, so the same window ranks the same way every time.
        logs = np.log(np.maximum(self.amount, 1e-12))
        rng = np.random.default_rng(0)
        k = min(50_000, m * m)
        self.gaps = (
            np.sort(np.abs(logs[rng.integers(0, m, k)] - logs[rng.integers(0, m, k)]))
            if m
            else np.zeros(0)
        )

    def log_p(self, senders: IntArray, receivers: IntArray) -> FloatArray:
        """log10 of the chance of a hop sender -> receiver under the breadth-keeping null."""
        p = self.out_breadth[senders] * self.in_breadth[receivers] / max(self.pairs, 1)
        out: FloatArray = np.log10(np.minimum(p.astype(np.float64), 1.0))
        return out

    @property
    def pairs(self) -> int:
        return len(self.pair_start)

    def follow_surprise(self, before: float, after: FloatArray) -> FloatArray:
        """-log10 of the chance that two random flows' amounts are as close as ``before`` and
        each of ``after`` (log ratio no larger)."""
        if not len(self.gaps) or before <= 0:
            return np.zeros(len(after))
        gap = np.abs(np.log(np.maximum(after, 1e-12)) - math.log(before))
        share = np.maximum(np.searchsorted(self.gaps, gap, side="right"), 1) / len(self.gaps)
        out: FloatArray = -np.log10(share)
        return out

    def text(self, column: pa.Array, flow: int) -> str:
        return str(column[int(self.row[flow])].as_py())

    def refs(self) -> list[str]:
        """Every flow's id, in flow order."""
        out: list[str] = self.ref.take(pa.array(self.row)).to_pylist()
        return out

    def pair_index(self, u: int, v: int) -> int:
        lo, hi = int(self.node_pairs[u]), int(self.node_pairs[u + 1])
        at = lo + int(np.searchsorted(self.pair_dst[lo:hi], v))
        if at >= hi or int(self.pair_dst[at]) != v:
            raise KeyError((u, v))
        return at


def load_flows(
    events: EventStore,
    store: GraphBackend,
    since: int,
    until: int,
    *,
    min_amount: float = 0.0,
) -> Flows:
    """The window's fills (from the event store) and internal transfers (from the graph), as
    integer arrays sorted by (sender, receiver, time). Accounts are numbered by one dictionary
    encoding of the sender and receiver columns together and the flows sorted in numpy: no
    Python object per fill, no join (measured at M: half the time of numbering and sorting in
    DuckDB). Ids and symbols stay Arrow arrays in load order, reached through ``row``."""
    moved = store.read(
        q.TRANSFERS_IN_WINDOW, {"since": since, "until": until, "min_amount": float(min_amount)}
    ).rows
    transfers = pa.table(
        {
            "s": pa.array([str(r[0]) for r in moved], pa.string()),
            "b": pa.array([str(r[1]) for r in moved], pa.string()),
            "ts": pa.array([int(r[2]) for r in moved], pa.int64()),
            "amount": pa.array([float(r[3]) for r in moved], pa.float64()),
            "ref": pa.array([str(r[4]) for r in moved], pa.string()),
            "unit": pa.array([str(r[5] or "") for r in moved], pa.string()),
        }
    )
    with events.connection() as con:
        fills: pa.Table = con.sql(
            "SELECT seller_id AS s, buyer_id AS b, ts, price * qty AS amount, trade_id AS ref, "
            f"symbol AS unit FROM {events.scan('trades', since, until)} "
            f"WHERE seller_id <> buyer_id AND price * qty >= {float(min_amount)!r}"
        ).to_arrow_table()
    rows = pa.concat_tables([fills.cast(transfers.schema), transfers])
    m = rows.num_rows
    kind = np.concatenate(
        [np.full(fills.num_rows, TRADE, np.int8), np.full(transfers.num_rows, TRANSFER, np.int8)]
    )
    ends = pa.chunked_array(
        rows["s"].chunks + rows["b"].chunks, type=pa.string()
    ).dictionary_encode().combine_chunks()
    codes = _ints(pa.chunked_array([ends.indices]))
    names: list[str] = ends.dictionary.to_pylist()
    src, dst = codes[:m], codes[m:]
    ts = _ints(rows["ts"])
    order = np.lexsort((ts, src * max(len(names), 1) + dst)).astype(np.int64)
    return Flows(
        since=since,
        until=until,
        accounts=names,
        index={a: i for i, a in enumerate(names)},
        src=src[order],
        dst=dst[order],
        ts=ts[order],
        amount=rows["amount"].to_numpy().astype(np.float64)[order],
        kind=kind[order],
        ref=rows["ref"].combine_chunks(),
        unit=rows["unit"].combine_chunks(),
        row=order,
    )


def _ints(column: pa.ChunkedArray) -> IntArray:
    out: IntArray = column.to_numpy().astype(np.int64)
    return out


@dataclass(frozen=True)
class Hop:
    sender: str
    receiver: str
    kind: str  # trade | transfer
    ref: str  # trade_id | event_id
    unit: str  # symbol | asset
    ts: int
    amount: float
    retained: float | None  # this hop's amount over the previous hop's (None for the first)


@dataclass(frozen=True)
class Loop:
    start: str
    accounts: tuple[str, ...]  # start, ..., last before start
    hops: tuple[Hop, ...]
    span_ms: int
    retained: float  # last hop's amount over the first's
    score: float
    structure: float
    follow: float
    # Opening a loop as a case: the accounts and the evidence ids a case needs.
    case_hook: dict[str, Any]


@dataclass(frozen=True)
class CycleSearch:
    since: int
    until: int
    seeds: tuple[str, ...]
    loops: list[Loop]
    sequences: int  # distinct account sequences found (before the result cap)
    expansions: int
    elapsed_ms: float
    complete: bool  # False: stopped at a limit (``stopped`` says which)
    stopped: str | None


@dataclass(frozen=True)
class Limits:
    max_length: int = 6
    max_expansions: int = 200_000
    max_seconds: float = 1.5
    max_loops: int = 50


def latest_departures(flows: Flows, targets: Iterable[int], rounds: int) -> list[IntArray]:
    """``out[r][v]``: the latest time v can send a flow and reach one of ``targets`` within r
    hops, each later than the last (``_NEVER`` when it cannot). ``out[0]`` is +inf at the
    targets. One vectorised pass over every flow per round."""
    n = len(flows.accounts)
    level = np.full(n, _NEVER, dtype=np.int64)
    level[list(targets)] = np.iinfo(np.int64).max
    out = [level]
    src, dst, ts = flows.timed_src, flows.timed_dst, flows.timed_ts
    for _ in range(rounds):
        ok = np.flatnonzero(ts < level[dst])
        nxt = level.copy()
        if len(ok):
            s = src[ok]
            last = np.ones(len(ok), dtype=bool)
            last[:-1] = s[1:] != s[:-1]  # sorted by (sender, time): a run's last is its latest
            nxt[s[last]] = np.maximum(nxt[s[last]], ts[ok[last]])
        if np.array_equal(nxt, level):  # settled: later rounds change nothing
            out.extend([level] * (rounds + 1 - len(out)))
            break
        level = nxt
        out.append(level)
    return out


def search(flows: Flows, seeds: Sequence[str], limits: Limits | None = None) -> CycleSearch:
    """Loops that leave each seed and return to it (see the module docstring)."""
    limits = limits or Limits()
    started = time.perf_counter()
    # An account with no flow in the window has no loop: an empty, complete answer.
    known = [flows.index[s] for s in seeds if s in flows.index]
    found: dict[tuple[int, ...], tuple[float, list[int]]] = {}
    budget = _Budget(limits.max_expansions, started + limits.max_seconds)
    if known and limits.max_length >= 2:
        # One feasibility table for the whole set: a loop must return to its own start, which
        # the search checks; returning to any member is the necessary condition it prunes on.
        latest = latest_departures(flows, known, limits.max_length - 1)
        _best_first(flows, known, latest, limits.max_length, found, budget)
    # Rank by the search's score (earliest instances), then describe the best ones with their
    # steadiest instance and rank again.
    best = sorted(found.items(), key=lambda kv: -kv[1][0])[: 2 * limits.max_loops]
    loops = [_describe(flows, seq, first) for seq, (_, first) in best]
    loops.sort(key=lambda lp: (-lp.score, lp.hops[0].ts, lp.accounts))
    log.debug("cycles from %s: %d sequences, %d expansions", seeds, len(found), budget.used)
    return CycleSearch(
        since=flows.since,
        until=flows.until,
        seeds=tuple(seeds),
        loops=loops[: limits.max_loops],
        sequences=len(found),
        expansions=budget.used,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        complete=budget.stopped is None,
        stopped=budget.stopped,
    )


class _Budget:
    def __init__(self, expansions: int, deadline: float) -> None:
        self.left = expansions
        self.deadline = deadline
        self.used = 0
        self.stopped: str | None = None

    def spend(self) -> bool:
        if self.left <= 0:
            self.stopped = "expansion budget"
            return False
        if self.used % 64 == 0 and time.perf_counter() > self.deadline:
            self.stopped = "time budget"
            return False
        self.left -= 1
        self.used += 1
        return True


@dataclass(frozen=True)
class _Prefix:
    path: tuple[int, ...]  # seed first
    chosen: tuple[int, ...]  # the earliest flow of each hop so far
    weakest: float  # the smallest follow-through surprise of its steps (inf before a step)
    structure: float


@dataclass(frozen=True)
class _Children:
    parent: _Prefix
    receivers: IntArray  # by falling priority
    flows: IntArray
    weakest: FloatArray
    structure: FloatArray
    priority: FloatArray


def _best_first(
    flows: Flows,
    seeds: list[int],
    latest: list[IntArray],
    max_length: int,
    found: dict[tuple[int, ...], tuple[float, list[int]]],
    budget: _Budget,
) -> None:
    """Best-first over account sequences: the open prefix whose loosest step so far is tightest
    (plus its structure penalty) is extended next, so when a budget runs out the loops found
    are the unusual ones; prefixes of one hop come first. Each open
    prefix keeps its children sorted and offers one at a time (a lazy frontier: one heap entry
    per expanded prefix, not one per child). ``found`` maps each account sequence to its
    score and the flows of its earliest instance."""
    on_path = np.zeros(len(flows.accounts), dtype=bool)
    heap: list[tuple[float, int, _Children]] = []
    counter = itertools.count()

    def expand(prefix: _Prefix) -> None:
        node, depth = prefix.path[-1], len(prefix.chosen)
        lo, hi = int(flows.node_pairs[node]), int(flows.node_pairs[node + 1])
        if lo == hi:
            return
        last = prefix.chosen[-1] if prefix.chosen else None
        after = flows.since - 1 if last is None else int(flows.ts[last])
        # Each pair's earliest flow after ``after``: its first flow when that is late enough
        # (most pairs have one flow), else a search among its flows if its last one is.
        pos = flows.pair_start[lo:hi].copy()
        early = flows.ts[pos] <= after
        if early.any():
            late = early & (flows.pair_last[lo:hi] > after)
            at = np.flatnonzero(late)
            probe = (lo + at) * _SHIFT + (after + 1 - flows.since)
            pos[at] = np.searchsorted(flows.keys, probe)
            early &= ~late
        seed = prefix.path[0]
        remaining = max_length - depth - 1
        receivers = flows.pair_dst[lo:hi]
        closes = receivers == seed
        on_path[list(prefix.path)] = True
        when = flows.ts[pos]
        if remaining:
            go = ~early & ~on_path[receivers] & (when < latest[remaining][receivers])
        else:
            go = np.zeros(len(receivers), dtype=bool)
        on_path[list(prefix.path)] = False
        keep = np.flatnonzero(go | (closes & ~early))
        if not len(keep):
            return
        pos, receivers, go = pos[keep], receivers[keep], go[keep]
        structure = prefix.structure + flows.pair_structure[lo + keep]
        if last is None:
            weakest = np.full(len(pos), np.inf)
        else:
            step = flows.follow_surprise(float(flows.amount[last]), flows.amount[pos])
            weakest = np.minimum(prefix.weakest, step)
        for i in np.flatnonzero(receivers == seed).tolist():
            key = prefix.path
            if key not in found:
                score = depth * float(weakest[i]) + float(structure[i])
                found[key] = (score, [*prefix.chosen, int(pos[i])])
        if not go.any():
            return
        receivers, pos, weakest, structure = receivers[go], pos[go], weakest[go], structure[go]
        priority = np.minimum(weakest, 1e6) + structure
        order = np.argsort(-priority, kind="stable")
        kids = _Children(
            prefix, receivers[order], pos[order], weakest[order], structure[order], priority[order]
        )
        heapq.heappush(heap, (-float(kids.priority[0]), next(counter), kids))

    for seed in seeds:
        if not budget.spend():
            return
        expand(_Prefix((seed,), (), math.inf, 0.0))
    while heap:
        _, _, kids = heapq.heappop(heap)
        # The entry stands for its first child; the rest wait behind it.
        parent = kids.parent
        if len(kids.receivers) > 1:
            rest = _Children(
                parent, kids.receivers[1:], kids.flows[1:], kids.weakest[1:],
                kids.structure[1:], kids.priority[1:],
            )  # fmt: skip
            heapq.heappush(heap, (-float(rest.priority[0]), next(counter), rest))
        if not budget.spend():
            return
        child = _Prefix(
            (*parent.path, int(kids.receivers[0])),
            (*parent.chosen, int(kids.flows[0])),
            float(kids.weakest[0]),
            float(kids.structure[0]),
        )
        expand(child)


def _describe(flows: Flows, sequence: tuple[int, ...], earliest: list[int]) -> Loop:
    chosen, choices = _steadiest_instance(flows, sequence, earliest)
    hops: list[Hop] = []
    prev: float | None = None
    for f in chosen:
        amount = float(flows.amount[f])
        hops.append(
            Hop(
                sender=flows.accounts[int(flows.src[f])],
                receiver=flows.accounts[int(flows.dst[f])],
                kind=KINDS[int(flows.kind[f])],
                ref=flows.text(flows.ref, f),
                unit=flows.text(flows.unit, f),
                ts=int(flows.ts[f]),
                amount=amount,
                retained=None if prev is None else (amount / prev if prev > 0 else None),
            )
        )
        prev = amount
    nodes = [*sequence, sequence[0]]
    structure = sum(
        float(flows.pair_structure[flows.pair_index(u, v)]) for u, v in itertools.pairwise(nodes)
    )
    # The instance was picked among ``choices[k]`` flows per hop: a close amount found among
    # many tries is that many times less strange.
    follow = 0.0
    if len(hops) > 1:
        weakest = min(
            float(flows.follow_surprise(a.amount, np.array([b.amount]))[0])
            for a, b in itertools.pairwise(hops)
        )
        tries = sum(math.log10(max(n, 1)) for n in choices[1:])
        follow = max(0.0, (len(hops) - 1) * weakest - tries)
    accounts = tuple(flows.accounts[i] for i in sequence)
    return Loop(
        start=accounts[0],
        accounts=accounts,
        hops=tuple(hops),
        span_ms=hops[-1].ts - hops[0].ts,
        retained=hops[-1].amount / hops[0].amount if hops[0].amount > 0 else 0.0,
        score=round(structure + follow, 3),
        structure=round(structure, 3),
        follow=round(follow, 3),
        case_hook={
            "accounts": list(accounts),
            "trade_ids": [h.ref for h in hops if h.kind == "trade"],
            "transfer_ids": [h.ref for h in hops if h.kind == "transfer"],
            "since": hops[0].ts,
            "until": hops[-1].ts,
        },
    )


def _steadiest_instance(
    flows: Flows, sequence: tuple[int, ...], earliest: list[int]
) -> tuple[list[int], list[int]]:
    """Among the time-respecting choices of one flow per hop (each pair's first
    ``_PAIR_CAP`` flows from the greedy instance's on), the one whose amounts change least:
    minimum sum of |log(amount ratio)| by dynamic programming over the hops."""
    nodes = [*sequence, sequence[0]]
    options: list[IntArray] = []
    for k, (u, v) in enumerate(itertools.pairwise(nodes)):
        p = flows.pair_index(u, v)
        end = int(flows.pair_stop[p])
        start = int(earliest[k])  # no earlier flow of this hop can follow the previous ones
        options.append(np.arange(start, min(end, start + _PAIR_CAP), dtype=np.int64))
    amounts = [np.log(np.maximum(flows.amount[o], 1e-12)) for o in options]
    cost = np.zeros(len(options[0]))
    back: list[IntArray] = []
    for k in range(1, len(options)):
        t_prev, t_now = flows.ts[options[k - 1]], flows.ts[options[k]]
        step = np.abs(amounts[k][:, None] - amounts[k - 1][None, :]) + cost[None, :]
        step[t_prev[None, :] >= t_now[:, None]] = np.inf
        best = np.argmin(step, axis=1)
        cost = step[np.arange(len(best)), best]
        back.append(best.astype(np.int64))
    choices = [len(o) for o in options]
    if not np.isfinite(cost).any():
        return earliest, choices
    pick = int(np.argmin(cost))
    chosen = [int(options[-1][pick])]
    for k in range(len(options) - 1, 0, -1):
        pick = int(back[k - 1][pick])
        chosen.append(int(options[k - 1][pick]))
    return chosen[::-1], choices
