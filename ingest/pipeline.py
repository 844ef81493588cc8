"""``linkscope ingest DIR``: every contract file, validated, quarantined, loaded in batches.

Validation (this thread) overlaps with the store's work (one writer thread), so an ingest uses
both cores: Python parses batch k+1 while the store writes batch k.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from events.id_index import IdIndex
from events.location import events_for
from events.store import EventStore, carried
from graph import statements as st
from graph.backend import GraphBackend
from graph.schema import ensure_schema
from ingest.columnar import Block, check, csv_blocks, parquet_blocks, records_of, typed_schema
from ingest.conflicts import LEDGER_FILES, KeyLedger, StoredCheck
from ingest.contract import ALL_FILES, FileSpec, Limits
from ingest.event_loaders import EVENT_LOADERS, EventLoader
from ingest.loaders import LOADERS, Loader
from ingest.overlap import mapped_in_order, prefetched
from ingest.quarantine import Quarantine
from ingest.reader import (
    DEFAULT_MAX_RECORD_BYTES,
    Record,
    count_rows,
    file_columns,
    find_file,
    iter_batches,
)
from ingest.validate import Rejection, Validator
from linkscope.errors import InputError

log = logging.getLogger(__name__)

# progress(file name, row total or None) -> advance(rows); advance(None) marks the file done.
ProgressHook = Callable[[str, int | None], Callable[[int | None], None]]


@dataclass
class FileSummary:
    name: str
    path: str | None = None
    read: int = 0
    ingested: int = 0
    quarantined: int = 0
    duplicate: int = 0
    seconds: float = 0.0
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass
class IngestSummary:
    run_id: str
    directory: str
    files: list[FileSummary] = field(default_factory=list)
    seconds: float = 0.0
    quarantine_path: str | None = None

    @property
    def usable(self) -> bool:
        """Something valid was found (newly ingested or already present)."""
        return any(f.ingested or f.duplicate for f in self.files)


def _no_progress(name: str, total: int | None) -> Callable[[int | None], None]:
    return lambda n: None


def ingest_directory(
    directory: Path,
    store: GraphBackend,
    *,
    events: EventStore | None = None,
    quarantine_path: Path | None = None,
    batch_size: int = 40_000,
    pair_min_trades: int = 2,
    progress: ProgressHook = _no_progress,
    limits: Limits | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> IngestSummary:
    """Load every contract file of ``directory``: fills and orders into the event store (by
    default the one beside ``store``), everything else and the aggregates into the graph."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    if store.max_batch_rows is not None:
        batch_size = min(batch_size, store.max_batch_rows)
    options = _Options(
        batch_size,
        progress,
        limits or Limits(),
        max_record_bytes,
        events or events_for(store),
        pair_min_trades,
    )
    with store.exclusive_writer():
        options.events.discard_staging()  # what a load that died left behind
        return _ingest_locked(directory, store, quarantine_path, options)


@dataclass(frozen=True)
class _Options:
    batch_size: int
    progress: ProgressHook
    limits: Limits
    max_record_bytes: int
    events: EventStore
    pair_min_trades: int
    # Graph writes that follow from stored events, running on the writer thread while the
    # next file is read; each adds its time to its file when it is done.
    deferred: list[tuple[FileSummary, Future[float]]] = field(default_factory=list)


def _ingest_locked(
    directory: Path,
    store: GraphBackend,
    quarantine_path: Path | None,
    options: _Options,
) -> IngestSummary:
    started = time.perf_counter()
    run_id = uuid.uuid4().hex
    summary = IngestSummary(
        run_id=run_id,
        directory=str(directory),
        quarantine_path=str(quarantine_path) if quarantine_path else None,
    )
    ensure_schema(store)
    store.run(
        st.START_RUN,
        {
            "run_id": run_id,
            "started_at": int(time.time() * 1000),
            "source": str(directory.resolve()),
        },
    )
    account_nodes = {row[0]: int(row[1]) for row in store.run(st.ACCOUNT_IDS).rows}
    quarantine = Quarantine(quarantine_path)
    status = "failed"
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-writer") as writer:
            for spec in ALL_FILES:
                summary.files.append(
                    _ingest_file(
                        directory, spec, store, run_id, account_nodes, quarantine, writer, options
                    )
                )
            for file_summary, done in options.deferred:
                file_summary.seconds += done.result()
        status = "completed"
    finally:
        quarantine.close()
        summary.seconds = time.perf_counter() - started
        store.run(
            st.FINISH_RUN,
            {
                "run_id": run_id,
                "finished_at": int(time.time() * 1000),
                "status": status,
                "summary": _compact(summary),
            },
        )
        store.checkpoint()
    return summary


