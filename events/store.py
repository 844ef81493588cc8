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

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from events.tables import DAY_MS, TABLES, Table, day_name, day_number

log = logging.getLogger(__name__)

PART = "part.parquet"
STAGING = "_staging"
LINE = "_line"  # physical input line of a staged row, for the quarantine report


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _durable_replace(tmp: Path, target: Path) -> None:
    """Rename a written file over ``target`` so that a crash leaves the old or the new one."""
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
    """Collects one load's valid rows of one table in a staging file (bounded memory).

    Arrow's IPC file format: written at memory speed and read back by DuckDB through a pyarrow
    dataset, where Parquet's encoding would cost a third of the staging time for a file that
    lives a few seconds.
    """

    def __init__(self, path: Path, table: Table) -> None:
        self.path = path
        self.table = table
        self.schema = table.schema.append(pa.field(LINE, pa.int64()))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._sink = pa.OSFile(str(path), "wb")
        self._writer: pa.ipc.RecordBatchFileWriter | None = pa.ipc.new_file(self._sink, self.schema)
        self.rows = 0

    def append(self, batch: pa.Table) -> None:
        assert self._writer is not None, "append after close"
        self._writer.write_table(batch.select(self.schema.names).cast(self.schema))
        self.rows += batch.num_rows

    def append_rows(self, rows: list[dict[str, object]], lines: list[int]) -> None:
        columns = {
            f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in self.table.schema
        }
        columns[LINE] = pa.array(lines, type=pa.int64())
        self.append(pa.table(columns))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._sink.close()
            self._writer = None

    def dataset(self) -> ds.Dataset:
        return ds.dataset(str(self.path), format="ipc")


