"""Column-wise projections of the graph for the analytics (numpy arrays, accounts by position).

Everything is read with a few ``collect()`` queries through ``GraphBackend.read_columns``,
whose lists of integers travel as text that numpy parses in C. Doubles are sent as two integers
(a 15-digit mantissa and a power of ten), exact to 2e-16, because the fast wire form prints
doubles with only six decimals. Accounts are numbered 0..n-1 in ``account_id`` order, so
results do not depend on the store's internal ids or on input order.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from events.id_index import IdIndex
from events.store import EventStore
from events.tables import ORDER_DAYS
from graph.backend import GraphBackend
from linkscope.errors import InputError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def collect_exact(expr: str) -> str:
    """Two ``collect()`` columns of integers that carry a double exactly (see ``decode``)."""
    exponent = f"CASE WHEN {expr} = 0 THEN 0 ELSE toInteger(floor(log10(abs({expr})))) END"
    return f"collect(toInteger(round({expr} / 10^({exponent} - 14)))), collect({exponent})"


def decode(mantissa: IntArray, exponent: IntArray) -> FloatArray:
    scale: FloatArray = np.power(10.0, (exponent - 14).astype(np.float64))
    return mantissa.astype(np.float64) * scale


@dataclass(frozen=True)
class Accounts:
    ids: list[str]
    node_ids: IntArray  # store-internal id of each account, by position
    account_type: list[str]
    api_authorized: BoolArray
    status: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def node_of(self) -> dict[str, int]:
        """Account id -> store-internal id."""
        return dict(zip(self.ids, self.node_ids.tolist(), strict=True))

    def positions(self, node_ids: IntArray) -> IntArray:
        """Store-internal ids -> positions (every id must be an account's)."""
        order = np.argsort(self.node_ids, kind="stable")
        sorted_nodes = self.node_ids[order]
        found = np.searchsorted(sorted_nodes, node_ids)
        return order[np.minimum(found, len(order) - 1)].astype(np.int64)


_ACCOUNT_IDS = "MATCH (a:Account) RETURN collect(a.account_id), collect(id(a))"
# Accounts whose type, status or API permission is not the usual one (a few percent at a
# venue), read apart from the ids: each collected column of 10^6 accounts costs ~1.6 s to
# parse, and read together they were 8-10 s of an L analysis.
_UNUSUAL_ACCOUNTS = (
    "MATCH (a:Account) WHERE coalesce(a.account_type, 'retail') <> 'retail' "
    "OR coalesce(a.status, 'active') <> 'active' OR coalesce(a.api_authorized, false) "
    "RETURN collect(id(a)), collect(coalesce(a.account_type, 'retail')), "
    "collect(coalesce(a.api_authorized, false)), collect(coalesce(a.status, 'active'))"
)


def read_accounts(store: GraphBackend) -> Accounts:
    """Every account, ordered by id."""
    rows = store.read(_ACCOUNT_IDS).rows
    ids, nodes = rows[0] if rows else ([], [])
    order = pc.sort_indices(pa.array(ids, type=pa.string())).to_numpy()
    accounts = Accounts(
        [ids[i] for i in order.tolist()],
        np.asarray(nodes, dtype=np.int64)[order],
        ["retail"] * len(ids),
        np.zeros(len(ids), dtype=bool),
        ["active"] * len(ids),
    )
    unusual = store.read(_UNUSUAL_ACCOUNTS).rows
    if unusual and len(accounts):
        nodes_u, types_u, api_u, status_u = unusual[0]
        found = accounts.positions(np.asarray(nodes_u, dtype=np.int64))
        for k, position in enumerate(found.tolist()):
            if accounts.node_ids[position] != nodes_u[k]:
                continue  # created after the ids were read
            accounts.account_type[position] = types_u[k]
            accounts.status[position] = status_u[k]
            accounts.api_authorized[position] = bool(api_u[k])
    return accounts


@dataclass(frozen=True)
class Trades:
    """Every fill in the window, sorted by (symbol, ts, trade_id); sides are account positions."""

    trade_id: pa.Array  # strings, by position (Arrow keeps millions of ids compact)
    ts: IntArray
    seller: IntArray
    buyer: IntArray
    symbol: IntArray  # position in ``symbols``
    market: IntArray  # position in ``markets``
    qty: FloatArray
    price: FloatArray
    symbols: list[str]
    markets: list[str]

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def quote(self) -> FloatArray:
        """Every fill's quote volume, computed anew (25.7M fills at L: ~0.1 s, 200 MB)."""
        return self.qty * self.price

    def quote_of(self, positions: IntArray) -> FloatArray:
        """The quote volume of some fills: what a per-account or per-set figure must use, as
        ``quote[positions]`` computes the whole window's first (at L, 800 self-matching flags
        and 800 wash sets made it ~45 s of the analysis)."""
        quote: FloatArray = self.qty[positions] * self.price[positions]
        return quote

    def ids(self, positions: list[int]) -> list[str]:
        return [
            str(x) for x in self.trade_id.take(pa.array(positions, type=pa.int64())).to_pylist()
        ]


@dataclass(frozen=True)
class Window:
    """The time range an analysis looks at (epoch ms, ``until`` exclusive); None: unbounded."""

    since: int | None = None
    until: int | None = None


def read_trades(events: EventStore, accounts: Accounts, window: Window = Window()) -> Trades:
    """Fills from the event store, column-wise (pyarrow -> numpy), sorted by (symbol, ts,
    trade_id).

    Each day file is sorted that way and days follow each other in time, so a stable sort on
    the symbol alone orders the whole window: no sort of millions of ids. Accounts, symbols
    and markets are read as Parquet's dictionaries and coded through them."""
    column = events.column_reader(
        "trades", since=window.since, until=window.until, dictionaries=True
    )
    ids = pa.array(accounts.ids, type=pa.string())
    symbol, symbols = _sorted_codes(column("symbol"))
    ts = _ints(column("ts"))
    order = sort_order(symbol)  # a radix sort up to 65,536 symbols
    runs = _runs(order)
    symbol, ts = _in_order(symbol, order, runs), _in_order(ts, order, runs)
    if not _ascending(symbol, ts):  # day files written before they were sorted
        fix = pc.sort_indices(
            pa.table({"s": symbol, "t": ts, "id": column("trade_id").take(order)}),
            sort_keys=[("s", "ascending"), ("t", "ascending"), ("id", "ascending")],
        ).to_numpy()
        order, runs = order[fix], None
        symbol, ts = symbol[fix], ts[fix]
    market, markets = _sorted_codes(column("market"), missing="spot")

    coded = {name: column.codes(name) for name in ("seller_id", "buyer_id")}
    positions = _registry_positions(coded, ids)

    def side(name: str) -> IntArray:
        codes = coded.pop(name)
        if codes is None or positions is None:
            return _in_order(account_positions(column(name), ids), order, runs)
        found = positions[codes[0]]
        if (found < 0).any():
            raise InputError("the event store holds fills of accounts the graph does not know")
        return _in_order(found, order, runs)

    # One column at a time, each read, coded and reordered before the next is read; the two
    # sides' lookups (hashing every row's account id) side by side: Arrow releases the GIL.
    with ThreadPoolExecutor(2) as pool:
        seller, buyer = pool.map(side, ("seller_id", "buyer_id"))
    return Trades(
        column("trade_id").combine_chunks().take(pa.array(order, type=pa.int64())),
        ts,
        seller,
        buyer,
        symbol,
        _in_order(market, order, runs),
        _in_order(_floats(column("qty")), order, runs),
        _in_order(_floats(column("price")), order, runs),
        symbols,
        markets,
    )


def _runs(order: IntArray) -> list[slice] | None:
    """``order`` as slices of consecutive rows, when it is made of few: a window's day files,
    each sorted by symbol, give one run per day and symbol, and copying runs is ~10x faster than
    gathering rows one by one. None when runs would not pay."""
    if len(order) < 2:
        return None
    breaks = np.flatnonzero(np.diff(order) != 1) + 1
    if len(breaks) > len(order) // 16:
        return None
    starts = order[np.concatenate(([0], breaks))]
    ends = order[np.concatenate((breaks - 1, [len(order) - 1]))] + 1
    return [slice(a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _in_order(values: NDArray[Any], order: IntArray, runs: list[slice] | None) -> NDArray[Any]:
    """``values[order]``, copied run by run where ``runs`` describes ``order``."""
    if runs is None:
        return values[order]
    return np.concatenate([values[run] for run in runs])


def _registry_positions(
    coded: dict[str, tuple[NDArray[np.int32], pa.Array] | None], ids: pa.Array
) -> IntArray | None:
    """Each code's account position (-1: not an account of the graph), when the sides are
    coded: a million ids hashed once instead of both sides' tens of millions of strings."""
    found = [c for c in coded.values() if c is not None]
    if not found:
        return None
    return _ints(pc.fill_null(pc.index_in(found[0][1], value_set=ids), -1))


def _ascending(symbol: IntArray, ts: IntArray) -> bool:
    """Whether rows are in (symbol, ts) order, as one packed key (one pass, no temporaries
    per column)."""
    if len(ts) < 2:
        return True
    low = int(ts.min())
    key = symbol * (int(ts.max()) - low + 1) + (ts - low)
    return bool((key[1:] >= key[:-1]).all())


def codes_in(column: pa.ChunkedArray, values: pa.Array | IdIndex) -> tuple[IntArray, bool]:
    """Each row's position in ``values`` (-1: null, or not among them), going through each
    chunk's dictionary where the column has one (all dictionaries looked up in one call: each
    call hashes ``values`` anew, unless they come hashed once as an ``IdIndex``); and whether
    every row was found."""
    chunks = column.chunks
    if not chunks:
        return np.zeros(0, dtype=np.int64), True

    def look_up(asked: pa.Array | pa.ChunkedArray) -> IntArray:
        if isinstance(values, IdIndex):
            return values.positions(asked)
        return _ints(pc.fill_null(pc.index_in(asked, value_set=values), -1))

    plain = [c for c in chunks if not pa.types.is_dictionary(c.type)]
    if plain:  # not read through dictionaries: look every value up
        codes = look_up(column)
        return codes, bool((codes >= 0).all())
    lookup = look_up(pa.concat_arrays([c.dictionary for c in chunks]))
    if not len(lookup):  # only nulls
        return np.full(len(column), -1, dtype=np.int64), len(column) == 0
    # Each chunk's rows gathered from its own slice of the lookup (a few kB: in cache) into
    # one output, rather than shifting every chunk's indices and gathering all rows at once;
    # position ``size`` of a chunk's slice stands for a null.
    codes = np.empty(len(column), dtype=np.int64)
    offset = start = 0
    for chunk in chunks:
        size = len(chunk.dictionary)
        own = np.append(lookup[offset : offset + size], -1)
        if chunk.null_count:
            indices = _ints(pc.fill_null(chunk.indices, size))
        else:
            indices = chunk.indices.to_numpy()
        np.take(own, indices, out=codes[start : start + len(chunk)])
        offset += size
        start += len(chunk)
    return codes, bool((codes >= 0).all())


def distinct_strings(column: pa.ChunkedArray) -> list[str]:
    seen: set[str] = set()
    for chunk in column.chunks:
        values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else pc.unique(chunk)
        seen.update(str(x) for x in values.to_pylist() if x is not None)
    return sorted(seen)


def _sorted_codes(
    column: pa.ChunkedArray, missing: str | None = None
) -> tuple[IntArray, list[str]]:
    """Each value's position among the column's distinct values in sorted order (codes do not
    depend on the order rows were stored in); nulls count as ``missing``."""
    names = distinct_strings(column)
    if missing is not None and column.null_count and missing not in names:
        names = sorted([*names, missing])
    if not names:
        return np.zeros(len(column), dtype=np.int64), []
    codes, _ = codes_in(column, pa.array(names, type=pa.string()))
    if missing is not None:
        codes = np.where(codes < 0, names.index(missing), codes)
    return codes, names


def _ints(column: pa.ChunkedArray | pa.Array) -> IntArray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.int64)


def _floats(column: pa.ChunkedArray) -> FloatArray:
    return np.asarray(column.to_numpy(), dtype=np.float64)


def account_positions(column: pa.ChunkedArray, ids: pa.Array | IdIndex) -> IntArray:
    """Each row's position in ``ids``; every account must be among them."""
    codes, complete = codes_in(column, ids)
    if not complete:
        raise InputError("the event store holds fills of accounts the graph does not know")
    return codes


@dataclass(frozen=True)
class Uses:
    """Account-identifier events of one kind (a login from an IP or device, a funding event)."""

    kind: str
    account: IntArray
    identifier: IntArray  # store-internal id of the IP / Device / FundingSource node
    ts: IntArray


# Each read covers a range of account node ids: the server builds a reply in memory (every
# value collected, then printed). On the kept L store (7M login times) one read of every
# account's uses peaked the server at 4,265 MB, pages of 200k accounts at 3,738 MB, in the
# same time (a range is found by a label-and-id scan).
_IN_RANGE = "WHERE id(a) >= $lo AND id(a) <= $hi"
_USES = {
    "ip": f"MATCH (a:Account)-[e:USED_IP]->(x:IP) {_IN_RANGE} UNWIND e.times AS t "
    "RETURN collect(id(a)), collect(id(x)), collect(t)",
    "device": f"MATCH (a:Account)-[e:USED_DEVICE]->(x:Device) {_IN_RANGE} UNWIND e.times AS t "
    "RETURN collect(id(a)), collect(id(x)), collect(t)",
    "funding": f"MATCH (a:Account)-[e:DEPOSIT_FROM|WITHDRAW_TO]->(x:FundingSource) {_IN_RANGE} "
    "RETURN collect(id(a)), collect(id(x)), collect(e.ts)",
}
USES_PAGE_ACCOUNTS = 200_000


def read_uses(store: GraphBackend, accounts: Accounts, kind: str) -> Uses:
    """Every use of ``kind`` by the accounts, ``USES_PAGE_ACCOUNTS`` accounts a read."""
    nodes_sorted = np.sort(accounts.node_ids)
    columns: list[list[IntArray]] = [[], [], []]
    for lo in range(0, len(nodes_sorted), USES_PAGE_ACCOUNTS):
        page = nodes_sorted[lo : lo + USES_PAGE_ACCOUNTS]
        bounds = {"lo": int(page[0]), "hi": int(page[-1])}
        for row in store.read_columns(_USES[kind], bounds):
            for column, values in zip(columns, row[1], strict=True):
                column.append(values)
    if not columns[0] or not sum(map(len, columns[0])):
        empty = np.zeros(0, dtype=np.int64)
        return Uses(kind, empty, empty, empty)
    nodes, identifier, ts = (np.concatenate(c) for c in columns)
    account = accounts.positions(nodes)
    order = np.lexsort((ts, identifier, account))
    return Uses(kind, account[order], identifier[order], ts[order])


@dataclass(frozen=True)
class Transfers:
    """Internal transfers, in the direction the money moved."""

    source: IntArray
    target: IntArray
    ts: IntArray
    amount: FloatArray


def read_transfers(store: GraphBackend, accounts: Accounts) -> Transfers:
    rows = store.read_columns(
        "MATCH (a:Account)-[e:TRANSFER]->(b:Account) "
        f"RETURN collect(id(a)), collect(id(b)), collect(e.ts), {collect_exact('e.amount')}"
    )
    if not rows or not len(rows[0][1][0]):
        empty = np.zeros(0, dtype=np.int64)
        return Transfers(empty, empty, empty, np.zeros(0, dtype=np.float64))
    src, dst, ts, am, ae = rows[0][1]
    source, target = accounts.positions(src), accounts.positions(dst)
    order = np.lexsort((ts, target, source))
    return Transfers(source[order], target[order], ts[order], decode(am, ae)[order])


@dataclass(frozen=True)
class OrderDays:
    """Order statistics per (account, symbol, UTC day): the event store's ``order_days``."""

    account: IntArray
    symbol: IntArray  # position in ``symbols``
    symbols: list[str]
    day: IntArray
    placed: IntArray
    cancelled: IntArray
    filled: IntArray
    partially_filled: IntArray
    via_api: IntArray
    cancelled_within_1s: IntArray
    cancelled_within_10s: IntArray
    qty_placed: FloatArray
    qty_cancelled: FloatArray
    qty_filled: FloatArray
    max_qty: FloatArray
    gap_cv: FloatArray  # -1 where fewer than three orders
    gap_median_ms: FloatArray  # -1 where fewer than three orders
    gap_mad_ms: FloatArray  # median absolute deviation of gaps; -1 where not measured

    def __len__(self) -> int:
        return len(self.day)

    def take(self, rows: IntArray | BoolArray) -> OrderDays:
        """These rows (positions or a mask), every statistic alike."""
        return replace(self, **{name: getattr(self, name)[rows] for name in _ARRAYS})

    @staticmethod
    def concat(parts: list[OrderDays]) -> OrderDays:
        """The parts' rows one after the other (the parts share their ``symbols``)."""
        joined: dict[str, Any] = {
            n: np.concatenate([getattr(p, n) for p in parts]) for n in _ARRAYS
        }
        return replace(parts[0], **joined)


_INT_STATS = ("day", "placed", "cancelled", "filled", "partially_filled", "via_api",
              "cancelled_within_1s", "cancelled_within_10s")  # fmt: skip
_FLOAT_STATS = ("qty_placed", "qty_cancelled", "qty_filled", "max_qty", "gap_cv", "gap_median_ms",
                "gap_mad_ms")  # fmt: skip
_ARRAYS = ("account", "symbol", *_INT_STATS, *_FLOAT_STATS)


def read_order_days(events: EventStore, accounts: Accounts, window: Window = Window()) -> OrderDays:
    """The derived ``order_days`` table for the days the window touches (whole UTC days),
    sorted by (account, symbol, day). The analysis reads only the rows its detectors can use
    (``analytics.order_candidates``); this whole read is for tests and tools."""
    table = events.read_columns(
        "order_days", ORDER_DAYS.columns, since=window.since, until=window.until, dictionaries=True
    )
    symbols = distinct_strings(table.column("symbol"))
    days = order_days_of(table, pa.array(accounts.ids, type=pa.string()), symbols)
    return days.take(sort_order(days.account, days.symbol, days.day))


def order_days_of(
    table: pa.Table, ids: pa.Array, symbols: list[str], account: IntArray | None = None
) -> OrderDays:
    """``order_days`` rows as arrays, in the table's order: accounts by position in ``ids``
    (``account``: already looked up), symbols by position in ``symbols`` (-1 where missing);
    null counts read 0, null quantities and gaps -1."""
    if account is None:
        account = account_positions(table.column("account_id"), ids)
    elif len(account) != table.num_rows:
        raise ValueError("one account position per row")
    symbol = codes_in(table.column("symbol"), pa.array(symbols, type=pa.string()))[0]

    def ints(name: str) -> IntArray:
        return np.asarray(table.column(name).fill_null(0).to_numpy(), dtype=np.int64)

    def floats(name: str) -> FloatArray:
        return np.asarray(table.column(name).fill_null(-1.0).to_numpy(), dtype=np.float64)

    return OrderDays(
        account,
        symbol,
        symbols,
        *(ints(k) for k in _INT_STATS),  # type: ignore[arg-type]  # mypy cannot split the stars
        *(floats(k) for k in _FLOAT_STATS),
    )


def sort_order(*keys: IntArray) -> IntArray:
    """Positions that sort rows by ``keys`` (first key first), like ``np.lexsort(keys[::-1])``.

    Non-negative keys that fit together in 63 bits are packed into one integer and sorted
    stably: numpy's stable sort merges the sorted runs that day files give (one run a day)
    instead of sorting several keys from scratch."""
    if not len(keys[0]):
        return np.zeros(0, dtype=np.int64)
    widths = [int(k.max()).bit_length() if len(k) else 0 for k in keys]
    if min(int(k.min()) for k in keys) < 0 or sum(widths) > 63:
        return np.lexsort(keys[::-1]).astype(np.int64)
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for key, width in zip(keys, widths, strict=True):
        packed = (packed << width) | key.astype(np.int64)
    if sum(widths) <= 16:  # numpy's stable sort of 16-bit integers is a radix sort
        return np.argsort(packed.astype(np.uint16), kind="stable").astype(np.int64)
    return np.argsort(packed, kind="stable").astype(np.int64)


@dataclass(frozen=True)
class Sanctions:
    """Earlier enforcement actions (``enforcement_history``) per account."""

    account: IntArray
    ts: IntArray
    action: list[str]
    clause: list[str]


# Decisions recorded through the API count as enforcement history on later runs.
DECISION_ACTIONS = {
    "request_report": "report_requested",
    "freeze_pending_review": "frozen",
    "restrict_new_positions": "restricted",
    "permanent_restriction": "closed",
}


def read_sanctions(store: GraphBackend, accounts: Accounts) -> Sanctions:
    """Enforcement history: the contract's file plus confirmed or acted-on API decisions."""
    rows = store.read(
        "MATCH (a:Account)-[:SANCTIONED]->(x:EnforcementAction) "
        "RETURN id(a), x.ts, x.action, coalesce(x.clause, '')"
    ).rows
    for node, ts, decision, action, clauses in store.read(
        "MATCH (d:Decision)-[:CONCERNS]->(a:Account) "
        "WHERE d.decision IN ['confirm', 'escalate', 'action_taken'] "
        "RETURN id(a), d.at, d.decision, d.action, d.clauses"
    ).rows:
        name = DECISION_ACTIONS.get(str(action)) if decision == "action_taken" else "warning"
        if name is not None:
            rows.append([node, ts, name, ";".join(clauses or [])])
    rows.sort(key=lambda r: (int(r[1]), int(r[0]), str(r[2])))
    nodes = np.asarray([r[0] for r in rows], dtype=np.int64)
    account = accounts.positions(nodes) if len(nodes) else nodes
    return Sanctions(
        account,
        np.asarray([r[1] for r in rows], dtype=np.int64),
        [str(r[2]) for r in rows],
        [str(r[3]) for r in rows],
    )


def identifier_keys(store: GraphBackend, node_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(label, key) of identifier nodes, for evidence: read only for the few that matter."""
    if not node_ids:
        return {}
    rows = store.read(
        "UNWIND $ids AS i MATCH (x) WHERE id(x) = i "
        "RETURN i, labels(x)[0], coalesce(x.ip, x.device_id, x.key)",
        {"ids": node_ids},
    ).rows
    return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}
