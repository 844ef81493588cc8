"""Fills and orders as hive-partitioned Parquet: ``<root>/<table>/day=YYYY-MM-DD/part.parquet``.

One file per UTC day and table. A load stages its rows in a Parquet file of its own, then
rewrites each day it touches (old rows + new rows, sorted) into a temporary file that is
fsynced and renamed over the day's file. A reader therefore sees the old or the new day, never
a mix; a crash leaves at worst some days committed and the staging file behind, and running
the same load again finds the committed rows as duplicates: one clean load either way.

Rows are keyed by ``trade_id`` / ``order_id``: a key already stored with the same content is a
duplicate, with other content a conflict (reported, never overwritten).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from numpy.typing import NDArray

from events import durable
from events.account_codes import CODED, VERSION, AccountCodes, new_version
from events.account_codes import FOLDER as CODES_FOLDER
from events.tables import DAY_MS, TABLES, Table, day_name, day_number

log = logging.getLogger(__name__)

PART = "part.parquet"
STAGING = "_staging"
LINE = "_line"  # physical input line of a staged row, for the quarantine report


def carried(column: str) -> str:
    """The staged column holding each row's position of ``column``'s account among the ids the
    stager was told (``Stager.known``)."""
    return f"_at_{column}"

# Sorted rows in groups of this size let a reader skip most of a day by the groups' min/max
# (an account's orders, a symbol's fills) at a few percent of file size.
ROW_GROUP_ROWS = 64 * 1024

# A day is sorted and written in slices of about this many rows, cut at values of its leading
# sort column (an account's or a symbol's rows stay in one slice): an L order day (8.0M orders)
# sorted whole held DuckDB's sort and the Arrow result, and the next day was sorted while the
# last was written. Each slice reads the whole day's staging again (DuckDB cannot skip parts of
# an Arrow IPC file), so slices cost time: one L day alone through the commit, whole 14.4 s and
# 2,881 MB at the peak, slices of 4M 15.9 s and 2,016 MB, of 2M 20.3 s and 1,600 MB.
SLICE_ROWS = 4_000_000
# A stager keeps every this many values of a day's leading sort column: the commit cuts a large
# day's slices from them (~0.3 MB of ids for an L order day).
SAMPLE_EVERY = 256


class DaySink(Protocol):
    """What follows from a day's rows as the commit writes them (``EventStore.commit``): made
    by the hook on the commit's thread, then given the slices and told of the landing on the
    day writer's thread."""

    def add(self, rows: pa.Table) -> None:
        """The day's next slice, sorted; slices come in the day's order, each holding every
        row of the values of the leading sort column it has."""

    def landed(self) -> None:
        """The day file is in place."""


DayHook = Callable[[int], DaySink]
IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")
RAW_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression=None)
# A load stages its first this many bytes uncompressed, the rest with zstd: compressing costs
# the staging thread about half its time on fills (M: 1.5 of 3.1 s, 0.3 s raw), and DuckDB
# reads raw files back faster. ~125 bytes a row raw: an L fills file (25.7M) or an M orders
# file (23.8M) is staged raw whole; an L orders file (238M, ~29 GB raw) takes ~14 GB of disk.
RAW_STAGING_BYTES = 4 << 30


def connect(
    memory_limit: str = "2GB", threads: int = 2, spill: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB that never downloads anything (Parquet support is built in); past
    ``memory_limit`` it spills to ``spill``."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": memory_limit,
        "threads": threads,
    }
    if spill is not None:
        config["temp_directory"] = str(spill)
    con = duckdb.connect(config=config)
    con.execute("SET enable_progress_bar = false")  # the CLI shows its own progress
    return con


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


# DuckDB prunes Parquet row groups by their min/max for a literal IN list, not for a join or a
# subquery: a few thousand keys are read as a list (ms instead of a scan of every day).
LITERAL_KEYS = 5_000


def in_list(values: list[str]) -> str:
    """A SQL list of string literals, each escaped."""
    return "(" + ", ".join(sql_text(v) for v in values) + ")" if values else "(NULL)"


@dataclass
class Conflict:
    line: int
    key: str
    first_line: int | None  # the load's first row with this key; None: the stored row differs


@dataclass
class CommitResult:
    inserted: int = 0
    duplicate: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    days: list[int] = field(default_factory=list)