def _compact(summary: IngestSummary) -> str:
    return "; ".join(
        f"{f.name}: {f.ingested} new, {f.duplicate} dup, {f.quarantined} bad"
        for f in summary.files
        if f.path
    )


def _ingest_file(
    directory: Path,
    spec: FileSpec,
    store: GraphBackend,
    run_id: str,
    account_nodes: dict[str, int],
    quarantine: Quarantine,
    writer: ThreadPoolExecutor,
    options: _Options,
) -> FileSummary:
    result = FileSummary(spec.name)
    try:
        path = find_file(directory, spec.name)
    except InputError as exc:
        result.note = f"not loaded: {exc}"
        quarantine.add(spec.name, 1, "", str(exc), [])
        result.quarantined = 1
        return result
    if path is None:
        result.note = "missing (required)" if spec.required_file else "absent (optional)"
        return result
    result.path = str(path)
    started = time.perf_counter()
    try:
        present = set(file_columns(path))
        missing = [c for c in spec.required_columns if c not in present]
        if missing:
            for column in missing:
                quarantine.add(
                    path.name, 1, column, "required column missing from header", sorted(present)
                )
            result.note = f"not loaded: missing column(s) {', '.join(missing)}"
            result.quarantined = len(missing)
            return result
        if spec.name in EVENT_LOADERS:
            loader = EVENT_LOADERS[spec.name](
                store, options.events, run_id, account_nodes, options.pair_min_trades
            )
            apply = _load_events(
                path, spec, loader, account_nodes, quarantine, result, options, writer
            )
            options.deferred.append((result, writer.submit(_deferred, path.name, apply)))
        else:
            _load_rows(
                path, spec, store, run_id, account_nodes, quarantine, writer, options, result
            )
    except InputError as exc:
        # A file unusable as a whole (unreadable or ambiguous header) is skipped; the others
        # load. The reader raises this only before the first row, so nothing was loaded.
        log.warning("%s", exc)
        quarantine.add(path.name, 1, "", str(exc), [])
        result.note = f"not loaded: {exc}"
        result.quarantined += 1
        return result
    result.seconds = time.perf_counter() - started
    return result


