"""Account codes: a small integer per account id, kept beside the day files.

An analysis reads each fill's two accounts; hashing tens of millions of id strings to find
them among a million accounts cost most of the fill read at 10^6 accounts (7.6 of 13 s at L),
although a day file's accounts are the same few hundred thousand ids every day. So the commit
that writes a day also writes, in ``_codes/``, each account column of that day as int32 codes
(its row order), and the ids behind the codes: ``accounts.parquet``, an id per row, in code
order. A code is never reassigned; the registry only grows.

The day files stay as the contract has them (Spark, DuckDB and pyarrow read them without
this); the codes are an index a reader may use or ignore. Each day file carries a version id
in its Parquet metadata and its codes file the same id: codes of another version of the day
(a crash between the two renames, a day rewritten by an older linkscope) are not used, and
neither are codes past the registry's end. The reader then hashes the strings, as before.
"""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from events import durable as files
from events.id_index import IdIndex

FOLDER = "_codes"
REGISTRY = "accounts.parquet"
VERSION = b"linkscope.version"  # key of a day file's version id in its Parquet metadata

# Which columns of a table are coded (tables not named here have none).
CODED: dict[str, tuple[str, ...]] = {"trades": ("seller_id", "buyer_id")}


def new_version() -> bytes:
    return uuid.uuid4().hex.encode()


def _write(table: pa.Table, target: Path, *, durable: bool) -> None:
    tmp = target.with_name(f".tmp-{uuid.uuid4().hex}-{target.name}")
    pq.write_table(table, tmp, compression="zstd")
    files.replace(tmp, target, durable=durable)


class AccountCodes:
    """The codes of one event store (``root/_codes``), written under the store's exclusive
    ingest lock. The commit's thread alone gives codes (``codes_of``, which may extend the ids
    in memory); its day writer alone stores them (``write_day``, ``_save``), each slice after
    its codes were given. Ids are only ever appended, so a registry saved for a day holds
    every code the day uses, whatever the commit's thread coded since."""

    def __init__(self, root: Path) -> None:
        self.folder = root / FOLDER
        self._ids: pa.Array | None = None
        self._index: IdIndex | None = None  # of ``_ids``
        self._stored = 0

    # Writing -----------------------------------------------------------------------------

    def forget(self) -> None:
        """Read the registry anew at the next write (another process may have added codes)."""
        self._ids = None
        self._index = None

    def _load(self) -> pa.Array:
        if self._ids is None:
            self._ids = self.registry() or pa.array([], pa.string())
            self._stored = len(self._ids)
        return self._ids

    def _lookup(self) -> IdIndex:
        registry = self._load()
        if self._index is None or self._index.size != len(registry):
            self._index = IdIndex(registry)
        return self._index

    def codes_of(self, columns: list[pa.ChunkedArray]) -> list[NDArray[np.int32]]:
        """Each row's code (int32; -1 for a null), ids not coded yet getting the next codes in
        order of first appearance.

        Ids are looked up in an index of the registry built once, not hashed again with the
        whole registry for every day: each row directly when every id is coded already (the
        usual day, as the commit registers a load's accounts first: 0.22 against 0.37 s for an
        L day's 1.7M ids), else the rows' distinct ids after one dictionary encoding."""
        registry = self._load()
        parts = [c.combine_chunks().cast(pa.string()) for c in columns]
        values = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
        bounds = np.cumsum([0, *(len(p) for p in parts)])
        codes = self._lookup().positions(values)  # a null's position is -1, as its code is
        uncoded = codes < 0
        if uncoded.any() and (uncoded & ~np.asarray(values.is_null(), dtype=bool)).any():
            encoded = pc.dictionary_encode(values)
            found = self._lookup().positions(encoded.dictionary)
            new = found < 0  # the dictionary holds no null
            found[new] = len(registry) + np.arange(int(new.sum()))
            self._ids = pa.concat_arrays([registry, encoded.dictionary.filter(pa.array(new))])
            indices = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
            codes = np.append(found, -1)[indices]  # a null's -1 takes the last
        return [codes[start:end].astype(np.int32) for start, end in itertools.pairwise(bounds)]

    def lookup(self, ids: pa.Array) -> NDArray[np.int32]:
        """Each id's code, -1 where it has none; gives no code."""
        return self._lookup().positions(ids.cast(pa.string())).astype(np.int32)

    def register(self, ids: pa.Array) -> None:
        """Give codes to the ids a load brings (one registry write for the load, not one per
        day it touches); what is already coded keeps its code."""
        self.codes_of([pa.chunked_array([ids], type=pa.string())])
        self._save()

    def _save(self) -> None:
        """The registry, durably, when it grew: a code must not be given twice after a crash,
        and a day file relying on a code lands only after this."""
        ids = self._load()
        if len(ids) > self._stored:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write(pa.table({"account_id": ids}), self._registry, durable=True)
            self._stored = len(ids)

    def of_rows(self, table: str, rows: pa.Table) -> list[NDArray[np.int32]]:
        """The codes of the account columns of some of a day's rows, in row order (a day
        sorted in slices is coded slice by slice); nothing for a table without coded columns,
        whose commit then never reads the registry (orders: a million ids and their index)."""
        names = CODED.get(table, ())
        if not names:
            return []
        return self.codes_of([rows.column(name) for name in names])

    def write_day(
        self, table: str, day_name: str, codes: list[NDArray[np.int32]], version: bytes
    ) -> None:
        """Store the codes (``of_rows``, the day's slices joined) of a day about to land with
        ``version`` (before its rename). The codes file is not fsynced: a reader uses it only
        when its version is the day file's, and a missing or unreadable one means reading the
        ids instead."""
        names = CODED.get(table, ())
        if not names:
            return
        self._save()  # accounts the load did not bring: old rows of a day written before codes
        folder = self.folder / table
        folder.mkdir(parents=True, exist_ok=True)
        day = pa.table(dict(zip(names, map(pa.array, codes), strict=True)))
        _write(
            day.replace_schema_metadata({VERSION: version}),
            folder / f"{day_name}.parquet",
            durable=False,
        )

    # Reading -----------------------------------------------------------------------------

    @property
    def _registry(self) -> Path:
        return self.folder / REGISTRY

    def registry(self) -> pa.Array | None:
        """The ids behind the codes (code = position); None when there is none yet."""
        if not self._registry.is_file():
            return None
        return pq.read_table(self._registry).column("account_id").combine_chunks()

    def files(self, table: str, day_files: list[Path]) -> list[Path] | None:
        """The codes files of ``day_files``, or None unless each was written with the version
        of its day file that is there now."""
        if table not in CODED:
            return None
        found: list[Path] = []
        for day_file in day_files:
            path = self.folder / table / f"{day_file.parent.name}.parquet"
            try:
                day, codes = pq.ParquetFile(day_file).metadata, pq.ParquetFile(path).metadata
            except (OSError, pa.ArrowInvalid):  # missing, or cut short by a crash
                return None
            version = (day.metadata or {}).get(VERSION)
            if version is None or (codes.metadata or {}).get(VERSION) != version:
                return None
            if codes.num_rows != day.num_rows:
                return None
            found.append(path)
        return found
