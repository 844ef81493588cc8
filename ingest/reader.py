"""Find a contract file by its stem and stream its records in batches with physical line numbers."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkscope.errors import InputError

SUFFIXES = (".csv", ".csv.gz", ".parquet")


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
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return [name.strip() for name in pq.read_schema(path).names]
    with _open_text(path) as handle:
        header = next(csv.reader(handle), [])
    return [name.strip() for name in header]


def _open_text(path: Path) -> io.TextIOWrapper:
    # utf-8-sig drops a byte-order mark; newline="" lets csv see quoted line breaks.
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def iter_batches(path: Path, batch_size: int) -> Iterator[Batch]:
    if path.name.endswith(".parquet"):
        yield from _parquet_batches(path, batch_size)
    else:
        yield from _csv_batches(path, batch_size)


def csv_batches_from(
    path: Path, batch_size: int, header: list[str], offset: int, line: int
) -> Iterator[Batch]:
    """The records of a CSV file from byte ``offset`` on (a record boundary at physical
    ``line``), for a reader that went through the file's start by other means."""
    with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as raw:
        raw.seek(offset)
        handle = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield from _csv_records(path, csv.reader(handle), header, batch_size, line - 1)


def _csv_batches(path: Path, batch_size: int) -> Iterator[Batch]:
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path.name}: line 1: unreadable header: {exc}") from exc
        yield from _csv_records(path, reader, header, batch_size, 0)


def _csv_records(
    path: Path, reader: Any, header: list[str], batch_size: int, offset: int
) -> Iterator[Batch]:
    """Batches of records; a record's line is ``offset`` + the reader's own line count."""
    width = len(header)
    batch: list[Record] = []
    last_line = offset + reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except (csv.Error, UnicodeDecodeError) as exc:
            batch.append(Record(last_line + 1, [], f"unreadable row: {exc}"))
            last_line = offset + reader.line_num
            continue
        line = last_line + 1
        last_line = offset + reader.line_num
        if not fields:
            continue  # a blank line is not a record
        if len(fields) != width:
            batch.append(Record(line, fields, f"expected {width} fields, found {len(fields)}"))
        else:
            batch.append(Record(line, fields))
        if len(batch) >= batch_size:
            yield Batch(header, batch)
            batch = []
    if batch:
        yield Batch(header, batch)


def _parquet_batches(path: Path, batch_size: int) -> Iterator[Batch]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise InputError(f"{path.name}: not a readable Parquet file: {exc}") from exc
    line = 1  # rows are numbered as the lines of the same data written as CSV with a header
    for arrow_batch in parquet.iter_batches(batch_size=batch_size):
        names = [n.strip() for n in arrow_batch.schema.names]
        columns = [arrow_batch.column(i).to_pylist() for i in range(arrow_batch.num_columns)]
        batch = []
        for row_values in zip(*columns, strict=True):
            line += 1
            batch.append(Record(line, ["" if x is None else x for x in row_values]))
        yield Batch(names, batch)


def count_rows(path: Path) -> int | None:
    """Row count for a progress bar where it is cheap to know (Parquet metadata)."""
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None
