"""Spoofing and layering as bait-and-switch episodes, searched column-wise in the event store.

Quick cancels, cancelled-over-filled quantity and frequency describe every liquidity provider.
What misleads is the switch: large orders rest on one side (the bait, often on several price
levels), the account trades on the other side while they rest or just after, and the bait is
pulled right around that fill. An episode is one fill of the account with the bait orders
matched to it; each bait must be far larger than that fill, than the account's own typical fill
in the symbol and than the symbol's typical order, rest near the fill price on the passive side
and be pulled within a few seconds of the fill. A market maker's quotes fail on size (it quotes
what it trades) and on one-sidedness (its own orders on the fill's side rest as large).

The search never walks orders in Python: ``order_days`` aggregates pick the account-symbol-days
whose largest order could be bait; DuckDB reads only those days' orders and the accounts' fills
and matches them with range joins. Approval for API trading plays no part.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from analytics.behaviour import Flag
from analytics.config import BehaviourConfig
from analytics.order_candidates import OrderCandidates
from analytics.projection import Accounts, FloatArray, IntArray, OrderDays, Trades, Window
from events.store import EventStore, balanced_cuts, sql_text
from events.tables import DAY_MS, ORDERS

log = logging.getLogger(__name__)

# Candidate fills searched in one pass (``search_episodes``), and DuckDB's memory for a pass.
# Measured on the kept L store (17.7M candidate fills): one pass with DuckDB at 2 GB, 5.5 GB
# at the search's peak; passes of 4M at 2 GB, 5.0 GB in 56 s; of 2M at 1 GB, 3.9 GB in 61 s.
SEARCH_FILLS_PER_PASS = 2_000_000
SEARCH_MEMORY = "1GB"


@dataclass
class SpoofingResult:
    flags: list[Flag]
    # Why an account that cancels often and quickly was not called a spoofer (by position).
    cleared: dict[int, str] = field(default_factory=dict)


def candidate_days(orders: OrderDays, typical: FloatArray, cfg: BehaviourConfig) -> np.ndarray:
    """Account-symbol-days whose largest order could be bait: something was cancelled and the
    largest order is well above the symbol's typical order and the day's filled orders."""
    mean_fill = orders.qty_filled / np.maximum(orders.filled + orders.partially_filled, 1)
    mask: np.ndarray = (
        (orders.cancelled > 0)
        & (orders.max_qty >= cfg.spoof_bait_symbol_ratio * typical[orders.symbol])
        & (orders.max_qty >= cfg.spoof_bait_fill_ratio * mean_fill)
    )
    return mask


OWN_FROM_FILLS = """SELECT account_id, symbol, median(qty) AS fill_median, count(*) AS fills
    FROM f GROUP BY account_id, symbol"""
# An engine that keeps the fills elsewhere sends each candidate (account, symbol)'s one or two
# middle fill sizes and its fill count (``own_middle``): the median of those is the median.
OWN_FROM_MIDDLE = """SELECT account_id, symbol, median(qty) AS fill_median, any_value(n) AS fills
    FROM own_middle GROUP BY account_id, symbol"""


def _bait_ctes(orders: str, cfg: BehaviourConfig, own: str) -> str:
    """``o`` (the candidate days' large orders), ``own`` (each candidate account's fill median
    and count in the symbol) and ``bait``; ``cand`` and ``typical`` are registered."""
    # Only large orders are read on: bait candidates and the account's own large orders on
    # the fill's side (a quoting account's other side); small orders can be neither.
    return f"""