def _load_rows(
    path: Path,
    spec: FileSpec,
    store: GraphBackend,
    run_id: str,
    account_nodes: dict[str, int],
    quarantine: Quarantine,
    writer: ThreadPoolExecutor,
    options: _Options,
    result: FileSummary,
) -> None:
    loader: Loader = LOADERS[spec.name](store, run_id, account_nodes)
    advance = options.progress(path.name, count_rows(path))
    pending: Future[Any] | None = None
    seen_in_batch: set[Any] = set()
    validator: Validator | None = None
    refs = spec.account_refs
    single_key = spec.key[0] if len(spec.key) == 1 else None
    ledger = KeyLedger(spec) if spec.name in LEDGER_FILES and single_key else None
    stored = StoredCheck(spec, store) if ledger is not None else None

    rejected: Rejected = []  # a batch's, reported in line order when it is decided

    def reject(record: Record, column: str, reason: str) -> None:
        rejected.append((record.line, column, reason, record.fields))

    batches = (
        _checked_row_batches(path, spec, account_nodes, options)
        if spec.name in COLUMNAR_ROW_FILES
        else (
            (b.header, b.records, [], [], _no_raw)
            for b in iter_batches(path, options.batch_size, options.max_record_bytes)
        )
    )
    for header, records, refused, fast, raw in batches:
        read = len(records) + len(fast) + len(refused)
        rejected.extend(refused)
        if validator is None or validator.header is not header:
            validator = Validator(spec, header, options.limits)
        valid: list[dict[str, Any]] = []
        keyed: list[tuple[Record, dict[str, Any]]] = []
        seen_in_batch.clear()
        if ledger is not None and fast:
            # Column-checked rows of a keyed file: the ledger needs their lines; their raw
            # fields are read from the block only for a row it quarantines.
            keyed.extend((_LazyRecord(row.pop(LINE), raw), row) for row in fast)
            fast = []
        for record in records:
            row = validator(record)
            if isinstance(row, Rejection):
                rejected.append((row.line, row.column, row.reason, row.raw))
                continue
            unknown = None
            for ref in refs:
                if row[ref] not in account_nodes:
                    unknown = ref
                    break
            if unknown is not None:
                reject(record, unknown, f"account {row[unknown]!r} is not in accounts")
                continue
            if ledger is not None:
                keyed.append((record, row))
                continue
            fast.append(row)
        for row in fast:  # checked column-wise or just now: the duplicates within the batch
            key = row[single_key] if single_key else tuple(row[k] for k in spec.key)
            if key in seen_in_batch:
                result.duplicate += 1
                continue
            seen_in_batch.add(key)
            valid.append(row)
        if ledger is not None and stored is not None:
            keyed.sort(key=lambda pair: pair[0].line)  # the file's first row of a key is kept
            _sort_keyed(keyed, ledger, stored, reject, result, valid)
        for line, column, reason, raw in sorted(rejected, key=lambda r: r[0]):
            quarantine.add(path.name, line, column, reason, raw)
        result.quarantined += len(rejected)
        rejected.clear()
        result.read += read
        job = loader.prepare(valid) if valid else None
        if job is not None:
            # One write in flight keeps memory bounded. A loader that gathers batches (logins)
            # reads on while its last write runs: waiting here on every batch left the store
            # idle while the next window was read (L's logins: ~100 s of 254).
            if pending is not None:
                loader.after(pending.result())
            pending = writer.submit(loader.write, job)
        advance(read)
    if pending is not None:
        loader.after(pending.result())
    advance(None)

    rest = loader.finish()

    def counted() -> None:
        if rest is not None:
            rest()
        result.ingested = loader.counts.ingested
        result.duplicate += loader.counts.duplicate

    if rest is None:
        counted()
    else:  # the file's counts are final once the writer has done the rest
        options.deferred.append((result, writer.submit(_deferred, path.name, counted)))


# Row files whose blocks are checked column-wise like fills and orders (``ingest.columnar``):
# millions of logins and funding events at a large venue. Funding's rows then go through the
# same ledger as rows read one by one, which tells duplicates from conflicting rows.
COLUMNAR_ROW_FILES = frozenset({"logins", "funding"})
LINE = "_line"

RawFields = Callable[[int], list[Any]]  # a physical line's fields as read, for the quarantine
# (header, records the row-wise validator decides, rows the block's checks rejected, rows
# valid already, raw fields of a line)
RowBatch = tuple[list[str], list[Record], "Rejected", list[dict[str, Any]], RawFields]


def _no_raw(line: int) -> list[Any]:
    raise AssertionError(f"line {line}: a row read one by one carries its own fields")


class _LazyRecord(Record):
    """A column-checked row as a record: its line now, its raw fields only when asked."""

    __slots__ = ("_raw",)

    def __init__(self, line: int, raw: RawFields) -> None:
        self.line = line
        self.error = None
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        if name == "fields":  # an unset slot: read once from the block
            self.fields = self._raw(self.line)
            return self.fields
        raise AttributeError(name)


