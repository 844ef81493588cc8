"""The column-wise validation of fills and orders agrees with the row-wise validator, row by row:
same valid rows with the same values, same rejected lines with the same column and reason."""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from events.tables import ORDERS as ORDER_TABLE
from events.tables import TRADES as TRADE_TABLE
from ingest.columnar import check, csv_blocks, records_of, typed_schema
from ingest.contract import FUNDING, LOGINS, ORDERS, TRADES, FileSpec, Limits
from ingest.reader import iter_batches
from ingest.validate import Rejection, Validator
from linkscope.errors import InputError

# Per type: plain valid values first (the column-wise fast path), then odd spellings and
# invalid ones that only the row-wise validator may decide.
VALID: dict[str, list[str]] = {
    "id": ["T1", "A-7", "x_y.z"],
    "ts": ["1790000000000", "2026-11-20T13:45:12.123Z", "2026-11-20T13:45:12+02:00"],
    "num": ["1", "0.5", "100.25", "007.50"],
    "side": ["buy", "sell"],
    "type": ["market", "limit"],
    "status": ["filled", "partially_filled", "cancelled", "open", "rejected"],
    "channel": ["web", "app", "api"],
    "market": ["spot", "futures"],
    "ip": ["10.0.0.1", "255.255.255.255", "0.0.0.0", "2001:db8::1"],
    "text": ["Mozilla/5.0 (X11; Linux)", "curl/8.0", "x"],
    "direction": ["deposit", "withdrawal"],
    "method": ["crypto", "bank", "card", "p2p", "internal"],
}
ODD: dict[str, list[str]] = {
    "id": [" padded ", "ünï", "", "a b", "q\"uote"],
    "ts": ["2026-02-30T00:00:00Z", "2026-11-20 13:45:12", "-5", "", "abc", " 1790000000001 ",
           "2026-11-20T13:45:12.123456Z", "99999999999999999999"],
    "num": ["0", "-1", "1e3", "nan", "inf", "", "1,5", " 2 ", "1e400"],
    "side": ["BUY", "", "hold"],
    "type": ["Limit", ""],
    "status": ["done", "", "Filled"],
    "channel": ["", "fax", "API"],
    "market": ["", "swap"],
    "ip": ["010.0.0.1", "256.1.1.1", "1.2.3", "", " 1.2.3.4", "::ffff:1.2.3.4", "fe80::1%eth0",
           "a.b.c.d", "1.2.3.4.5"],
    "text": [" padded ", "tab\there", "ünï", "", "bell\x07", "  "],
    "direction": ["Deposit", "", "sideways"],
    "method": ["", "cheque", "BANK"],
}  # fmt: skip
KINDS = {
    "trades": ["id", "ts", "id", "num", "num", "id", "id", "side", "id", "id", "market"],
    "orders": ["id", "id", "id", "side", "type", "num", "num", "ts", "ts", "status", "num",
               "channel"],
    "logins": ["id", "ts", "ip", "id", "text", "channel"],
    "funding": ["id", "id", "ts", "direction", "method", "id", "id", "num"],
}  # fmt: skip
# One set of bounds for both paths: "now + 1 day" read twice can differ by a second.
LIMITS = Limits()
SPECS: dict[str, tuple[FileSpec, Any]] = {
    "trades": (TRADES, TRADE_TABLE),
    "orders": (ORDERS, ORDER_TABLE),
    "logins": (LOGINS, SimpleNamespace(schema=typed_schema(LOGINS))),
    "funding": (FUNDING, SimpleNamespace(schema=typed_schema(FUNDING))),
}


@hs.composite
def _row(draw: Any, kinds: list[str]) -> list[str]:
    """A valid row with up to two columns made odd."""
    row = [draw(hs.sampled_from(VALID[k])) for k in kinds]
    for _ in range(draw(hs.integers(0, 2))):
        i = draw(hs.integers(0, len(kinds) - 1))
        row[i] = draw(hs.sampled_from(ODD[kinds[i]]))
    return row


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def _rowwise(
    path: Path, spec: FileSpec, limits: Limits = LIMITS
) -> tuple[dict[int, dict[str, Any]], dict[int, tuple[str, str]]]:
    valid, rejected = {}, {}
    for batch in iter_batches(path, 1000):
        validator = Validator(spec, batch.header, limits)
        for record in batch.records:
            row = validator(record)
            if isinstance(row, Rejection):
                rejected[row.line] = (row.column, row.reason)
            else:
                valid[record.line] = row
    return valid, rejected