class EventStore:
    def __init__(self, root: Path, *, memory_limit: str = "2GB") -> None:
        self.root = root
        self.memory_limit = memory_limit

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
        files = self.files(table, since, until)
        if files:
            names = ", ".join(_sql_text(str(f)) for f in files)
            relation = f"read_parquet([{names}], hive_partitioning = false)"
        else:
            cols = ", ".join(f"CAST(NULL AS {_duck_type(f.type)}) AS {f.name}" for f in spec.schema)
            relation = f"(SELECT {cols} WHERE false)"
        where = []
        if since is not None and spec.time is not None:
            where.append(f"{spec.time} >= {int(since)}")
        if until is not None and spec.time is not None:
            where.append(f"{spec.time} < {int(until)}")
        if not where:
            return relation
        return f"(SELECT * FROM {relation} WHERE {' AND '.join(where)})"

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

    def lookup(
        self, table: str, keys: list[str], *, since: int | None = None, until: int | None = None
    ) -> pa.Table:
        """The rows with these keys (``since``/``until`` narrow the days scanned)."""
        spec = TABLES[table]
        with self.connection() as con:
            con.register("wanted", pa.table({"k": pa.array(keys, type=pa.string())}))
            return con.sql(
                f"SELECT * FROM {self.scan(table, since, until)} "
                f"WHERE {spec.key} IN (SELECT k FROM wanted) ORDER BY {spec.key}"
            ).to_arrow_table()

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(self.memory_limit, spill=self.root / STAGING / "spill")
        try:
            yield con
        finally:
            con.close()

    # Writing -----------------------------------------------------------------------------

    def stager(self, table: str, load_id: str) -> Stager:
        return Stager(self.root / STAGING / load_id / f"{table}.arrow", TABLES[table])

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

    @contextmanager
    def commit(self, stager: Stager) -> Iterator[tuple[CommitResult, duckdb.DuckDBPyConnection]]:
        """Merge a closed staging file into the day files.

        Yields the result and a connection where the temporary table ``inserted`` holds the rows
        that were new, for aggregates derived from them; the staging file is removed after.
        """
        stager.close()
        spec = stager.table
        with self.connection() as con:
            result = CommitResult()
            if stager.rows:
                con.register("staged", stager.dataset())
                self._classify(con, spec, result)
                self._write_days(con, spec, result)
            else:
                con.execute(
                    f"CREATE TEMP TABLE inserted AS SELECT * FROM {self.scan(spec.name)} LIMIT 0"
                )
            yield result, con
        stager.path.unlink(missing_ok=True)

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
            pq.write_table(part, tmp, compression="zstd")
            _durable_replace(tmp, folder / PART)
        if days:
            _fsync_dir(self.root / table)

    def _classify(self, con: duckdb.DuckDBPyConnection, spec: Table, result: CommitResult) -> None:
        key, cols = spec.key, ", ".join(spec.columns)
        [(rows, distinct)] = con.sql(
            f"SELECT count(*), count(DISTINCT {key}) FROM staged"
        ).fetchall()
        overlap = 0
        if self.files(spec.name):
            [(overlap,)] = con.sql(
                f"SELECT count(*) FROM {self.scan(spec.name)} WHERE {key} IN (SELECT {key} FROM staged)"
            ).fetchall()
        if rows == distinct and not overlap:  # the usual load: every row is new
            con.execute(f"CREATE TEMP VIEW inserted AS SELECT {cols} FROM staged")
            result.inserted = int(rows)
            return
        con.execute(
            f"CREATE TEMP TABLE st AS SELECT *, hash({cols}) AS _h, "
            f"row_number() OVER (PARTITION BY {key} ORDER BY {LINE}) AS _rn FROM staged"
        )
        # The hash every copy of a key must match: the stored row's, else the load's first.
        con.execute(
            f"CREATE TEMP TABLE ref AS SELECT f.{key}, coalesce(e._h, f._h) AS _h, "
            f"e._h IS NOT NULL AS stored, f.{LINE} AS first_line "
            f"FROM (SELECT {key}, _h, {LINE} FROM st WHERE _rn = 1) f "
            f"LEFT JOIN (SELECT {key}, any_value(hash({cols})) AS _h FROM {self.scan(spec.name)} "
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

    def _write_days(
        self, con: duckdb.DuckDBPyConnection, spec: Table, result: CommitResult
    ) -> None:
        """Days that hold no file yet are written in one partitioned pass; a day that does gets
        its old rows and the new ones written together. Each lands by an atomic rename."""
        cols, order = ", ".join(spec.columns), ", ".join(spec.sort)
        day = f"({spec.time} // {DAY_MS})"
        result.days = [
            int(d[0]) for d in con.sql(f"SELECT DISTINCT {day} FROM inserted ORDER BY 1").fetchall()
        ]
        table_dir = self.root / spec.name
        table_dir.mkdir(parents=True, exist_ok=True)
        existing = {d for d in result.days if (table_dir / day_name(d) / PART).is_file()}
        fresh = [d for d in result.days if d not in existing]
        if fresh:
            scratch = table_dir / f".tmp-{uuid.uuid4().hex}"
            wanted = ", ".join(str(d) for d in fresh)
            con.execute(
                f"COPY (SELECT {cols}, {day} AS day FROM inserted WHERE {day} IN ({wanted}) "
                f"ORDER BY {order}) TO {_sql_text(str(scratch))} "
                "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day), ROW_GROUP_SIZE 1000000)"
            )
            for d in fresh:
                self._land(con, spec, sorted((scratch / f"day={d}").glob("*.parquet")), d)
            shutil.rmtree(scratch, ignore_errors=True)
        for d in sorted(existing):
            target = table_dir / day_name(d) / PART
            tmp = target.parent / f".tmp-{uuid.uuid4().hex}.parquet"
            con.execute(
                f"COPY (SELECT * FROM (SELECT {cols} FROM read_parquet({_sql_text(str(target))}, "
                f"hive_partitioning = false) UNION ALL SELECT {cols} FROM inserted "
                f"WHERE {day} = {d}) ORDER BY {order}) TO {_sql_text(str(tmp))} "
                "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
            )
            _durable_replace(tmp, target)
        if result.days:
            _fsync_dir(table_dir)

    def _land(self, con: duckdb.DuckDBPyConnection, spec: Table, parts: list[Path], d: int) -> None:
        """Move a day's freshly written file into place (one file, whatever DuckDB split)."""
        folder = self.root / spec.name / day_name(d)
        folder.mkdir(parents=True, exist_ok=True)
        if len(parts) == 1:
            _durable_replace(parts[0], folder / PART)
            return
        tmp = folder / f".tmp-{uuid.uuid4().hex}.parquet"
        files = ", ".join(_sql_text(str(p)) for p in parts)
        con.execute(
            f"COPY (SELECT * FROM read_parquet([{files}], hive_partitioning = false) "
            f"ORDER BY {', '.join(spec.sort)}) TO {_sql_text(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
        )
        _durable_replace(tmp, folder / PART)


def _duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_float64(arrow_type):
        return "DOUBLE"
    return "VARCHAR"
