"""Find a contract file by its stem and stream its records in batches with physical line numbers."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from linkscope.errors import InputError

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".csv.gz", ".parquet")
BLOCK_BYTES = 1 << 20
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")
# A record (all its physical lines) larger than this is rejected without being held in memory.
DEFAULT_MAX_RECORD_BYTES = 1 << 20


class Record:
    """One input record: its first physical line (header = 1) and its fields in header order.

    A plain slotted class: millions are made per file, and a dataclass costs twice as much.
    """

    __slots__ = ("error", "fields", "line")

    def __init__(self, line: int, fields: list[Any], error: str | None = None) -> None:
        self.line = line
        self.fields = fields
        self.error = error  # structural problem (wrong field count, undecodable bytes)


@dataclass
class Batch:
    header: list[str]
    records: list[Record]


def find_file(directory: Path, stem: str) -> Path | None:
    found = [
        directory / f"{stem}{suffix}"
        for suffix in SUFFIXES
        if (directory / f"{stem}{suffix}").is_file()
    ]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise InputError(f"{directory}: more than one file for {stem!r} ({names}); keep one")
    return found[0] if found else None


def file_columns(path: Path) -> list[str]:
    """The header's column names; ``InputError`` if the header is unreadable or ambiguous."""
    if path.name.endswith(".parquet"):
        return _parquet_names(path, _open_parquet(path))
    with _open_binary(path) as stream:
        lines = _Lines(stream, DEFAULT_MAX_RECORD_BYTES)
        return _csv_header(path, lines, csv.reader(lines)) or []


def check_header(file_name: str, header: list[str]) -> list[str]:
    """Names stripped; a name given twice makes the file ambiguous (which one holds the value?)."""
    names = [name.strip() for name in header]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise InputError(f"{file_name}: duplicate column name(s) in header: {', '.join(repeated)}")
    return names


def iter_batches(
    path: Path, batch_size: int, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Batch]:
    if path.name.endswith(".parquet"):
        yield from _parquet_batches(path, batch_size)
    else:
        yield from _csv_batches(path, batch_size, max_record_bytes)


def _open_binary(path: Path) -> io.BufferedIOBase:
    if path.name.endswith(".gz"):
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


