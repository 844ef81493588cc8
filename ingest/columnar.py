"""Column-wise reading and validation of fills and orders (Arrow), at the speed of the disk.

A CSV is cut into blocks at line ends; while no quoted value spans lines, each physical line is
one record and line numbers are exact, and pyarrow parses a block into string columns. Every value
is then checked against a strict pattern of its type (plain ASCII ids, plain decimals, epoch
milliseconds or ISO 8601 with an offset, exact enum values). A row that passes every pattern
and the cross-column rules is valid, with exactly the value the row-wise parser would give.
Any other row (a bad value, or merely an unusual but valid spelling) is handed to the
row-wise ``Validator``, which decides and words the reason: so both paths agree by
construction. A block that does not parse as clean UTF-8 CSV with one record per line goes
through the row-wise path line by line; from a quoted line break on, the rest of the file does.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingest import values as v
from ingest.contract import NOTIONAL, ORDERS, Column, FileSpec, Limits, number_columns, ts_columns
from ingest.reader import (
    DEFAULT_MAX_RECORD_BYTES,
    Record,
    batches_until_damaged,
    check_header,
    csv_batches_from,
    iter_batches,
    line_ends,
)
from linkscope.errors import InputError

BLOCK_BYTES = 16 << 20  # pyarrow parses 16 MiB blocks ~1.5x faster than its 1 MiB default
ID_PATTERN = r"^[!-~]+$"  # printable ASCII without spaces: ids as exchanges write them
ISO_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})$"
DECIMAL_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,15})?$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_PATTERN = rf"^{_OCTET}(\.{_OCTET}){{3}}$"  # IPv4 as ``parse_ip`` writes it back
TEXT_PATTERN = r"^[!-~]([ -~]*[!-~])?$"  # printable ASCII that ``parse_text`` leaves as it is


@dataclass
class Block:
    """Rows of one block: string columns by header name (None: read line by line instead)."""

    header: list[str]
    first_line: int  # physical line of the block's first row
    table: pa.Table | None
    records: list[Record]  # the block's rows, when ``table`` is None


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]  # a binary stream
    return path.open("rb")


def csv_blocks(
    path: Path, batch_rows: int = 40_000, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Block]:
    """Blocks of a CSV file cut at line ends, parsed column-wise while each line is one clean
    record. From the first block that is not (a quoted line break, bytes that are not UTF-8,
    a line longer than ``max_record_bytes``, a stray field count or line ending), the rest of
    the file is read by the row-wise reader, which says what is wrong with which line."""
    with _open(path) as handle:
        try:
            first = handle.readline(max_record_bytes + 1)
        except (OSError, EOFError, zlib.error):  # a gzip damaged within its first line
            first = b""
        header = _plain_header(path, first)
        if header is None:  # the row-wise reader words what is wrong with the header
            for batch in iter_batches(path, batch_rows, max_record_bytes):
                yield Block(batch.header, 0, None, batch.records)
            return
        offset, line = len(first), 2
        rest = b""
        while True:
            damaged = False
            try:
                chunk = handle.read(BLOCK_BYTES)
            except (OSError, EOFError, zlib.error):
                # A damaged gzip: the row-wise reader keeps what comes before the damage.
                chunk, damaged = b"", True
            data = rest + chunk
            if chunk:
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            else:
                rest = b""
            block = None
            if damaged:
                pass
            elif data and len(rest) <= max_record_bytes and _clean_lines(data, max_record_bytes):
                lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
                block = _parse_block(header, data, line, lines)
            elif not data and len(rest) <= max_record_bytes:
                if not chunk:
                    return
                continue  # no line end yet in this chunk: read on
            if block is None:
                for batch in csv_batches_from(
                    path, batch_rows, header, offset, line, max_record_bytes
                ):
                    yield Block(header, line, None, batch.records)
                return
            yield block
            line += lines
            offset += len(data)
            if not chunk:
                return


def _plain_header(path: Path, first: bytes) -> list[str] | None:
    """The header when it is one clean UTF-8 line with distinct names, else None."""
    if not first.endswith(b"\n") or b"\x00" in first or _quote_spans_lines(first):
        return None
    try:
        text = first.decode("utf-8-sig").removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError:
        return None
    if "\r" in text:
        return None
    try:
        return check_header(path.name, next(csv.reader([text]), []))
    except InputError:
        return None


def _clean_lines(data: bytes, max_record_bytes: int) -> bool:
    """Every line ends with LF (no lone CR) and fits the limit. (A quoted value spanning lines
    makes the parsed block shorter than its lines: ``_parse_block`` turns it down.)"""
    if not _lines_fit(data, max_record_bytes):
        return False
    return b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")


def _lines_fit(data: bytes, max_bytes: int) -> bool:
    """Whether no line is longer than ``max_bytes`` (its LF counted): jump ``max_bytes`` ahead
    and look back for an LF, a few steps per block instead of a position for every line."""
    start = 0
    while len(data) - start > max_bytes:
        found = data.rfind(b"\n", start, start + max_bytes)
        if found < 0:
            return False
        start = found + 1
    return True


def _quote_spans_lines(data: bytes, ends: np.ndarray | None = None) -> bool:
    """Whether an odd number of quotes comes before some line end or the end of ``data``
    (``ends``: its ``line_ends``). Quote positions, not a running count over every byte."""
    if data.find(b'"') < 0:
        return False
    quotes = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord('"'))
    ends = line_ends(data) if ends is None else ends
    return bool(len(quotes) % 2 or (np.searchsorted(quotes, ends) % 2).any())


def _parse_block(header: list[str], data: bytes, first_line: int, lines: int) -> Block | None:
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, block_size=len(data) + 1),
            # Quotes are honoured across lines so that a record spanning lines shows as fewer
            # rows than lines, which sends the block row-wise: cheaper than finding every quote.
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None  # bytes that are not UTF-8, a wrong field count: the row-wise reader says
    return Block(header, first_line, table, []) if table.num_rows == lines else None


PLAIN_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer,
               pa.types.is_floating, pa.types.is_boolean)  # fmt: skip


def parquet_blocks(path: Path, batch_rows: int = 1_000_000) -> Iterator[Block]:
    """Parquet rows as string columns (numbered as the lines of the same data as CSV). A file
    with a column that has no plain text form (nested, binary, timestamps) or a repeated
    column name goes through the row-wise reader, which says what is wrong with it."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    names = [n.strip() for n in parquet.schema_arrow.names]
    plain = all(any(t(f.type) for t in PLAIN_TYPES) for f in parquet.schema_arrow)
    if not plain or len(set(names)) != len(names):
        for batch in iter_batches(path, batch_rows):
            yield Block(batch.header, 0, None, batch.records)
        return
    line = 2
    for read in batches_until_damaged(parquet, batch_rows):
        if isinstance(read, str):
            yield Block(names, line, None, [Record(line, [], read)])
            return
        columns = [pc.cast(c, pa.string()).fill_null("") for c in read.columns]
        yield Block(names, line, pa.Table.from_arrays(columns, names=names), [])
        line += read.num_rows