def _columnar(
    path: Path, spec: FileSpec, table: Any, limits: Limits = LIMITS
) -> tuple[dict[int, dict[str, Any]], dict[int, tuple[str, str]]]:
    valid, rejected = {}, {}
    for block in csv_blocks(path, 1000):
        records = block.records
        if block.table is not None:
            checked = check(spec, table.schema, block.table, block.first_line, limits)
            for row in checked.valid.to_pylist():
                valid[row.pop("_line")] = row
            records = records_of(block.table, block.header, checked.doubtful, block.first_line)
        validator = Validator(spec, block.header, limits)
        for record in records:
            row = validator(record)
            if isinstance(row, Rejection):
                rejected[row.line] = (row.column, row.reason)
            else:
                valid[record.line] = row
    return valid, rejected


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=hs.sampled_from(["trades", "orders", "logins", "funding"]),
    data=hs.data(),
    blank_after=hs.integers(0, 120),  # mostly past the end: no blank line
    gz=hs.booleans(),
)
def test_columnar_and_rowwise_validation_agree(
    tmp_path_factory: Any, name: str, data: Any, blank_after: int, gz: bool
) -> None:
    spec, table = SPECS[name]
    rows = data.draw(hs.lists(_row(KINDS[name]), min_size=1, max_size=30))
    folder = Path(str(tmp_path_factory.mktemp("col")))
    path = folder / (f"{name}.csv.gz" if gz else f"{name}.csv")
    text_path = folder / "plain.csv"
    with text_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in spec.columns])
        for i, row in enumerate(rows):
            writer.writerow(row)
            if i == blank_after:
                handle.write("\n")  # a blank line is no record but counts as a line
    if gz:
        path.write_bytes(gzip.compress(text_path.read_bytes()))
    else:
        text_path.rename(path)
    expected_valid, expected_rejected = _rowwise(path, spec)
    got_valid, got_rejected = _columnar(path, spec, table)
    if blank_after >= len(rows):
        assert all(b.table is not None for b in csv_blocks(path, 1000))  # the column-wise path
    assert got_rejected == expected_rejected
    assert got_valid.keys() == expected_valid.keys()
    for line, row in expected_valid.items():
        for key, value in row.items():
            assert _same(got_valid[line][key], value), (line, key, got_valid[line][key], value)


def test_an_undecodable_line_is_rejected_alone_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    good = "T{n},1790000000000,BTC,1,1,A,B,buy,,,spot\n"
    body = "".join(good.format(n=n) for n in range(10)).encode()
    bad = b"T\xe9x,1790000000000,BTC,1,1,A,B,buy,,,spot\n"
    header = ",".join(c.name for c in TRADES.columns).encode() + b"\n"
    path.write_bytes(header + body + bad + body.replace(b"T", b"U", 10))
    valid, rejected = _columnar(path, TRADES, TRADE_TABLE)
    assert list(rejected) == [12]
    assert len(valid) == 20 and min(valid) == 2 and max(valid) == 22


def test_a_quoted_line_break_sends_the_rest_of_the_file_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    rows = [
        [f"T{n}", "1790000000000", "BTC", "1", "1", "A", "B", "buy", "", "", "spot"]
        for n in range(6)
    ]
    rows[3][0] = "T3\nsecond line"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in TRADES.columns])
        writer.writerows(rows)
    assert _columnar(path, TRADES, TRADE_TABLE) == _rowwise(path, TRADES)
    valid, rejected = _columnar(path, TRADES, TRADE_TABLE)
    # The quoted break makes row 4 two lines long (lines 5-6); an id holding a line break is
    # refused, and the rows after it keep their physical line numbers.
    assert sorted(valid) == [2, 3, 4, 7, 8]
    assert list(rejected) == [5] and "control character" in rejected[5][1]


def test_a_gzip_damaged_before_its_first_line_ends_goes_to_the_row_wise_reader(
    tmp_path: Path,
) -> None:
    text = "trade_id,ts\n" + "".join(f"T{i},{1_700_000_000_000 + i}\n" for i in range(5))
    raw = gzip.compress(text.encode())
    path = tmp_path / "trades.csv.gz"
    path.write_bytes(raw[:20] + b"\x00" + raw[20:])  # a tiny file: one deflate block, broken
    # The row-wise reader says the file is unreadable (the ingest notes it and goes on);
    # reading the header column-wise had raised zlib's own error out of the ingest.
    with pytest.raises(InputError, match="unreadable"):
        list(csv_blocks(path))


@settings(max_examples=300, deadline=None)
@given(
    lines=hs.lists(hs.integers(min_value=0, max_value=40), max_size=30),
    last=hs.integers(min_value=0, max_value=40),
    limit=hs.integers(min_value=1, max_value=45),
)
def test_lines_fit_agrees_with_the_longest_line(lines: list[int], last: int, limit: int) -> None:
    """The block check's jump-and-look-back test says what measuring every line says."""
    from ingest.columnar import _lines_fit
    from ingest.reader import longest_line

    data = b"".join(b"x" * n + b"\n" for n in lines) + b"y" * last
    assert _lines_fit(data, limit) == (longest_line(data) <= limit)