def _checked_row_batches(
    path: Path,
    spec: FileSpec,
    account_nodes: Mapping[str, int],
    options: _Options,
) -> Iterator[RowBatch]:
    """Batches of at most ``batch_size`` rows in file order: each block's plain values pass
    column-wise; the rest go to the row-wise validator, each with the batch of its line."""
    schema = typed_schema(spec)
    size = options.batch_size
    known = IdIndex(pa.array(list(account_nodes), pa.string()))
    names = [c.name for c in spec.columns]
    if spec.name in LEDGER_FILES:
        names.append(LINE)
    for block in _blocks(path, options):
        done = _checked_block(block, spec, schema, known, options.limits)
        if done is None:
            yield block.header, block.records, [], [], _no_raw
            continue
        fast, records, refused, _ = done
        values = zip(*(fast.column(n).to_pylist() for n in names), strict=True)
        rows = [dict(zip(names, row, strict=True)) for row in values]
        lines = np.asarray(fast.column(LINE).to_numpy(), dtype=np.int64)
        raw = _raw_fields(block)
        starts = list(range(0, max(len(rows), 1), size))
        firsts = lines[starts] if len(lines) else np.zeros(1, dtype=np.int64)
        slow: list[list[Record | Refused]] = [[] for _ in starts]
        unchecked: list[Record | Refused] = [*records, *refused]
        for item in unchecked:
            at = int(np.searchsorted(firsts, _line_of(item), side="right")) - 1
            slow[max(at, 0)].append(item)
        for k, start in enumerate(starts):
            part, part_lines = rows[start : start + size], lines[start : start + size]
            if len(part) + len(slow[k]) <= size:
                held, part_rows = slow[k], part
                yield block.header, *_split(held), part_rows, raw
                continue
            # Many rows for the row-wise validator: cut in line order, at most ``size`` a batch.
            merged: list[tuple[int, Record | Refused | dict[str, Any]]] = sorted(
                [*((_line_of(x), x) for x in slow[k]),
                 *((int(n), r) for n, r in zip(part_lines, part, strict=True))],
                key=lambda t: t[0],
            )  # fmt: skip
            for cut in range(0, len(merged), size):
                piece = [x for _, x in merged[cut : cut + size]]
                held = [x for x in piece if not isinstance(x, dict)]
                part_rows = [x for x in piece if isinstance(x, dict)]
                yield block.header, *_split(held), part_rows, raw


Refused = tuple[int, str, str, Any]  # line, column, reason, raw fields


def _line_of(item: Record | Refused) -> int:
    return item.line if isinstance(item, Record) else item[0]


def _split(items: list[Record | Refused]) -> tuple[list[Record], list[Refused]]:
    records = [x for x in items if isinstance(x, Record)]
    return records, [x for x in items if not isinstance(x, Record)]


def _raw_fields(block: Block) -> RawFields:
    table, header, first = block.table, block.header, block.first_line
    assert table is not None

    def fields(line: int) -> list[Any]:
        [record] = records_of(table, header, np.array([line - first]), first)
        return record.fields

    return fields


def _load_events(
    path: Path,
    spec: FileSpec,
    loader: EventLoader,
    account_nodes: dict[str, int],
    quarantine: Quarantine,
    result: FileSummary,
    options: _Options,
    writer: ThreadPoolExecutor,
) -> Callable[[], None]:
    """Stage and commit a fills/orders file; returns the graph writes that follow from it."""
    advance = options.progress(path.name, count_rows(path))
    claimed = writer.submit(loader.claim)
    try:
        staging = _timed(
            lambda: _stage_events(
                path, spec, loader, account_nodes, quarantine, result, options, advance
            )
        )
        log.info("%s: %d rows read and checked in %.1f s", path.name, result.read, staging)
    except BaseException:
        loader.abandon()
        if claimed.exception() is None and not claimed.result():  # nothing landed
            writer.submit(loader.release)
        raise
    try:
        started = time.perf_counter()
        committed, apply = loader.commit(claimed.result())
        log.info("%s: committed in %.1f s", path.name, time.perf_counter() - started)
    except BaseException:
        loader.abandon()
        raise
    key = spec.key[0]
    for conflict in committed.conflicts:
        where = (
            "is stored with other values"
            if conflict.first_line is None
            else f"is on line {conflict.first_line} with other values"
        )
        reason = f"conflicting duplicate: {key} {conflict.key!r} {where}"
        quarantine.add(path.name, conflict.line, key, reason, [conflict.key])
    result.ingested = committed.inserted
    result.duplicate += committed.duplicate
    result.quarantined += len(committed.conflicts)
    advance(None)
    return apply