class _Lines:
    """The physical lines of a byte stream, decoded, for ``csv.reader``.

    Bytes are read in blocks that end at a line break. A block that is valid UTF-8 is split
    into lines in C (as text mode with ``newline=""`` does); a block that is not is decoded
    line by line, so a bad byte is confined to the record it is in (a text decoder fails a
    whole buffer of thousands of lines). No line is held beyond ``max_bytes``, whatever a
    (compressed) file expands to. ``csv.reader`` pulls one line at a time and never reads
    ahead, so problems noted since its last record belong to its next record.
    """

    def __init__(self, stream: io.BufferedIOBase, max_bytes: int) -> None:
        self.stream = stream
        self.max_bytes = max_bytes
        self.problem: str | None = None  # the first problem in the current record's lines
        self.failed: str | None = None  # the stream broke (corrupt gzip): reading stopped
        self.first_bytes = b""
        self.lines_before: Callable[[], int] = lambda: 0  # physical lines csv has pulled
        self._iter = itertools.chain.from_iterable(self._blocks())

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        return next(self._iter)

    def _read(self, read: Callable[[int], bytes], size: int) -> bytes:
        try:
            return read(size)
        except (OSError, EOFError, zlib.error) as exc:
            self.failed = f"{type(exc).__name__}: {exc}"
            return b""

    def _read_block(self) -> bytes:
        """About BLOCK_BYTES; in small reads, so that damage later in a gzip keeps what came
        before it (one large read of a truncated gzip raises and returns nothing)."""
        pieces: list[bytes] = []
        size = 0
        while size < BLOCK_BYTES:
            piece = self._read(self.stream.read1, BLOCK_BYTES - size)
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        return b"".join(pieces)

    def _blocks(self) -> Iterator[Iterator[str]]:
        stream, limit = self.stream, self.max_bytes
        first = True
        carry = b""
        while self.failed is None or carry:
            block = carry + (self._read_block() if self.failed is None else b"")
            carry = b""
            if not block:
                return
            over_long = False
            if not block.endswith(b"\n") and self.failed is None:
                tail = self._read(stream.readline, limit + 1)
                block += tail
                if len(tail) > limit and not tail.endswith(b"\n"):
                    # Lines that end in a lone CR (old Mac exports) have no LF to read up to:
                    # cut after the last CR and keep the rest for the next block.
                    cut = block.rfind(b"\r", block.rfind(b"\n") + 1, len(block) - 1)
                    if cut == -1:
                        over_long = True
                    else:
                        block, carry = block[: cut + 1], block[cut + 1 :]
            if self.failed is not None and not block.endswith((b"\n", b"\r")):
                # A line cut off by the damage could still parse as a (wrong) valid row.
                block = block[: max(block.rfind(b"\n"), block.rfind(b"\r")) + 1]
            if first:
                first = False
                first_line = _LINE.match(block)
                self.first_bytes = first_line.group() if first_line else block
                block = block.removeprefix(codecs.BOM_UTF8)
            if not over_long and (limit >= BLOCK_BYTES or longest_line(block) <= limit):
                try:
                    yield io.StringIO(block.decode("utf-8"), newline="")
                    continue
                except UnicodeDecodeError:
                    pass
            yield self._line_by_line(block, over_long)

    def _line_by_line(self, block: bytes, over_long: bool) -> Iterator[str]:
        lines = [part for part in _LINE.findall(block) if part]
        last = len(lines) - 1
        for index, raw in enumerate(lines):
            number = self.lines_before() + 1
            if len(raw) > self.max_bytes or (over_long and index == last):
                if index == last and over_long:
                    self._skip_rest_of_line()
                self._note(f"line {number} is longer than {self.max_bytes:,} bytes")
                yield "\n"  # keeps csv's view of the record; the record is rejected anyway
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = raw[exc.start]
                self._note(f"line {number}: byte 0x{byte:02x} at offset {exc.start} is not UTF-8")
                yield raw.decode("utf-8", "replace")

    def looks_utf16(self) -> bool:
        first = self.first_bytes
        return first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in first

    def _note(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem

    def _skip_rest_of_line(self) -> None:
        while True:
            chunk = self._read(self.stream.readline, self.max_bytes)
            if not chunk or chunk.endswith(b"\n"):
                return

    def take_problem(self) -> str | None:
        problem, self.problem = self.problem, None
        return problem


def line_ends(block: bytes) -> np.ndarray:
    """Positions of the block's LF bytes."""
    return np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)


def longest_line(block: bytes, ends: np.ndarray | None = None) -> int:
    """Bytes of the block's longest line, its LF counted (``ends``: its ``line_ends``)."""
    ends = line_ends(block) if ends is None else ends
    return int(np.diff(np.concatenate(([-1], ends, [len(block) - 1]))).max())


def _csv_header(path: Path, lines: _Lines, reader: Any) -> list[str] | None:
    try:
        header = next(reader)
    except StopIteration:
        if lines.failed:
            raise InputError(f"{path.name}: unreadable: {lines.failed}") from None
        return None
    except csv.Error as exc:
        if lines.looks_utf16():
            raise InputError(
                f"{path.name}: not UTF-8 text (a UTF-16 byte-order mark or NUL bytes in line 1); save it as UTF-8"
            ) from None
        raise InputError(f"{path.name}: line 1: unreadable header: {exc}") from exc
    problem = lines.take_problem()
    if lines.looks_utf16():
        raise InputError(
            f"{path.name}: not UTF-8 text (a UTF-16 byte-order mark or NUL bytes in line 1); save it as UTF-8"
        )
    if problem is not None:
        raise InputError(f"{path.name}: unreadable header: {problem}")
    return check_header(path.name, header)


