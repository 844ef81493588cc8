"""Fuzzed ingest on the real embedded store: hostile values, encodings and bytes spliced into
valid contract files. Every row read is ingested, quarantined or a duplicate; nothing raises."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import IngestSummary, ingest_directory
from tests.helpers import small_dataset

FILES = ("accounts", "logins", "funding", "trades", "orders", "enforcement_history")
_graphs = itertools.count()

HOSTILE = [
    "",
    " ",
    "\x00",
    "A1\x00",
    "\x85",
    "A\u2028",
    "\u2029",
    "\x7f",
    '"',
    '""',
    ",",
    "\n",
    "\r",
    "\r\n",
    "1e308",
    "-1e308",
    "1e400",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "0",
    "-0",
    "1e-400",
    "9" * 30,
    "9" * 5000,
    "2008-12-31T23:59:59Z",
    "2999-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "-99999999999999999999",
    "²",
    "١٢٣",
    "true",
    "A1",
    "A2",
    "T1",
    "O1",
    "F1",
    "é",
    "\ufeff",
    "\udc80".encode("utf-8", "surrogatepass").decode("latin-1"),
]
values = hs.one_of(
    hs.sampled_from(HOSTILE),
    hs.text(max_size=12),
    hs.floats().map(repr),
    hs.integers(min_value=-(10**20), max_value=10**20).map(str),
)


def _rows(directory: Path, name: str) -> tuple[list[str], list[list[str]]]:
    with (directory / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


@hs.composite
def mutated_rows(draw: hs.DrawFn, base: list[list[str]]) -> list[list[str]]:
    rows = [list(r) for r in base]
    for _ in range(draw(hs.integers(0, 4))):  # repeats: duplicates and conflicting duplicates
        rows.append(list(draw(hs.sampled_from(base))))
    for row in rows:
        for _ in range(draw(hs.integers(0, 2))):
            row[draw(hs.integers(0, len(row) - 1))] = draw(values)
    return draw(hs.permutations(rows))


def _write(
    directory: Path, name: str, header: list[str], rows: list[list[str]], form: str, end: str
) -> None:
    (directory / f"{name}.csv").unlink()
    if form == "parquet":
        columns = {h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(header)}
        pq.write_table(pa.table(columns), directory / f"{name}.parquet")
        return
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator=end).writerows([header, *rows])
    data = text.getvalue().encode(form.removesuffix(".gz"), errors="replace")
    if form.endswith(".gz"):
        (directory / f"{name}.csv.gz").write_bytes(gzip.compress(data))
    else:
        (directory / f"{name}.csv").write_bytes(data)


def _ingest(directory: Path, store_path: Path, report: Path) -> IngestSummary:
    store = FalkorEmbedded(store_path, f"fuzz{next(_graphs)}")
    try:
        return ingest_directory(directory, store, quarantine_path=report, batch_size=3)
    finally:
        store._graph.delete()  # type: ignore[attr-defined]
        store.close()


def _check_accounting(summary: IngestSummary, report: Path) -> None:
    """Each file: every row read is ingested, quarantined or a duplicate, and each quarantined
    row is in the report once, at its own physical line."""
    with report.open(encoding="utf-8", newline="") as handle:
        reported = list(csv.DictReader(handle))
    by_file = Counter(Path(r["file"]).name.split(".")[0] for r in reported)
    for f in summary.files:
        assert by_file[f.name] == f.quarantined, (f, reported)
        if f.note.startswith("not loaded"):
            assert f.read == 0 and f.ingested == 0
            continue
        assert f.ingested + f.quarantined + f.duplicate == f.read, f
    # Line 1 (the header) may carry one entry per missing column; rows have one entry each.
    lines = [(r["file"], r["line"]) for r in reported if r["line"] != "1"]
    assert len(lines) == len(set(lines)), reported
    assert all(r["reason"] for r in reported)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=hs.data())
def test_hostile_values_in_any_encoding_are_all_accounted_for(
    tmp_path_factory: Any, store_path: Path, data: hs.DataObject
) -> None:
    work = tmp_path_factory.mktemp("fuzz")
    directory = small_dataset(work / "in")
    name = data.draw(hs.sampled_from(FILES), label="file")
    header, base = _rows(directory, name)
    rows = data.draw(mutated_rows(base), label="rows")
    form = data.draw(
        hs.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16", "utf-8.gz", "parquet"]),
        label="form",
    )
    end = data.draw(hs.sampled_from(["\r\n", "\n", "\r"]), label="line end")
    _write(directory, name, header, rows, form, end)
    summary = _ingest(directory, store_path, work / "q.csv")
    _check_accounting(summary, work / "q.csv")
    fuzzed = next(f for f in summary.files if f.name == name)
    if form == "utf-16":
        assert fuzzed.note.startswith("not loaded") and "UTF-16" in fuzzed.note
    else:
        # The rows as written are the records read: nothing lost, nothing invented.
        assert fuzzed.read == len(rows), (fuzzed, rows)
    if name != "accounts":
        assert next(f for f in summary.files if f.name == "accounts").ingested == 3


@FUZZ
@given(data=hs.data())
def test_random_bytes_spliced_into_files_never_break_the_ingest(
    tmp_path_factory: Any, store_path: Path, data: hs.DataObject
) -> None:
    work = tmp_path_factory.mktemp("bytes")
    directory = small_dataset(work / "in")
    name = data.draw(hs.sampled_from(FILES), label="file")
    path = directory / f"{name}.csv"
    raw = bytearray(path.read_bytes())
    if data.draw(hs.booleans(), label="whole file random"):
        raw = bytearray(data.draw(hs.binary(max_size=400), label="bytes"))
    else:
        for _ in range(data.draw(hs.integers(1, 4), label="splices")):
            at = data.draw(hs.integers(0, len(raw)), label="at")
            raw[at:at] = data.draw(hs.binary(min_size=1, max_size=12), label="splice")
    if data.draw(hs.booleans(), label="gzip"):
        path.unlink()
        packed = gzip.compress(bytes(raw))
        cut = data.draw(hs.integers(len(packed) // 2, len(packed)), label="gzip length")
        (directory / f"{name}.csv.gz").write_bytes(packed[:cut])
    else:
        path.write_bytes(bytes(raw))
    summary = _ingest(directory, store_path, work / "q.csv")
    _check_accounting(summary, work / "q.csv")
    # A lone CR ends a line too (csv's own rule, and the reader's: old Mac exports).
    physical_lines = len(re.findall(rb"\r\n|\r|\n", bytes(raw))) + 1
    with (work / "q.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["file"].startswith(f"{name}."):
                assert 1 <= int(row["line"]) <= physical_lines + 1, row


def test_cli_ingest_of_hostile_files_exits_cleanly(tmp_path: Path) -> None:
    """``linkscope ingest`` as a user runs it: a table and a quarantine report, no traceback."""
    directory = small_dataset(tmp_path / "in")
    with (directory / "accounts.csv").open("ab") as handle:
        handle.write(b"B\x00X,2026-01-01T00:00:00Z,1,DE,retail,false,active\n")
        handle.write(b"B\xe9,2026-01-01T00:00:00Z,1,DE,retail,false,active\n")
    with (directory / "trades.csv").open("ab") as handle:
        handle.write(b"T9,2026-02-05T00:04:00Z,BTC_USDT,1e308,1e308,A1,A2,buy,\n")
    logins = directory / "logins.csv"
    logins.write_bytes(logins.read_text().encode("utf-16"))
    (directory / "funding.csv").write_bytes(os.urandom(3000))
    env = {**os.environ, "LINKSCOPE_STORE": f"embedded:{tmp_path / 'store'}", "COLUMNS": "200"}
    report = tmp_path / "q.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "ingest",
            str(directory),
            "--quarantine",
            str(report),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "rows quarantined" in done.stdout
    with report.open(encoding="utf-8", newline="") as handle:
        files = Counter(r["file"] for r in csv.DictReader(handle))
    assert files["accounts.csv"] == 2 and files["trades.csv"] == 1 and files["logins.csv"] == 1