def _deferred(name: str, work: Callable[[], None]) -> float:
    """A file's graph writes run after it on the writer thread; logged where they fail, since
    a later file's failure may end the ingest before anyone asks for their result."""
    try:
        return _timed(work)
    except BaseException:
        log.exception("%s: the graph writes that follow the file failed", name)
        raise


def _timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _stage_events(
    path: Path,
    spec: FileSpec,
    loader: EventLoader,
    account_nodes: dict[str, int],
    quarantine: Quarantine,
    result: FileSummary,
    options: _Options,
    advance: Callable[[int | None], None],
) -> None:
    """Validate and stage a fills/orders file column-wise (``ingest.columnar``); duplicates and
    conflicts are found at commit. A CSV with quotes goes row by row."""
    schema = loader.stager.table.schema
    ids = pa.array(list(account_nodes), pa.string())
    known = IdIndex(ids)
    # The accounts the staged rows name, so that the commit need not read every staged row
    # again to find them (5.7 s of an L fills file's commit).
    named = np.zeros(len(ids), dtype=bool)
    # Each staged row's accounts as positions in ``ids``: the commit codes the day files'
    # accounts from them instead of looking every id up again (``Stager.known``).
    carry = loader.stager.carried
    loader.stager.known = ids

    def checked_block(block: Block) -> CheckedBlock | None:
        return _checked_block(block, spec, schema, known, options.limits, carry)

    with ThreadPoolExecutor(1, thread_name_prefix="ingest-check") as pool:
        for block, done in mapped_in_order(checked_block, prefetched(_blocks(path, options)), pool):
            read, rejected = _stage_block(
                path.name,
                block,
                done,
                spec,
                loader,
                account_nodes,
                known,
                named,
                quarantine,
                options,
            )
            result.read += read
            result.quarantined += rejected
            advance(read)
    loader.stager.accounts = ids.filter(pa.array(named))


Rejected = list[tuple[int, str, str, Any]]
# A block checked column-wise: its valid rows (typed), the records the row-wise validator must
# decide, the rows rejected for an unknown account, and where the accounts its valid rows name
# stand among the known ones.
CheckedBlock = tuple[pa.Table, list[Record], Rejected, NDArray[np.int64]]


def _blocks(path: Path, options: _Options) -> Iterator[Block]:
    if path.name.endswith(".parquet"):
        return parquet_blocks(path)
    return csv_blocks(path, options.batch_size, options.max_record_bytes)


def _checked_block(
    block: Block,
    spec: FileSpec,
    schema: pa.Schema,
    known: IdIndex,
    limits: Limits,
    carry: tuple[str, ...] = (),
) -> CheckedBlock | None:
    """The block's rows checked column-wise (None: a block read row by row); the account
    references in ``carry`` with their positions among the known ones (``_known_accounts``)."""
    if block.table is None:
        return None
    rejected: Rejected = []
    checked = check(spec, schema, block.table, block.first_line, limits)
    fast, named = _known_accounts(checked.valid, spec, known, rejected, carry)
    if rejected:  # the quarantine quotes a row as it was read, not as typed
        first = block.first_line
        at = np.array([line - first for line, *_ in rejected], dtype=np.int64)
        read = records_of(block.table, block.header, at, first)
        rejected = [(r[0], r[1], r[2], rec.fields) for r, rec in zip(rejected, read, strict=True)]
    records = records_of(block.table, block.header, checked.doubtful, block.first_line)
    return fast, records, rejected, named