def csv_batches_from(
    path: Path,
    batch_size: int,
    header: list[str],
    offset: int,
    line: int,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[Batch]:
    """The records of a CSV file from byte ``offset`` on (a record boundary at physical
    ``line``), for a reader that went through the file's start by other means."""
    yield from _csv_batches(path, batch_size, max_record_bytes, start=(header, offset, line))


def _csv_batches(
    path: Path,
    batch_size: int,
    max_record_bytes: int,
    start: tuple[list[str], int, int] | None = None,
) -> Iterator[Batch]:
    # A quoted field may span lines: csv's own limit bounds the record those lines make up.
    csv.field_size_limit(max_record_bytes)
    with _open_binary(path) as stream:
        before = 0  # physical lines before the first one this reader pulls
        if start is not None:
            stream.seek(start[1])
            before = start[2] - 1
        lines = _Lines(stream, max_record_bytes)
        reader = csv.reader(lines)
        lines.lines_before = lambda: before + reader.line_num
        if start is None:
            header = _csv_header(path, lines, reader)
            if header is None:
                return
        else:
            header = start[0]
        width = len(header)
        batch: list[Record] = []
        last_line = before + reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                lines.take_problem()
                batch.append(Record(last_line + 1, [], f"unreadable row: {exc}"))
                last_line = before + reader.line_num
                continue
            line = last_line + 1
            last_line = before + reader.line_num
            problem = lines.take_problem()
            if problem is not None:
                batch.append(Record(line, fields, problem))
            elif not fields:
                continue  # a blank line is not a record
            elif len(fields) != width:
                batch.append(Record(line, fields, f"expected {width} fields, found {len(fields)}"))
            else:
                batch.append(Record(line, fields))
            if len(batch) >= batch_size:
                yield Batch(header, batch)
                batch = []
        if lines.failed:
            reason = f"file unreadable from this line on ({lines.failed})"
            batch.append(Record(last_line + 1, [], reason))
        if batch:
            yield Batch(header, batch)


def _open_parquet(path: Path) -> Any:
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path.name}: not a readable Parquet file: {exc}") from exc


def _parquet_names(path: Path, parquet: Any) -> list[str]:
    return check_header(path.name, [str(name) for name in parquet.schema_arrow.names])


def _pylist(column: Any) -> tuple[list[Any], dict[int, str]]:
    """A column's Python values, and by row index why a value could not be converted."""
    try:
        return column.to_pylist(), {}
    except (ValueError, OverflowError, ArithmeticError) as exc:
        log.debug("column not convertible as a whole (%s); converting value by value", exc)
    values: list[Any] = []
    errors: dict[int, str] = {}
    for index, item in enumerate(column):
        try:
            values.append(item.as_py())
        except (ValueError, OverflowError, ArithmeticError) as exc:
            values.append(None)
            errors[index] = f"value not representable: {exc}"
    return values, errors


def batches_until_damaged(
    parquet: pq.ParquetFile, batch_size: int
) -> Iterator[pa.RecordBatch | str]:
    """A Parquet file's record batches; where one cannot be read, the quarantine reason for
    the rest of the file (a ``str``) and no more: the rows before the damage load."""
    batches = parquet.iter_batches(batch_size=batch_size)
    while True:
        try:
            yield next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            yield f"file unreadable from this row on: {exc}"
            return


def _parquet_batches(path: Path, batch_size: int) -> Iterator[Batch]:
    parquet = _open_parquet(path)
    names = _parquet_names(path, parquet)
    line = 1  # rows are numbered as the lines of the same data written as CSV with a header
    for arrow_batch in batches_until_damaged(parquet, batch_size):
        if isinstance(arrow_batch, str):
            yield Batch(names, [Record(line + 1, [], arrow_batch)])
            return
        converted = [_pylist(arrow_batch.column(i)) for i in range(arrow_batch.num_columns)]
        problems: dict[int, str] = {}
        for name, (_, errors) in zip(names, converted, strict=True):
            for index, reason in errors.items():
                problems.setdefault(index, f"{name}: {reason}")
        batch = []
        for index, row_values in enumerate(zip(*(c[0] for c in converted), strict=True)):
            line += 1
            fields = ["" if x is None else x for x in row_values]
            batch.append(Record(line, fields, problems.get(index)))
        yield Batch(names, batch)


def count_rows(path: Path) -> int | None:
    """Row count for a progress bar where it is cheap to know (Parquet metadata)."""
    if path.name.endswith(".parquet"):
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # a damaged file is reported by the reader, not here
            return None
    return None