@dataclass
class Checked:
    """A block validated column-wise: typed rows that are valid, and the rows to ask about."""

    valid: pa.Table  # the spec's columns, typed, plus ``_line``
    doubtful: np.ndarray  # positions in the block that the row-wise validator must decide


def check(
    spec: FileSpec, schema: pa.Schema, table: pa.Table, first_line: int, limits: Limits
) -> Checked:
    n = table.num_rows
    ok = np.ones(n, dtype=bool)
    typed: dict[str, pa.Array] = {}
    present = set(table.column_names)
    for column in spec.columns:
        target = schema.field(column.name).type
        raw = (
            table.column(column.name).combine_chunks()
            if column.name in present
            else pa.array([""] * n, pa.string())
        )
        if raw.null_count:
            raw = raw.fill_null("")  # as the row-wise reader does
        good, value = _column(column, raw, target)
        ok &= good
        typed[column.name] = value
    ok &= _within(spec, typed, limits)
    if spec is ORDERS:
        ok &= _order_rules(typed)
    keep = np.flatnonzero(ok)
    columns = {name: typed[name] for name in schema.names if name in typed}
    if len(keep) < n:  # the usual block has every row valid: its columns are taken as they are
        indices = pa.array(keep, type=pa.int64())
        columns = {name: pc.take(value, indices) for name, value in columns.items()}
    valid = pa.table({**columns, "_line": pa.array(keep + first_line, type=pa.int64())})
    return Checked(valid, np.flatnonzero(~ok))


def _column(column: Column, raw: pa.Array, target: pa.DataType) -> tuple[np.ndarray, pa.Array]:
    """Which values pass the strict pattern of the column's type, and their typed values."""
    empty = _np(pc.equal(raw, ""))
    parse = column.parse
    if parse is v.parse_id:
        # Printable ASCII without spaces: three cheap kernels instead of a regular expression.
        good = _np(pc.ascii_is_printable(raw)) & ~_np(pc.match_substring(raw, " ")) & ~empty
        value: pa.Array = raw
    elif parse is v.parse_ts:
        value, good = _timestamps(raw)
    elif parse in (v.parse_positive, v.parse_non_negative):
        numbers, good = _decimals(raw, empty)
        bound = (
            pc.greater(numbers, 0) if parse is v.parse_positive else pc.greater_equal(numbers, 0)
        )
        good &= _np(bound)
        value = numbers
    elif parse is v.parse_ip:
        good, value = _np(pc.match_substring_regex(raw, IPV4_PATTERN)), raw
    elif parse is v.parse_text:
        good, value = _np(pc.match_substring_regex(raw, TEXT_PATTERN)), raw
    elif getattr(parse, "choices", None) is not None:
        good = _np(pc.is_in(raw, value_set=pa.array(sorted(parse.choices))))  # type: ignore[attr-defined]
        value = raw
    else:
        good, value = np.zeros(len(raw), dtype=bool), raw
    if not column.required and empty.any():
        default = pa.scalar(column.default, target)
        value = pc.if_else(pa.array(empty), default, pc.cast(value, target))
        good |= empty
    return good, pc.cast(value, target)