def _stage_block(
    name: str,
    block: Block,
    done: CheckedBlock | None,
    spec: FileSpec,
    loader: EventLoader,
    account_nodes: dict[str, int],
    known: IdIndex,
    named: NDArray[np.bool_],
    quarantine: Quarantine,
    options: _Options,
) -> tuple[int, int]:
    """Stage a block's rows that passed column-wise, decide the others row by row; returns
    the rows read and rejected. Marks in ``named`` the known accounts the staged rows name."""
    if done is not None:
        fast, records, rejected, found = done
        named[found] = True
        loader.stager.append(fast)
        read = block.table.num_rows if block.table is not None else 0
    else:
        records, rejected, read = block.records, [], len(block.records)
    validator = Validator(spec, block.header, options.limits)
    valid: list[dict[str, Any]] = []
    lines: list[int] = []
    for record in records:
        row = validator(record)
        if isinstance(row, Rejection):
            rejected.append((row.line, row.column, row.reason, row.raw))
            continue
        unknown = next((ref for ref in spec.account_refs if row[ref] not in account_nodes), None)
        if unknown is not None:
            reason = f"account {row[unknown]!r} is not in accounts"
            rejected.append((record.line, unknown, reason, record.fields))
            continue
        valid.append(row)
        lines.append(record.line)
    if valid:
        ids = pa.array([row[ref] for row in valid for ref in spec.account_refs], pa.string())
        named[known.positions(ids)] = True
        loader.write(valid, lines)
    for line, column, reason, raw in sorted(rejected, key=lambda r: r[0]):
        quarantine.add(name, line, column, reason, raw)
    return read, len(rejected)


def _known_accounts(
    rows: pa.Table,
    spec: FileSpec,
    known: IdIndex,
    rejected: list[tuple[int, str, str, Any]],
    carry: tuple[str, ...] = (),
) -> tuple[pa.Table, NDArray[np.int64]]:
    """Rows whose account references all exist, and where the accounts they name stand among
    the known ones; the other rows are added to ``rejected``. The references named in
    ``carry`` get a column more (``carried``): each row's position among the known ones."""
    unknown_any = np.zeros(rows.num_rows, dtype=bool)
    named: list[NDArray[np.int64]] = []
    positions: dict[str, NDArray[np.int64]] = {}
    for ref in spec.account_refs:
        # Only the block's distinct ids are looked up: a block repeats its busy accounts.
        encoded = pc.dictionary_encode(rows.column(ref).combine_chunks())
        at = known.positions(encoded.dictionary)
        found = at >= 0
        named.append(at[found])
        indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        row_at = np.append(at, -1)[indices]  # a null id (index -1) is not found either
        positions[ref] = row_at
        missing = row_at < 0
        if not missing.any():
            continue
        new = missing & ~unknown_any
        for i in np.flatnonzero(new).tolist():
            row = {name: rows.column(name)[i].as_py() for name in rows.column_names}
            reason = f"account {row[ref]!r} is not in accounts"
            rejected.append((int(row["_line"]), ref, reason, None))  # raw fields: the caller's
        unknown_any |= missing
    # A superset of the accounts of the rows kept (a rejected row's other account stays in):
    # the commit registers codes for them, which an account without fills does not mind.
    keep = ~unknown_any if unknown_any.any() else None
    kept = rows if keep is None else rows.filter(pa.array(keep))
    for ref in carry:
        row_at = positions[ref] if keep is None else positions[ref][keep]
        kept = kept.append_column(carried(ref), pa.array(row_at.astype(np.int32)))
    return kept, np.concatenate(named) if named else np.zeros(0, dtype=np.int64)


def _sort_keyed(
    keyed: list[tuple[Record, dict[str, Any]]],
    ledger: KeyLedger,
    stored: StoredCheck,
    reject: Callable[[Record, str, str], None],
    result: FileSummary,
    valid: list[dict[str, Any]],
) -> None:
    """Rows of a file keyed by one id: new (appended to ``valid``), duplicate, or conflicting
    with an earlier row of the file or with the store (quarantined)."""
    key = ledger.key
    earlier = ledger.check([row for _, row in keyed], [record.line for record, _ in keyed])
    unseen: list[tuple[Record, dict[str, Any]]] = []
    for (record, row), line in zip(keyed, earlier, strict=True):
        if line is None:
            unseen.append((record, row))
        elif line < 0:
            reason = (
                f"conflicting duplicate: {key} {row[key]!r} is on line {-line} with other values"
            )
            reject(record, key, reason)
        else:
            result.duplicate += 1
    clash = stored.conflicts([row for _, row in unseen])
    for record, row in unseen:
        if clash and row[key] in clash:
            ledger.forget(row)
            reason = f"conflicting duplicate: {key} {row[key]!r} is stored with other values"
            reject(record, key, reason)
        else:
            valid.append(row)