WITH o AS (
    SELECT o.order_id, o.account_id, o.symbol, o.side, o.type, o.price, o.qty, o.placed_at,
        o.ended_at, o.final_status, o.filled_qty, o.channel, s.typical
    FROM {orders} o JOIN typical s USING (symbol)
        SEMI JOIN cand c ON o.account_id = c.account_id AND o.symbol = c.symbol
            AND o.placed_at // {DAY_MS} = c.day
    WHERE o.ended_at IS NOT NULL AND o.qty >= {cfg.spoof_bait_symbol_ratio} * s.typical
),
own AS ({own}),
bait AS (
    SELECT o.*, own.fill_median
    FROM o JOIN own USING (account_id, symbol)
    WHERE o.final_status = 'cancelled' AND o.price IS NOT NULL
        AND o.filled_qty <= {cfg.spoof_bait_max_filled_share} * o.qty
        AND o.qty >= {cfg.spoof_bait_fill_ratio} * own.fill_median
        AND o.ended_at - o.placed_at >= {cfg.spoof_min_rest_ms}
)"""


# A bait order's whole row (every ``orders`` column) goes out with its episode: write-back makes
# the cited bait evidence Order nodes from these rows, where looking them up again by id read
# the order ids of every day in the window (day files are sorted by account; 1.4 of M's 6 s).
BAIT_ROW = ", ".join(ORDERS.schema.names)


def _episode_sql(orders: str, cfg: BehaviourConfig, own: str = OWN_FROM_FILLS) -> str:
    """Episodes of the candidate days: ``cand`` (account_id, symbol, day), ``typical`` (symbol,
    typical order qty) and ``f`` (the candidate accounts' fills in those symbols, with the
    account's side) are registered; one row per switch fill with its bait orders."""
    bucket = cfg.spoof_cancel_after_fill_ms + cfg.spoof_fill_after_cancel_ms
    return _bait_ctes(orders, cfg, own) + f""",
-- A switch fill lies within a few seconds of the bait's end: joining on time buckets of the
-- account and symbol keeps a market maker's thousands of fills from meeting all its orders.
fb AS (SELECT *, ts // {bucket} AS bucket FROM f),
bb AS (
    SELECT *, unnest(range((ended_at - {cfg.spoof_cancel_after_fill_ms}) // {bucket},
        (ended_at + {cfg.spoof_fill_after_cancel_ms}) // {bucket} + 1)) AS bucket
    FROM bait
),
matched AS (
    SELECT b.* EXCLUDE (bucket), f.trade_id, f.ts AS fill_ts, f.price AS fill_price,
        f.qty AS fill_qty, f.side AS fill_side
    FROM bb b JOIN fb f ON f.account_id = b.account_id AND f.symbol = b.symbol
        AND f.bucket = b.bucket
        AND f.side <> b.side AND f.ts >= b.placed_at
        AND f.ts BETWEEN b.ended_at - {cfg.spoof_cancel_after_fill_ms}
            AND b.ended_at + {cfg.spoof_fill_after_cancel_ms}
        AND b.qty >= {cfg.spoof_bait_fill_ratio} * f.qty
        AND abs(b.price - f.price) <= {cfg.spoof_max_distance} * f.price
        AND CASE WHEN b.side = 'sell' THEN b.price >= f.price ELSE b.price <= f.price END
    QUALIFY row_number() OVER (
        PARTITION BY b.order_id ORDER BY abs(b.ended_at - f.ts), f.trade_id) = 1
),
ep AS (
    SELECT account_id, symbol, trade_id, any_value(fill_ts) AS fill_ts,
        any_value(fill_price) AS fill_price, any_value(fill_qty) AS fill_qty,
        any_value(fill_side) AS fill_side, any_value(fill_median) AS fill_median,
        any_value(typical) AS typical,
        list(order_id ORDER BY placed_at, order_id) AS bait_ids,
        list(struct_pack({BAIT_ROW}) ORDER BY placed_at, order_id) AS bait_rows,
        count(*) AS baits,
        sum(qty) AS bait_qty, count(DISTINCT price) AS levels,
        min(placed_at) AS first_placed, max(ended_at) AS last_ended,
        min(ended_at) AS first_ended,
        min(abs(price - fill_price) / fill_price) AS min_distance,
        max(abs(price - fill_price) / fill_price) AS max_distance
    FROM matched GROUP BY account_id, symbol, trade_id
),
same AS (
    SELECT e.trade_id, e.account_id, coalesce(sum(o.qty), 0.0) AS same_qty
    FROM ep e LEFT JOIN o ON o.account_id = e.account_id AND o.symbol = e.symbol
        AND o.side = e.fill_side AND o.placed_at <= e.last_ended AND o.ended_at >= e.first_placed
    GROUP BY e.trade_id, e.account_id
)
SELECT e.*, s.same_qty, own.fills AS account_fills
FROM ep e JOIN same s USING (trade_id, account_id) JOIN own USING (account_id, symbol)
ORDER BY e.account_id, e.fill_ts, e.trade_id"""


def _own_fill_rows(trades: Trades, pairs: set[tuple[int, str]]) -> dict[str, IntArray]:
    """Positions of the fills of candidate (account, symbol) pairs, by the account's side."""
    n_sym = max(len(trades.symbols), 1)
    code_of = {name: i for i, name in enumerate(trades.symbols)}
    wanted = np.asarray(
        sorted(a * n_sym + code_of[s] for a, s in pairs if s in code_of), dtype=np.int64
    )
    return {
        side: np.flatnonzero(np.isin(who * n_sym + trades.symbol, wanted))
        for side, who in (("buy", trades.buyer), ("sell", trades.seller))
    }


def _own_fills(
    trades: Trades, ids: pa.Array, rows: dict[str, IntArray], lo: int, hi: int
) -> pa.Table:
    """The fills at ``rows`` (``_own_fill_rows``) of accounts at positions ``lo`` .. ``hi - 1``,
    one row per side the account took: from the fills already in memory, so the event store's
    trades are not read again. The account, symbol and side are dictionary-encoded over the
    ids and names already held (at 10^6 accounts the pairs' 17.7M sides were a 1.2 GB table
    with each string copied)."""
    symbols = pa.array(trades.symbols, type=pa.string())
    parts = []
    for side, who in (("buy", trades.buyer), ("sell", trades.seller)):
        mine = rows[side]
        mine = mine[(who[mine] >= lo) & (who[mine] < hi)]
        parts.append(
            pa.table(
                {
                    "trade_id": trades.trade_id.take(pa.array(mine)),
                    "ts": trades.ts[mine],
                    "symbol": _coded(trades.symbol[mine], symbols),
                    "price": trades.price[mine],
                    "qty": trades.qty[mine],
                    "account_id": _coded(who[mine], ids),
                    "side": _coded(np.zeros(len(mine), dtype=np.int32), pa.array([side])),
                }
            )
        )
    return pa.concat_tables(parts)


def account_ranges(
    trades: Trades, rows: dict[str, IntArray], n_accounts: int, per_pass: int
) -> list[tuple[int, int]]:
    """Ranges of account positions (``lo``, ``hi``), each holding about ``per_pass`` of the
    fills at ``rows``; an account's fills are never split."""
    counts = np.zeros(n_accounts, dtype=np.int64)
    for side, who in (("buy", trades.buyer), ("sell", trades.seller)):
        counts += np.bincount(who[rows[side]], minlength=n_accounts)
    passes = -(-int(counts.sum()) // per_pass)
    return list(itertools.pairwise([0, *balanced_cuts(counts, passes), n_accounts]))


def _account_range(ids: pa.Array, lo: int, hi: int) -> Callable[[Any], Any]:
    """A mask of the account ids of positions ``lo`` .. ``hi - 1`` (ids are sorted)."""

    def mask(column: Any) -> Any:
        inside = pc.greater_equal(column, ids[lo])
        if hi < len(ids):
            inside = pc.and_(inside, pc.less(column, ids[hi]))
        return inside

    return mask


def _range_sql(ids: pa.Array, lo: int, hi: int) -> str:
    """The same range as SQL on ``account_id``, literal so that DuckDB prunes row groups."""
    where = f"account_id >= {sql_text(ids[lo].as_py())}"
    if hi < len(ids):
        where += f" AND account_id < {sql_text(ids[hi].as_py())}"
    return where


def _coded(codes: npt.NDArray[np.integer], names: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), names)


def _market_before(trades: Trades, symbols: list[str], times: list[int]) -> list[float | None]:
    """The market's last trade price in each symbol before each time (fills are sorted by
    symbol and time), for the price effect of the bait."""
    code_of = {name: i for i, name in enumerate(trades.symbols)}
    key = trades.symbol * (1 << 42) + trades.ts
    out: list[float | None] = []
    for name, t in zip(symbols, times, strict=True):
        code = code_of.get(name)
        if code is None:
            out.append(None)
            continue
        i = int(np.searchsorted(key, code * (1 << 42) + t)) - 1
        out.append(float(trades.price[i]) if i >= 0 and trades.symbol[i] == code else None)
    return out


MarketBefore = Callable[[list[str], list[int]], list[float | None]]


def _candidates(
    accounts: Accounts, candidates: OrderCandidates, cfg: BehaviourConfig
) -> tuple[pa.Table, set[tuple[int, str]]]:
    """The candidate days as ``cand`` (account_id, symbol, day) and their (account, symbol)."""
    orders = candidates.days
    rows = np.flatnonzero(candidate_days(orders, candidates.typical, cfg))
    ids = pa.array(accounts.ids, type=pa.string())
    cand_symbols = [orders.symbols[s] for s in orders.symbol[rows].tolist()]
    cand = pa.table(
        {
            "account_id": ids.take(pa.array(orders.account[rows], type=pa.int64())),
            "symbol": pa.array(cand_symbols, type=pa.string()),
            "day": pa.array(orders.day[rows], type=pa.int64()),
        }
    )
    return cand, set(zip(orders.account[rows].tolist(), cand_symbols, strict=True))


def bait_windows(
    events: EventStore,
    accounts: Accounts,
    candidates: OrderCandidates,
    window: Window,
    cfg: BehaviourConfig,
    own_middle: pa.Table,
) -> pa.Table:
    """For an engine that keeps the fills elsewhere: each bait order's account, symbol and
    end (``account_id``, ``symbol``, ``ended_at``), around which a switch fill could lie; the
    search then needs only those fills (``own_middle`` as for ``search_episodes``)."""
    cand, _ = _candidates(accounts, candidates, cfg)
    if not cand.num_rows:
        return pa.table({"account_id": [], "symbol": [], "ended_at": pa.array([], pa.int64())})
    orders = events.scan("orders", window.since, window.until)
    with events.connection() as con:
        con.register("cand", cand)
        con.register("typical", pa.table({"symbol": candidates.days.symbols,
                                          "typical": candidates.typical}))  # fmt: skip
        con.register("own_middle", own_middle)
        sql = _bait_ctes(orders, cfg, OWN_FROM_MIDDLE)
        table: pa.Table = con.sql(
            sql + " SELECT DISTINCT account_id, symbol, ended_at FROM bait"
        ).to_arrow_table()
    return table


def search_episodes(
    events: EventStore,
    accounts: Accounts,
    candidates: OrderCandidates,
    trades: Trades,
    window: Window,
    cfg: BehaviourConfig,
    *,
    market_before: MarketBefore | None = None,
    own_middle: pa.Table | None = None,
) -> list[dict[str, Any]]:
    """Every switch-shaped episode of the candidate days, one-sided or not (decided later).

    An engine that sends only some fills gives the market's last price before a time from
    every fill (``market_before``) and each candidate account's one or two middle fill sizes
    in the symbol with its fill count (``own_middle``: account_id, symbol, qty, n); ``trades``
    must then hold every fill of the candidate accounts around their bait orders' ends
    (``bait_windows``)."""
    cand, pairs = _candidates(accounts, candidates, cfg)
    if not cand.num_rows:
        return []
    rows = _own_fill_rows(trades, pairs)
    own = OWN_FROM_FILLS if own_middle is None else OWN_FROM_MIDDLE
    orders = events.scan("orders", window.since, window.until)
    ids = pa.array(accounts.ids, type=pa.string())
    found: list[dict[str, Any]] = []
    with events.connection(at_most=SEARCH_MEMORY) as con:
        con.register("typical", pa.table({"symbol": candidates.days.symbols,
                                          "typical": candidates.typical}))  # fmt: skip
        # A range of accounts at a time: everything the search relates is one account's, so
        # the passes together find what one pass over all finds, in the same order (accounts
        # ascend). The day files are sorted by account, so each pass reads only its accounts'
        # row groups; at L one pass held the candidates' 17.7M fills and DuckDB at its limit.
        for lo, hi in account_ranges(trades, rows, len(accounts), SEARCH_FILLS_PER_PASS):
            mine = _account_range(ids, lo, hi)
            part = cand.filter(mine(cand.column("account_id")))
            if not part.num_rows:
                continue
            con.register("cand", part)
            con.register("f", _own_fills(trades, ids, rows, lo, hi))
            if own_middle is not None:
                con.register("own_middle", own_middle.filter(mine(own_middle["account_id"])))
            in_range = f"(SELECT * FROM {orders} WHERE {_range_sql(ids, lo, hi)})"
            episodes = con.sql(_episode_sql(in_range, cfg, own)).to_arrow_table()
            # The bait rows stay Arrow: only the cited episodes of flagged accounts become dicts
            # (``_flag``), not the thousands of a cleared market maker.
            part = episodes.drop_columns(["bait_rows"]).to_pylist()
            for e, bait in zip(part, episodes.column("bait_rows"), strict=True):
                e["bait_rows"] = bait
            found += part
            con.unregister("f")
    symbols, times = [e["symbol"] for e in found], [int(e["first_placed"]) for e in found]
    if market_before is None:
        before = _market_before(trades, symbols, times)
    else:
        before = market_before(symbols, times)
    for e, price in zip(found, before, strict=True):
        e["market_before"] = price
    log.info(
        "spoofing: %d candidate account-days, %d switch-shaped fills", cand.num_rows, len(found)
    )
    return found


def _episode_evidence(e: dict[str, Any]) -> dict[str, Any]:
    fill_qty = float(e["fill_qty"])
    bait_side = "sell" if e["fill_side"] == "buy" else "buy"
    lead = int(e["fill_ts"]) - int(e["first_placed"])
    pulled = int(e["last_ended"]) - int(e["fill_ts"])
    over_fill = float(e["bait_qty"]) / fill_qty
    move = None
    if e["market_before"]:
        before, price = float(e["market_before"]), float(e["fill_price"])
        # Positive: the market traded toward the account's fill while the bait rested.
        sign = 1.0 if e["fill_side"] == "buy" else -1.0
        move = round(sign * (before - price) / before * 10_000, 1)
    pulled_text = f"pulled {pulled} ms after" if pulled >= 0 else f"pulled {-pulled} ms before"
    return {
        "symbol": e["symbol"],
        "fill_trade_id": e["trade_id"],
        "fill_ts": int(e["fill_ts"]),
        "fill_side": e["fill_side"],
        "fill_qty": fill_qty,
        "fill_price": float(e["fill_price"]),
        "bait_order_ids": list(e["bait_ids"]),
        "bait_side": bait_side,
        "bait_orders": int(e["baits"]),
        "bait_levels": int(e["levels"]),
        "bait_qty": round(float(e["bait_qty"]), 6),
        "bait_over_fill": round(over_fill, 1),
        "bait_over_account_median_fill": round(float(e["bait_qty"]) / float(e["fill_median"]), 1),
        "bait_over_symbol_typical_order": round(
            float(e["bait_qty"]) / max(float(e["typical"]), 1e-12), 1
        ),
        "bait_lead_ms": lead,
        "bait_pulled_after_fill_ms": pulled,
        "bait_distance_bp": [
            round(float(e["min_distance"]) * 10_000, 1),
            round(float(e["max_distance"]) * 10_000, 1),
        ],
        "same_side_qty": round(float(e["same_qty"]), 6),
        "one_sided": round(_one_sided(e), 3),
        "market_move_toward_fill_bp": move,
        "explanation": (
            f"{e['baits']} {bait_side} orders on {e['levels']} level(s), {over_fill:.0f}x the "
            f"fill, placed {lead} ms before the account's {e['fill_side']} fill of "
            f"{fill_qty:g} and {pulled_text} it"
        ),
    }


def _one_sided(e: dict[str, Any]) -> float:
    bait = float(e["bait_qty"])
    return bait / (bait + float(e["same_qty"]))


def spoofing_flags(
    events: EventStore,
    accounts: Accounts,
    candidates: OrderCandidates,
    trades: Trades,
    window: Window,
    cfg: BehaviourConfig,
    *,
    market_before: MarketBefore | None = None,
    own_middle: pa.Table | None = None,
) -> SpoofingResult:
    if not len(candidates.days):
        return SpoofingResult([])
    found = search_episodes(
        events, accounts, candidates, trades, window, cfg,
        market_before=market_before, own_middle=own_middle,
    )  # fmt: skip
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in found:
        by_account[e["account_id"]].append(e)
    position = {a: i for i, a in enumerate(accounts.ids)}
    flags: list[Flag] = []
    cleared: dict[int, str] = {}
    for account_id, episodes in sorted(by_account.items()):
        one_sided = [e for e in episodes if _one_sided(e) >= cfg.spoof_min_one_sided]
        fills = sum({str(e["symbol"]): int(e["account_fills"]) for e in episodes}.values())
        share = len(one_sided) / max(fills, 1)
        acc = position[account_id]
        if len(one_sided) < cfg.spoof_min_episodes or share < cfg.spoof_min_switch_share:
            cleared[acc] = (
                f"{len(episodes)} fill(s) had a large order of its own on the other side pulled "
                f"around them, {len(one_sided)} of them one-sided (in the others its own orders "
                f"on the fill's side rested as large: quoting both sides); that is "
                f"{share:.1%} of its {fills} fills in those symbols, under the "
                f"{cfg.spoof_min_episodes} episodes and {cfg.spoof_min_switch_share:.0%} needed"
            )
            continue
        flags.append(_flag(acc, one_sided, fills, cfg))
    _cite_trades(flags, trades)
    return SpoofingResult(flags, cleared)


def _flag(acc: int, episodes: list[dict[str, Any]], fills: int, cfg: BehaviourConfig) -> Flag:
    shown = [_episode_evidence(e) for e in episodes]
    days: dict[tuple[str, int], int] = defaultdict(int)
    for e in episodes:
        days[(str(e["symbol"]), int(e["fill_ts"]) // DAY_MS)] += 1
    moves = [x["market_move_toward_fill_bp"] for x in shown]
    measured = [m for m in moves if m is not None]
    toward = sum(m > 0 for m in measured)
    ratio = float(np.median([x["bait_over_fill"] for x in shown]))
    score = min(
        1.0,
        0.6
        + 0.2 * min(1.0, len(episodes) / 10)
        + 0.1 * min(1.0, np.log10(max(ratio, 1.0)) / 2)
        + (0.1 * toward / len(measured) if measured else 0.0),
    )
    evidence: dict[str, Any] = {
        "episodes_total": len(episodes),
        "switch_share_of_fills": round(len(episodes) / max(fills, 1), 3),
        "median_bait_over_fill": round(ratio, 1),
        # What the bait showed the market: every episode's bait quantity at its fill's price.
        "spoofed_notional": round(
            sum(float(e["bait_qty"]) * float(e["fill_price"]) for e in episodes), 2
        ),
        "price_move_measured": len(measured),
        "price_moved_toward_fill": toward,
        "days": [{"symbol": s, "day": d, "episodes": n} for (s, d), n in sorted(days.items())],
        "episodes": shown[: cfg.spoof_evidence_episodes],
        "why": (
            f"{len(episodes)} bait-and-switch episodes: large one-sided orders (median "
            f"{ratio:.0f}x the fill) pulled around the account's own fills on the other side"
        ),
    }
    flag = Flag(acc, "spoofing", score, evidence)
    flag.order_days = sorted(days)
    cited = episodes[: cfg.spoof_evidence_episodes]
    flag.cited_orders = [row for e in cited for row in e["bait_rows"].as_py()]
    return flag


def _cite_trades(flags: list[Flag], trades: Trades) -> None:
    """Fill ids -> positions in ``trades``, so write-back makes them evidence Trade nodes."""
    wanted = [x["fill_trade_id"] for f in flags for x in f.evidence["episodes"]]
    if not wanted:
        return
    hit = pc.is_in(trades.trade_id, value_set=pa.array(wanted, type=pa.string()))
    positions = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    where = dict(zip(trades.ids(positions.tolist()), positions.tolist(), strict=True))
    for f in flags:
        f.trades = [
            where[x["fill_trade_id"]] for x in f.evidence["episodes"] if x["fill_trade_id"] in where
        ]


NO_BAIT = (
    "no order of its own far larger than its fills and the symbol's typical order was pulled "
    "around a fill of its own on the other side: quick cancels alone are not spoofing"
)


def explain_not_spoofing(bot_flags: list[Flag], result: SpoofingResult) -> None:
    """A frequent canceller flagged as an unauthorized bot says why it is not a spoofer too."""
    spoofers = {f.account for f in result.flags}
    for flag in bot_flags:
        if flag.account not in spoofers:
            flag.evidence["not_spoofing"] = result.cleared.get(flag.account, NO_BAIT)