class Stager:
    """Collects one load's valid rows of one table in staging files, one per UTC day (bounded
    memory; the commit then sorts and writes one day at a time).

    Arrow's IPC file format: written at memory speed and read back by DuckDB through a pyarrow
    dataset, where Parquet's encoding would cost a third of the staging time for files that
    live a few seconds.
    """

    MAX_OPEN = 64  # a load spanning years keeps at most this many day files open

    def __init__(self, folder: Path, table: Table) -> None:
        self.folder = folder
        self.table = table
        # The coded account columns' positions among ``known``, where the stager's user gives
        # them (null where not): the commit codes a day's accounts from them.
        self.carried: tuple[str, ...] = CODED.get(table.name, ())
        self.schema = pa.schema(
            [
                *table.schema,
                pa.field(LINE, pa.int64()),
                *(pa.field(carried(c), pa.int32()) for c in self.carried),
            ]
        )
        self.known: pa.Array | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self._open: dict[int, tuple[pa.NativeFile, pa.ipc.RecordBatchFileWriter]] = {}
        self._parts: dict[int, list[Path]] = {}
        # Per day: rows staged, and every SAMPLE_EVERY-th value of the leading sort column, from
        # which the commit cuts a large day into slices without reading it for that.
        self._day_rows: dict[int, int] = {}
        self._samples: dict[int, list[pa.Array]] = {}
        self.rows = 0
        self.raw_left = RAW_STAGING_BYTES
        self.closed = False
        # The account ids the staged rows name, when the stager's user knows them (more is no
        # harm): the commit then registers their codes without reading every staged row again.
        self.accounts: pa.Array | None = None

    @property
    def days(self) -> list[int]:
        return sorted(self._parts)

    def files(self, day: int | None = None) -> list[Path]:
        if day is None:
            return [p for d in self.days for p in self._parts[d]]
        return list(self._parts.get(day, []))

    def append(self, batch: pa.Table) -> None:
        assert not self.closed, "append after close"
        for name in self.carried:
            if carried(name) not in batch.column_names:
                batch = batch.append_column(carried(name), pa.nulls(batch.num_rows, pa.int32()))
        batch = batch.select(self.schema.names).cast(self.schema)
        if not batch.num_rows:
            return
        time = self.table.time
        if time is None:
            raise ValueError(f"{self.table.name} has no time column to stage by day")
        day = np.floor_divide(
            np.asarray(batch.column(time).to_numpy(zero_copy_only=False), dtype=np.int64), DAY_MS
        )
        if day[0] == day[-1] and (day == day[0]).all():  # the usual batch: one day
            self._stage(int(day[0]), batch)
        else:
            # A file in time order (the usual case) gives batches in day order, cut by slices
            # that copy nothing; other batches are put in day order by one take. A filter per
            # day copied the batch's strings once a day: 0.9 s of M's fills, whose 16 MB
            # blocks each span two days.
            if (day[1:] < day[:-1]).any():
                order = np.argsort(day, kind="stable")
                batch, day = batch.take(pa.array(order)), day[order]
            starts = [0, *(np.flatnonzero(day[1:] != day[:-1]) + 1).tolist(), len(day)]
            for start, end in itertools.pairwise(starts):
                self._stage(int(day[start]), batch.slice(start, end - start))
        self.rows += batch.num_rows

    def _stage(self, day: int, rows: pa.Table) -> None:
        self._writer(day).write_table(rows)
        if self.raw_left > 0:
            self.raw_left -= rows.nbytes
            if self.raw_left <= 0:  # the days open go on in new parts, compressed
                for open_day in list(self._open):
                    self._close(open_day)
        before = self._day_rows.get(day, 0)
        self._day_rows[day] = before + rows.num_rows
        # Every SAMPLE_EVERY-th row of the day as staged, counted across its batches (a stride
        # restarting with each batch would see only some accounts of an input that repeats).
        every = np.arange(-before % SAMPLE_EVERY, rows.num_rows, SAMPLE_EVERY)
        lead = rows.column(self.table.sort[0]).take(pa.array(every))
        self._samples.setdefault(day, []).append(lead.combine_chunks())

    def day_rows(self, day: int) -> int:
        return self._day_rows.get(day, 0)

    def sample(self, day: int) -> pa.Array:
        """Every ``SAMPLE_EVERY``-th staged value of the day's leading sort column, from its
        first row on."""
        parts = self._samples.get(day, [])
        kind = self.schema.field(self.table.sort[0]).type
        return pa.concat_arrays(parts) if parts else pa.array([], kind)

    def append_rows(self, rows: list[dict[str, object]], lines: list[int]) -> None:
        columns = {
            f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in self.table.schema
        }
        columns[LINE] = pa.array(lines, type=pa.int64())
        self.append(pa.table(columns))

    def _writer(self, day: int) -> pa.ipc.RecordBatchFileWriter:
        if day in self._open:
            return self._open[day][1]
        if len(self._open) >= self.MAX_OPEN:
            self._close(next(iter(self._open)))
        parts = self._parts.setdefault(day, [])
        path = self.folder / f"{day}-{len(parts)}.arrow"
        parts.append(path)
        sink = pa.OSFile(str(path), "wb")
        # zstd past the raw budget: ~46 bytes a staged row against lz4's ~72 (M's orders: 1.09
        # against 1.73 GB)
        options = RAW_IPC_OPTIONS if self.raw_left > 0 else IPC_OPTIONS
        writer = pa.ipc.new_file(sink, self.schema, options=options)
        self._open[day] = (sink, writer)
        return writer

    def _close(self, day: int) -> None:
        sink, writer = self._open.pop(day)
        writer.close()
        sink.close()

    def close(self) -> None:
        for day in list(self._open):
            self._close(day)
        self.closed = True

    def remove(self, day: int | None = None) -> None:
        """Delete the staging files of ``day`` (of every day: None), closed first."""
        for d in self.days if day is None else [day]:
            if d in self._open:
                self._close(d)
            for path in self._parts.pop(d, []):
                path.unlink(missing_ok=True)
            self._samples.pop(d, None)
            self._day_rows.pop(d, None)

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        self._samples, self._day_rows = {}, {}

    def dataset(self, day: int | None = None) -> ds.Dataset:
        return ds.dataset([str(p) for p in self.files(day)], format="ipc", schema=self.schema)