def typed_schema(spec: FileSpec) -> pa.Schema:
    """The Arrow types ``check`` gives a file's columns: as the row-wise parsers' values."""
    numbers, times = set(number_columns(spec)), set(ts_columns(spec))
    return pa.schema(
        (
            c.name,
            pa.int64() if c.name in times else pa.float64() if c.name in numbers else pa.string(),
        )
        for c in spec.columns
    )


def _decimals(raw: pa.Array, empty: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Numbers as Python's ``float`` reads them. Arrow's cast accepts a subset of what ``float``
    accepts, with the same correctly rounded value; when a value defeats it, only plain
    decimals are taken and the rest is left to the row-wise parser. Empty values (a market
    order's price) are not numbers: they are cast as "0" and are not valid, rather than
    defeat the cast for the whole block."""
    if empty.any():
        raw = pc.if_else(pa.array(empty), "0", raw)
    try:
        numbers = pc.cast(raw, pa.float64())
        good = _np(pc.is_finite(numbers))
    except pa.ArrowInvalid:
        good = _np(pc.match_substring_regex(raw, DECIMAL_PATTERN))
        numbers = pc.cast(pc.if_else(pa.array(good), raw, "0"), pa.float64())
    return numbers, good & ~empty


def _timestamps(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    epoch = _np(pc.ascii_is_decimal(raw))
    lengths = np.asarray(pc.binary_length(raw).to_numpy(zero_copy_only=False))
    epoch &= lengths <= 15
    digits = raw if epoch.all() else pc.if_else(pa.array(epoch), raw, "0")
    ms = pc.cast(digits, pa.int64())
    out = np.array(ms.to_numpy(zero_copy_only=False), dtype=np.int64)  # a writable copy
    epoch &= out <= v.EPOCH_MS_MAX
    iso = ~epoch
    if iso.any():  # the pattern is matched on the values that are not epoch milliseconds only
        others = np.flatnonzero(iso)
        iso[others] = _np(pc.match_substring_regex(raw.take(pa.array(others)), ISO_PATTERN))
    if iso.any():
        picked = pc.filter(raw, pa.array(iso))
        try:
            parsed = pc.cast(pc.cast(picked, pa.timestamp("ms", tz="UTC")), pa.int64())
            out[iso] = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype=np.int64)
        except pa.ArrowInvalid:  # an impossible date such as 02-30: the row-wise parser says so
            iso[:] = False
    return pa.array(out, pa.int64()), epoch | iso


def _within(spec: FileSpec, typed: dict[str, pa.Array], limits: Limits) -> np.ndarray:
    """The contract's plausibility bounds (``bounds_rule``): a row outside goes row-wise."""
    ok = np.ones(len(next(iter(typed.values()))), dtype=bool)
    for name in number_columns(spec):
        ok &= ~_np(pc.greater(pc.abs(typed[name]), limits.max_number))
    pair = NOTIONAL.get(spec.name)
    if pair is not None:
        ok &= ~_np(pc.greater(pc.multiply(typed[pair[0]], typed[pair[1]]), limits.max_notional))
    for name in ts_columns(spec):
        t = typed[name]
        ok &= ~_np(pc.or_(pc.less(t, limits.earliest_ms), pc.greater(t, limits.latest_ms)))
    return ok


def _order_rules(typed: dict[str, pa.Array]) -> np.ndarray:
    """The contract's cross-column rules of orders; a row breaking one goes to the row-wise path."""
    price_ok = pc.or_kleene(pc.not_equal(typed["type"], "limit"), pc.is_valid(typed["price"]))
    ended = typed["ended_at"]
    times_ok = pc.or_kleene(pc.is_null(ended), pc.greater_equal(ended, typed["placed_at"]))
    filled_ok = pc.less_equal(typed["filled_qty"], pc.multiply(typed["qty"], 1 + 1e-9))
    rules: np.ndarray = _np(price_ok) & _np(times_ok) & _np(filled_ok)
    return rules


def _np(mask: Any) -> np.ndarray:
    filled: pa.Array = pc.fill_null(mask, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def records_of(
    table: pa.Table, header: list[str], positions: np.ndarray, first_line: int
) -> list[Record]:
    """Rows of a block as row-wise records (fields in header order)."""
    if not len(positions):
        return []
    picked = table.take(pa.array(positions, type=pa.int64()))
    columns = [picked.column(name).to_pylist() for name in header]
    return [
        Record(int(p) + first_line, ["" if x is None else x for x in row])
        for p, row in zip(positions.tolist(), zip(*columns, strict=True), strict=True)
    ]