class EventStore:
    def __init__(self, root: Path, *, memory_limit: str = "2GB") -> None:
        self.root = root
        self.memory_limit = memory_limit
        self.codes = AccountCodes(root)

    def __repr__(self) -> str:
        return f"EventStore({str(self.root)!r})"

    # Reading -----------------------------------------------------------------------------

    def days(self, table: str) -> list[int]:
        folder = self.root / table
        if not folder.is_dir():
            return []
        return sorted(
            day_number(p.name)
            for p in folder.iterdir()
            if p.name.startswith("day=") and (p / PART).is_file()
        )

    def files(self, table: str, since: int | None = None, until: int | None = None) -> list[Path]:
        """The day files that can hold rows with ``since <= time < until`` (epoch ms)."""
        first = None if since is None else since // DAY_MS
        last = None if until is None else (until - 1) // DAY_MS
        return [
            self.root / table / day_name(d) / PART
            for d in self.days(table)
            if (first is None or d >= first) and (last is None or d <= last)
        ]

    def scan(self, table: str, since: int | None = None, until: int | None = None) -> str:
        """A DuckDB relation (SQL text) over the table's rows in the window, typed even if empty."""
        spec = TABLES[table]
        relation = self.scan_files(table, self.files(table, since, until))
        where = []
        if since is not None and spec.time is not None:
            where.append(f"{spec.time} >= {int(since)}")
        if until is not None and spec.time is not None:
            where.append(f"{spec.time} < {int(until)}")
        if not where:
            return relation
        return f"(SELECT * FROM {relation} WHERE {' AND '.join(where)})"

    def scan_files(self, table: str, files: list[Path]) -> str:
        """A DuckDB relation (SQL text) over the rows of these day files, typed even if none."""
        if files:
            names = ", ".join(sql_text(str(f)) for f in files)
            return f"read_parquet([{names}], hive_partitioning = false)"
        cols = ", ".join(
            f"CAST(NULL AS {_duck_type(f.type)}) AS {f.name}" for f in TABLES[table].schema
        )
        return f"(SELECT {cols} WHERE false)"

    def files_meeting(self, table: str, low: str, high: str) -> list[Path]:
        """The day files that can hold a key between ``low`` and ``high``, by the key's min/max
        in each file's row-group statistics; a file without them is always one.

        Exchanges number orders and fills in sequence, so a new day's keys meet the stored
        days' ranges at most at their edges: a daily load then looks for its keys among a day
        or two instead of every stored row (M: 23.8M order ids read for a day of 0.8M). Keys
        given at random (UUIDs) meet every day, which is the whole scan as before.
        Strings compare here as in Parquet's statistics: by their UTF-8 bytes, which is code
        point order."""
        spec = TABLES[table]
        return [
            f
            for f in self.files(table)
            if (span := _key_span(f, spec.key)) is None or (span[0] <= high and span[1] >= low)
        ]

    def count_rows(self, table: str) -> int:
        """Rows of a table counted by scanning it (``count`` reads the files' metadata)."""
        with self.connection() as con:
            [(n,)] = con.sql(f"SELECT count(*) FROM {self.scan(table)}").fetchall()
        return int(n)

    def count(self, table: str) -> int:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files(table))

    def read(
        self,
        table: str,
        columns: list[str] | None = None,
        *,
        since: int | None = None,
        until: int | None = None,
        where: str = "",
        order_by: str = "",
    ) -> pa.Table:
        cols = ", ".join(columns) if columns else "*"
        sql = f"SELECT {cols} FROM {self.scan(table, since, until)}"
        if where:
            sql += f" WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        with self.connection() as con:
            return con.sql(sql).to_arrow_table()

    def read_columns(
        self,
        table: str,
        columns: list[str],
        *,
        since: int | None = None,
        until: int | None = None,
        dictionaries: bool = False,
    ) -> pa.Table:
        """Columns of the rows in the window, in file order (days ascending, each day in its
        sort order), read by pyarrow's threads straight from the day files. With
        ``dictionaries``, the table's repeated columns come as Parquet stored them: dictionary
        arrays (one dictionary per chunk), which spares building millions of strings."""
        spec = TABLES[table]
        files = self.files(table, since, until)
        if not files:
            return spec.schema.empty_table().select(columns)
        condition = None
        if spec.time is not None and since is not None:
            condition = ds.field(spec.time) >= since
        if spec.time is not None and until is not None:
            upper = ds.field(spec.time) < until
            condition = upper if condition is None else condition & upper
        schema = spec.schema
        parquet = ds.ParquetFileFormat()
        if dictionaries:
            repeated = [c for c in spec.repeated if c in columns]
            parquet = ds.ParquetFileFormat(dictionary_columns=repeated)
            schema = pa.schema(
                pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in repeated else f
                for f in schema
            )
        dataset = ds.dataset([str(f) for f in files], format=parquet, schema=schema)
        return dataset.to_table(columns=columns, filter=condition)

    def column_reader(
        self,
        table: str,
        *,
        since: int | None = None,
        until: int | None = None,
        dictionaries: bool = False,
    ) -> ColumnReader:
        """Reads the window's rows one column at a time, every column in the same row order
        (the day files' order, each file's own): a caller converting column after column holds
        one column's Arrow buffers at a time instead of the whole table's."""
        spec = TABLES[table]
        paths = self.files(table, since, until)
        masks = [self._window_mask(spec, p, since, until) for p in paths]
        # One mask over the files' rows in order (None: every row of every file is inside).
        mask = None
        if any(m is not None for m in masks):
            mask = pa.concat_arrays(
                [
                    pa.array(np.ones(pq.ParquetFile(p).metadata.num_rows, dtype=bool))
                    if m is None
                    else m
                    for p, m in zip(paths, masks, strict=True)
                ]
            )
        return ColumnReader(spec, paths, mask, dictionaries, self.codes)

    @staticmethod
    def _window_mask(
        spec: Table, file: Path, since: int | None, until: int | None
    ) -> pa.Array | None:
        """The rows of a day file inside the window; None: all of them."""
        if spec.time is None or (since is None and until is None):
            return None
        times = pq.read_table(file, columns=[spec.time]).column(spec.time)
        inside = pa.scalar(True)
        if since is not None:
            inside = pc.and_(inside, pc.greater_equal(times, since))
        if until is not None:
            inside = pc.and_(inside, pc.less(times, until))
        mask = inside.combine_chunks() if isinstance(inside, pa.ChunkedArray) else inside
        return None if pc.all(mask).as_py() else mask

    def lookup(
        self, table: str, keys: list[str], *, since: int | None = None, until: int | None = None
    ) -> pa.Table:
        """The rows with these keys (``since``/``until`` narrow the days scanned)."""
        spec = TABLES[table]
        with self.connection() as con:
            if len(keys) <= LITERAL_KEYS:
                wanted = in_list(keys)
            else:
                con.register("wanted", pa.table({"k": pa.array(keys, type=pa.string())}))
                wanted = "(SELECT k FROM wanted)"
            return con.sql(
                f"SELECT * FROM {self.scan(table, since, until)} "
                f"WHERE {spec.key} IN {wanted} ORDER BY {spec.key}"
            ).to_arrow_table()

    @contextmanager
    def connection(self, at_most: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection within the store's memory limit, or within ``at_most`` when
        that is smaller (a caller that knows its work is small gives the rest back)."""
        limit = self.memory_limit
        if at_most is not None and _bytes(at_most) < _bytes(limit) < float("inf"):
            limit = at_most  # a configured limit this cannot read is kept as it is
        con = connect(limit, spill=self.root / STAGING / "spill")
        try:
            yield con
        finally:
            con.close()

    # Writing -----------------------------------------------------------------------------

    def stager(self, table: str, load_id: str) -> Stager:
        return Stager(self.root / STAGING / load_id / table, TABLES[table])

    def discard_staging(self, load_id: str | None = None) -> None:
        """Remove a load's staging files (all loads' when ``load_id`` is None: crash leftovers)."""
        target = self.root / STAGING if load_id is None else self.root / STAGING / load_id
        shutil.rmtree(target, ignore_errors=True)
        if load_id is None:
            for table in TABLES:
                for tmp in (self.root / table).glob("day=*/.tmp-*"):
                    tmp.unlink(missing_ok=True)
                for scratch in (self.root / table).glob(".tmp-*"):
                    shutil.rmtree(scratch, ignore_errors=True)
            for tmp in (self.root / CODES_FOLDER).rglob(".tmp-*"):
                tmp.unlink(missing_ok=True)

    @contextmanager
    def commit(
        self, stager: Stager, on_day: DayHook | None = None, *, keep_inserted: bool = True
    ) -> Iterator[tuple[CommitResult, duckdb.DuckDBPyConnection]]:
        """Merge a staging area into the day files, one day at a time.

        ``on_day(day)`` gives the sink of each written day: its whole content (sorted, in
        slices), for statistics derived per day. Yields the result and a connection where
        ``inserted`` holds the rows that were new, for aggregates derived from them; the
        staging files are removed after.
        With ``keep_inserted=False`` there is no ``inserted`` after the days are written, and
        each day's staging files go as soon as the day is read for writing, so the load's
        staging and its new day files are not both on disk at their full size.
        """
        stager.close()
        spec = stager.table
        self.codes.forget()  # another process may have coded accounts since this one did
        with self.connection() as con:
            result = CommitResult()
            if stager.rows:
                con.register("staged", stager.dataset())
                started = time.perf_counter()
                stored = self._files_to_search(con, spec)
                every_row_new = self._classify(con, spec, stager.rows, stored, result)
                self._register_accounts(con, spec, stager.accounts)
                classified = time.perf_counter()
                self._write_days(con, stager, result, every_row_new, on_day, keep_inserted)
                # Where a large load's commit goes (bench logs; seconds, not progress).
                log.info(
                    "%s: %d rows classified in %.1f s, %d days written in %.1f s",
                    spec.name,
                    stager.rows,
                    classified - started,
                    len(result.days),
                    time.perf_counter() - classified,
                )
            else:
                con.execute(
                    f"CREATE TEMP TABLE inserted AS SELECT * FROM {self.scan(spec.name)} LIMIT 0"
                )
            yield result, con
        stager.discard()

    def _known_codes(self, stager: Stager) -> NDArray[np.int32] | None:
        """The code of each id the stager's positions point at (-1: not coded), when it has
        coded columns and was told those ids."""
        if not stager.carried or stager.known is None:
            return None
        return self.codes.lookup(stager.known)

    def _register_accounts(
        self, con: duckdb.DuckDBPyConnection, spec: Table, named: pa.Array | None
    ) -> None:
        """Codes for the accounts of the new rows, before any day lands (``account_codes``):
        ``named`` when the stager was told them, else read from the new rows."""
        names = CODED.get(spec.name, ())
        if not names:
            return
        if named is not None:
            self.codes.register(named)
            return
        union = " UNION ".join(f"SELECT {name} AS account FROM inserted" for name in names)
        ids = con.sql(f"SELECT account FROM ({union}) WHERE account IS NOT NULL ORDER BY 1")
        self.codes.register(ids.to_arrow_table().column(0).combine_chunks())

    def replace_days(self, table: str, rows: pa.Table, days: list[int]) -> None:
        """Make ``rows`` (with a ``day`` column) the whole content of each of ``days``."""
        spec = TABLES[table]
        rows = rows.select(spec.schema.names).cast(spec.schema)
        day_of = rows.column("day").to_numpy()
        for d in days:
            part = rows.filter(pa.array(day_of == d))
            folder = self.root / table / day_name(d)
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".tmp-{uuid.uuid4().hex}.parquet"
            write_parquet(part, tmp, spec)
            durable.replace(tmp, folder / PART)
        if days:
            durable.fsync_dir(self.root / table)

    def _files_to_search(self, con: duckdb.DuckDBPyConnection, spec: Table) -> list[Path]:
        """The stored day files that can hold a staged key (``files_meeting``). The staged keys'
        range is asked of DuckDB, and only when there are stored files: Arrow's ``min_max``
        over every staged batch cost the staging 3.5 s of M's 23.8M orders, first loads
        included."""
        stored = self.files(spec.name)
        if not stored:
            return []
        [(low, high)] = con.sql(f"SELECT min({spec.key}), max({spec.key}) FROM staged").fetchall()
        if low is None or high is None:
            return stored
        return self.files_meeting(spec.name, str(low), str(high))

    def _classify(
        self,
        con: duckdb.DuckDBPyConnection,
        spec: Table,
        rows: int,
        stored: list[Path],
        result: CommitResult,
    ) -> bool:
        """Rows new, duplicate or conflicting; True when every staged row is new. ``stored``:
        the day files that can hold a staged key."""
        key, cols = spec.key, ", ".join(spec.columns)
        # On 64-bit hashes of the keys, grouped rather than counted distinct: a quarter of the
        # memory, and a grouping spills to disk, so a load of hundreds of millions of rows fits
        # the memory limit. As many distinct hashes as rows means as many distinct keys; no
        # stored hash among the staged ones means no stored key. Anything else (a duplicate,
        # or rarely a collision) takes the exact path below.
        [(distinct,)] = con.sql(
            f"SELECT count(*) FROM (SELECT hash({key}) FROM staged GROUP BY 1)"
        ).fetchall()
        overlap = 0
        if stored:
            [(overlap,)] = con.sql(
                f"SELECT count(*) FROM {self.scan_files(spec.name, stored)} "
                f"WHERE hash({key}) IN (SELECT hash({key}) FROM staged)"
            ).fetchall()
        if rows == distinct and not overlap:  # the usual load: every row is new
            con.execute(f"CREATE TEMP VIEW inserted AS SELECT {cols} FROM staged")
            result.inserted = int(rows)
            return True
        con.execute(
            f"CREATE TEMP TABLE st AS SELECT *, hash({cols}) AS _h, "
            f"row_number() OVER (PARTITION BY {key} ORDER BY {LINE}) AS _rn FROM staged"
        )
        # The hash every copy of a key must match: the stored row's, else the load's first.
        con.execute(
            f"CREATE TEMP TABLE ref AS SELECT f.{key}, coalesce(e._h, f._h) AS _h, "
            f"e._h IS NOT NULL AS stored, f.{LINE} AS first_line "
            f"FROM (SELECT {key}, _h, {LINE} FROM st WHERE _rn = 1) f "
            f"LEFT JOIN (SELECT {key}, any_value(hash({cols})) AS _h FROM {self.scan_files(spec.name, stored)} "
            f"WHERE {key} IN (SELECT {key} FROM st) GROUP BY {key}) e USING ({key})"
        )
        con.execute(
            f"CREATE TEMP TABLE cls AS SELECT s.{LINE}, s.{key}, CASE "
            f"WHEN s._rn = 1 AND NOT r.stored THEN 'insert' "
            f"WHEN s._h = r._h THEN 'duplicate' "
            f"WHEN r.stored THEN 'conflict_stored' ELSE 'conflict_load' END AS class, "
            f"r.first_line FROM st s JOIN ref r USING ({key})"
        )
        counts = dict(con.sql("SELECT class, count(*) FROM cls GROUP BY class").fetchall())
        result.inserted = int(counts.get("insert", 0))
        result.duplicate = int(counts.get("duplicate", 0))
        result.conflicts = [
            Conflict(int(line), str(k), None if cls == "conflict_stored" else int(first))
            for line, k, cls, first in con.sql(
                f"SELECT {LINE}, {key}, class, first_line FROM cls "
                f"WHERE class LIKE 'conflict%' ORDER BY {LINE}"
            ).fetchall()
        ]
        con.execute(
            f"CREATE TEMP TABLE inserted AS SELECT {cols} FROM st "
            f"WHERE {LINE} IN (SELECT {LINE} FROM cls WHERE class = 'insert')"
        )
        con.execute("DROP TABLE st")
        return False

    def _write_days(
        self,
        con: duckdb.DuckDBPyConnection,
        stager: Stager,
        result: CommitResult,
        every_row_new: bool,
        on_day: DayHook | None,
        keep_inserted: bool = True,
    ) -> None:
        """Each day the load adds rows to is sorted by DuckDB (old rows + new ones), a slice at a
        time (``SLICE_ROWS``), and written by pyarrow into a temporary file that lands by an
        atomic rename. DuckDB sorts the next slice while a worker thread writes the last one:
        both cores busy, two slices in memory at most.
        """

        spec = stager.table
        cols, order = ", ".join(spec.columns), ", ".join(spec.sort)
        landed = ", ".join(_landed(spec, name) for name in spec.columns)
        if every_row_new:
            result.days = stager.days
        else:
            result.days = [
                int(d)
                for (d,) in con.sql(
                    f"SELECT DISTINCT {spec.time} // {DAY_MS} FROM inserted ORDER BY 1"
                ).fetchall()
            ]
        table_dir = self.root / spec.name
        table_dir.mkdir(parents=True, exist_ok=True)
        release = not keep_inserted
        if release:
            # Nothing reads ``staged`` after this; ``inserted`` is a view of every staging file
            # when every row is new (each day is then read from its own staging files, which
            # go once read), else a table of DuckDB's own (the staging goes now).
            con.unregister("staged")
            if every_row_new:
                con.execute("DROP VIEW inserted")
            else:
                stager.remove()
        # The writer's work not yet waited for: a slice is sorted while the last one (and the
        # day it ends) is written, and waited for before the next is handed over, so at most
        # two slices are in memory. A day's ``finish`` is not waited for on its own: the next
        # day's sort runs beside it (the writer runs its work in order).
        unsettled: list[Future[None]] = []

        def settle() -> None:
            for future in unsettled:
                future.result()
            unsettled.clear()

        landings: list[_DayLanding] = []
        # A new day's accounts are coded from the positions staged with its rows, through the
        # codes of the ids they point at (an L fills day: 0.41 s of lookups on this thread, the
        # longer of the two, against a gather).
        known_codes = self._known_codes(stager) if every_row_new else None
        extra = "".join(f", {carried(c)}" for c in stager.carried) if known_codes is not None else ""
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="day-writer") as writer:
                for d in result.days:
                    target = table_dir / day_name(d) / PART
                    # Positions only where every row of the day is staged (no stored rows).
                    day_extra = extra if every_row_new and not target.is_file() else ""
                    if every_row_new:
                        con.register("day_rows", stager.dataset(d))
                        new = f"SELECT {cols}{day_extra} FROM day_rows"
                    else:
                        new = f"SELECT {cols} FROM inserted WHERE {spec.time} // {DAY_MS} = {d}"
                    if target.is_file():
                        old = f"SELECT {cols} FROM read_parquet({sql_text(str(target))}, hive_partitioning = false)"
                        new = f"{old} UNION ALL {new}"
                    landing = _DayLanding(self, spec, d, on_day)
                    # Only days not landed yet: a landed day's slices must not stay referenced.
                    landings = [x for x in landings if not x.done] + [landing]
                    if every_row_new and not target.is_file():
                        slices = _sampled_slices(spec, stager, d)
                    else:
                        slices = _slices(con, spec, new)
                    for where, values in slices:
                        rows = con.sql(
                            f"SELECT {landed}{day_extra} FROM ({new}) {where} ORDER BY {order}",
                            params=values or None,
                        ).to_arrow_table()
                        # Coded here, beside the writer, which the codes had kept busy: an L
                        # fills commit's days 38.1 -> 31.5 s (codes 11.8 s beside 21.2 s of
                        # Parquet; this thread now the longer, with the sort).
                        codes = None
                        if day_extra and known_codes is not None:  # both or neither
                            codes = _codes_at(rows, stager.carried, known_codes)
                            rows = rows.drop_columns([carried(c) for c in stager.carried])
                        if codes is None:
                            codes = self.codes.of_rows(spec.name, rows)
                        settle()
                        unsettled.append(writer.submit(landing.add, rows, codes))
                        del rows
                    if release and every_row_new:
                        con.unregister("day_rows")
                        stager.remove(d)
                    unsettled.append(writer.submit(landing.finish))
                settle()
        finally:
            for landing in landings:
                landing.abort()  # after an error: no temporary day file is left behind
        if release and not every_row_new:
            con.execute("DROP TABLE inserted")
        if result.days:
            durable.fsync_dir(table_dir)


class _DayLanding:
    """One day file being written, slice after slice, into a temporary file; ``finish`` lands
    it (rename) and tells the day's sink."""

    def __init__(self, store: EventStore, spec: Table, day: int, on_day: DayHook | None) -> None:
        self.store, self.spec, self.day = store, spec, day
        self.folder = store.root / spec.name / day_name(day)
        self.tmp = self.folder / f".tmp-{uuid.uuid4().hex}.parquet"
        self.version = new_version()
        self.sink = None if on_day is None else on_day(day)
        self.codes: list[list[NDArray[np.int32]]] = []
        self.writer: pq.ParquetWriter | None = None
        self.done = self.failed = False

    def add(self, rows: pa.Table, codes: list[NDArray[np.int32]]) -> None:
        """The day's next slice, sorted, and its account codes (``AccountCodes.of_rows``)."""
        try:
            if self.writer is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.writer = parquet_writer(self.tmp, self.spec.landing_schema, self.spec)
            schema = self.spec.landing_schema
            self.writer.write_table(rows.cast(schema), row_group_size=ROW_GROUP_ROWS)
            self.codes.append(codes)
            if self.sink is not None:
                self.sink.add(rows)
        except BaseException:
            self.failed = True  # ``finish``, queued behind, must not land a day missing a slice
            raise

    def finish(self) -> None:
        if self.failed:
            raise RuntimeError(f"{self.spec.name} day {self.day}: a slice failed to write")
        assert self.writer is not None, "a day lands after at least one slice (maybe empty)"
        self.writer.add_key_value_metadata({VERSION: self.version})
        self.writer.close()
        codes = [np.concatenate(column) for column in zip(*self.codes, strict=True)]
        self.store.codes.write_day(self.spec.name, day_name(self.day), codes, self.version)
        durable.replace(self.tmp, self.folder / PART)
        self.done = True
        sink, self.sink, self.codes, self.writer = self.sink, None, [], None
        if sink is not None:
            sink.landed()

    def abort(self) -> None:
        """Remove an unfinished day's temporary file; a writer that fails to close (after the
        failure that led here, e.g. a full disk) must not keep the file or the error."""
        if self.done:
            return
        try:
            if self.writer is not None:
                with contextlib.suppress(Exception):
                    self.writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def _slices(
    con: duckdb.DuckDBPyConnection, spec: Table, rows: str
) -> list[tuple[str, list[object]]]:
    """``WHERE`` clauses (with their parameters) that cut ``rows`` (SQL) into slices of about
    ``SLICE_ROWS`` rows by ranges of the leading sort column, in sort order; a value's rows are
    never cut apart. Nulls sort last, so they go with the last slice."""
    [(total,)] = con.sql(f"SELECT count(*) FROM ({rows})").fetchall()
    if total <= SLICE_ROWS:
        return [("", [])]
    lead = spec.sort[0]
    counts = con.sql(
        f"SELECT {lead} AS v, count(*) AS n FROM ({rows}) WHERE {lead} IS NOT NULL "
        f"GROUP BY 1 ORDER BY 1"
    ).to_arrow_table()
    return _between(lead, counts.column("v"), counts.column("n").to_numpy(), int(total))


def _sampled_slices(spec: Table, stager: Stager, day: int) -> list[tuple[str, list[object]]]:
    """``_slices`` of a day whose rows are all staged by ``stager``, cut at values of its sample
    of the day (``Stager.sample``): each slice is then the only read of the day's rows that
    DuckDB makes, where a count and a grouping of the day read them twice more."""
    total = stager.day_rows(day)
    if total <= SLICE_ROWS:
        return [("", [])]
    sample = stager.sample(day).drop_null()
    counts = pa.table({"v": sample}).group_by("v").aggregate([("v", "count")]).sort_by("v")
    weights = counts.column("v_count").to_numpy() * (total / max(len(sample), 1))
    return _between(spec.sort[0], counts.column("v"), weights, total)


def _between(
    lead: str, values: pa.ChunkedArray, counts: NDArray[np.number], total: int
) -> list[tuple[str, list[object]]]:
    """``WHERE`` clauses cutting rows whose ``lead`` values ascend as ``values`` (with these
    counts) into runs of about ``SLICE_ROWS``; nulls sort last, so they go with the last."""
    starts = balanced_cuts(counts, -(-total // SLICE_ROWS))
    bounds = [values[i].as_py() for i in starts]
    if not bounds:
        return [("", [])]
    out: list[tuple[str, list[object]]] = [(f"WHERE {lead} < ?", [bounds[0]])]
    for lo, hi in itertools.pairwise(bounds):
        out.append((f"WHERE {lead} >= ? AND {lead} < ?", [lo, hi]))
    out.append((f"WHERE {lead} >= ? OR {lead} IS NULL", [bounds[-1]]))
    return out


def balanced_cuts(counts: NDArray[np.number], pieces: int) -> list[int]:
    """Where ``pieces`` runs of near-equal total cut a sequence of values with these counts:
    the positions (0 < i < len) that start a run, each the first value with at least its
    share of the total before it; a value is never split, so a heavy one makes fewer runs."""
    if pieces <= 1 or not len(counts):
        return []
    before = np.cumsum(counts) - counts
    total = float(before[-1] + counts[-1])
    starts = np.unique(np.searchsorted(before, np.arange(1, pieces) * (total / pieces)))
    return [int(i) for i in starts.tolist() if 0 < i < len(counts)]


def parquet_writer(path: Path, schema: pa.Schema, spec: Table) -> pq.ParquetWriter:
    """A day file's writer. Without Arrow's own schema in the file, so a column landed as a
    dictionary (``Table.enums``) reads back as the plain string it stands for, in every
    reader; the schema's metadata (the day's version) goes in as the file's key-value
    metadata, added by the caller before it closes."""
    return pq.ParquetWriter(
        path,
        schema,
        compression="zstd",
        use_dictionary=list(spec.repeated),
        write_statistics=True if spec.filtered is None else list(spec.filtered),
        store_schema=False,
    )


def write_parquet(rows: pa.Table, path: Path, spec: Table) -> None:
    """A whole day file at once (``parquet_writer``)."""
    with parquet_writer(path, rows.schema, spec) as writer:
        writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
        if rows.schema.metadata:
            writer.add_key_value_metadata(rows.schema.metadata)


def _landed(spec: Table, name: str) -> str:
    """A column in the commit's sort: a contract-fixed one as a DuckDB ENUM (a byte a row in
    the sort and in Arrow, where a string is 16 bytes and more)."""
    values = spec.enums.get(name)
    if values is None:
        return name
    return f"CAST({name} AS ENUM({', '.join(map(sql_text, values))})) AS {name}"


_UNITS = {"": 1, "B": 1, "BYTES": 1, "K": 10**3, "KB": 10**3, "KILOBYTES": 10**3,
          "M": 10**6, "MB": 10**6, "MEGABYTES": 10**6, "G": 10**9, "GB": 10**9,
          "GIGABYTES": 10**9, "T": 10**12, "TB": 10**12, "TERABYTES": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}  # fmt: skip


def _bytes(limit: str) -> float:
    """A DuckDB memory limit (``"2GB"``, ``"512 MiB"``, ``"4g"``) in bytes; infinite if not
    read (DuckDB's other spellings, a percentage)."""
    text = limit.strip().upper()
    number = text.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ ")
    try:
        return float(number) * _UNITS[text[len(number) :].strip()]
    except (ValueError, KeyError):
        return float("inf")


def _codes_at(
    rows: pa.Table, columns: tuple[str, ...], known_codes: NDArray[np.int32]
) -> list[NDArray[np.int32]] | None:
    """The codes of ``columns`` from the positions staged beside them; None when a row has no
    position (staged row by row) or its account no code: the ids are then looked up."""
    codes = []
    for name in columns:
        at = rows.column(carried(name))
        if at.null_count:
            return None
        found = known_codes[np.asarray(at.to_numpy(), dtype=np.int64)]
        if len(found) and int(found.min()) < 0:
            return None
        codes.append(found)
    return codes


def _key_span(file: Path, key: str) -> tuple[str, str] | None:
    """The smallest and largest ``key`` of a day file by its row groups' statistics; None when
    some row group has none (or the file cannot be read: then it must be scanned)."""
    try:
        meta = pq.ParquetFile(file).metadata
        column = meta.schema.names.index(key)
    except (OSError, ValueError, pa.ArrowInvalid):
        return None
    low: str | None = None
    high: str | None = None
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max:
            return None
        lo, hi = _text(stats.min), _text(stats.max)
        low = lo if low is None else min(low, lo)
        high = hi if high is None else max(high, hi)
    if low is None or high is None:
        return None
    return low, high


def _text(value: object) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def _duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_float64(arrow_type):
        return "DOUBLE"
    return "VARCHAR"


class ColumnReader:
    """The rows of a window of day files, one column at a time (``reader(name)``), and the
    account columns as codes where the day files have them (``codes``)."""

    def __init__(
        self,
        spec: Table,
        paths: list[Path],
        mask: pa.Array | None,
        dictionaries: bool,
        codes: AccountCodes,
    ) -> None:
        self.spec = spec
        self.files = [str(p) for p in paths]
        self.paths = paths
        self.mask = mask
        self.dictionaries = dictionaries
        self._codes = codes
        self._coded: list[Path] | None = None
        self._registry: pa.Array | None = None

    def __call__(self, name: str) -> pa.ChunkedArray:
        field = self.spec.schema.field(name)
        repeated = self.dictionaries and name in self.spec.repeated
        kind = pa.dictionary(pa.int32(), field.type) if repeated else field.type
        if not self.files:
            return pa.chunked_array([], type=kind)
        # All day files in one read: pyarrow's threads decode several files at once, in order.
        column = pq.read_table(
            self.files, columns=[name], read_dictionary=[name] if repeated else None
        ).column(name)
        column = column if self.mask is None else column.filter(self.mask)
        return pa.chunked_array(column.chunks, type=kind)

    def codes(self, name: str) -> tuple[NDArray[np.int32], pa.Array] | None:
        """An account column as int32 codes and the ids behind them (code = position), or None
        when some day file of the window has no codes of its current version."""
        if name not in CODED.get(self.spec.name, ()) or not self.paths:
            return None
        if self._coded is None:
            self._coded = self._codes.files(self.spec.name, self.paths) or []
            self._registry = self._codes.registry() if self._coded else None
        registry = self._registry
        if registry is None:
            return None
        try:
            column = pq.read_table([str(p) for p in self._coded], columns=[name]).column(name)
        except (OSError, pa.ArrowInvalid):  # a codes file cut short by a crash
            return None
        column = column if self.mask is None else column.filter(self.mask)
        values = np.asarray(column.to_numpy(), dtype=np.int32)
        if len(values) and (int(values.min()) < 0 or int(values.max()) >= len(registry)):
            return None
        return values, registry
