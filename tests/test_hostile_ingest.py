"""Hostile input: whatever the bytes, every row is ingested or quarantined with its line and a
reason, and one bad row or file never stops the rest of the ingest."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from events.location import events_for
from graph.falkor_embedded import FalkorEmbedded
from ingest.contract import Limits
from ingest.pipeline import IngestSummary, ingest_directory
from linkscope.settings import Settings
from tests.helpers import ACCOUNTS_HEADER, TRADES_HEADER, small_dataset, write_csv


def _quarantine(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _file(summary: IngestSummary, name: str) -> Any:
    return next(f for f in summary.files if f.name == name)


def _count(store: FalkorEmbedded, label: str) -> int:
    if label == "Trade":  # fills live in the event store
        return events_for(store).count("trades")
    return int(store.read(f"MATCH (n:{label}) RETURN count(n)").scalar())


def _stored_trade(store: FalkorEmbedded, trade_id: str, column: str) -> object:
    return events_for(store).lookup("trades", [trade_id]).column(column)[0].as_py()


def _insert_line(path: Path, line: bytes, at: int = 2) -> None:
    """Insert raw bytes as physical line ``at + 1`` (the header is line 1)."""
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(at, line + b"\r\n")
    path.write_bytes(b"".join(lines))


def _ingest(data: Path, store: FalkorEmbedded, tmp_path: Path, **kw: Any) -> IngestSummary:
    return ingest_directory(data, store, quarantine_path=tmp_path / "q.csv", **kw)


def _one_quarantined(tmp_path: Path) -> dict[str, str]:
    rows = _quarantine(tmp_path / "q.csv")
    assert len(rows) == 1, rows
    return rows[0]


# (a) -------------------------------------------------------------------------------------


def test_nul_in_account_id_is_quarantined_and_the_run_completes(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    _insert_line(data / "accounts.csv", b"B\x00X,2026-01-01T00:00:00Z,1,DE,retail,false,active")
    summary = _ingest(data, store, tmp_path)
    bad = _one_quarantined(tmp_path)
    assert (bad["file"], bad["line"], bad["column"]) == ("accounts.csv", "3", "account_id")
    assert "control character U+0000" in bad["reason"]
    assert _file(summary, "accounts").ingested == 3
    assert _count(store, "Account") == 3
    status = store.read("MATCH (r:IngestRun) RETURN r.status").scalar()
    assert status == "completed"


CONTROL_CHARACTERS = [
    "\x00",
    "\x01",
    "\t",
    "\n",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS)
@pytest.mark.parametrize(
    ("name", "row", "column"),
    [
        (
            "accounts",
            ["B{c}1", "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", ""],
            "account_id",
        ),
        (
            "trades",
            ["T{c}9", "2026-02-05T00:00:00Z", "BTC_USDT", 1, 1, "A1", "A2", "", ""],
            "trade_id",
        ),
        ("trades", ["T9", "2026-02-05T00:00:00Z", "BT{c}C", 1, 1, "A1", "A2", "", ""], "symbol"),
    ],
)
def test_control_characters_in_ids_are_quarantined(
    tmp_path: Path, store: FalkorEmbedded, char: str, name: str, row: list[Any], column: str
) -> None:
    data = small_dataset(tmp_path / "in")
    header = ACCOUNTS_HEADER if name == "accounts" else TRADES_HEADER
    text = (data / f"{name}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))[1:]
    rows.append([str(v).replace("{c}", char) for v in row])
    write_csv(data / f"{name}.csv", header, rows)
    summary = _ingest(data, store, tmp_path)
    bad = _one_quarantined(tmp_path)
    assert bad["column"] == column
    assert f"U+{ord(char):04X}" in bad["reason"]
    assert bad["line"] == "5" if name == "accounts" else "6"
    assert _file(summary, name).quarantined == 1
    assert _count(store, "Account") == 3 and _count(store, "Trade") == 4


# (b) -------------------------------------------------------------------------------------


def test_huge_price_and_qty_are_quarantined_and_totals_and_orders_still_load(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    _insert_line(data / "trades.csv", b"T9,2026-02-05T00:04:00Z,BTC_USDT,1e308,1e308,A1,A2,buy,")
    summary = _ingest(data, store, tmp_path)
    bad = _one_quarantined(tmp_path)
    assert (bad["file"], bad["line"], bad["column"]) == ("trades.csv", "3", "price")
    assert "maximum" in bad["reason"]
    assert _file(summary, "trades").ingested == 4
    assert _file(summary, "orders").ingested == 3
    assert _count(store, "Trade") == 4
    total = store.read("MATCH ()-[e:TRADES_WITH]->() RETURN sum(e.trades)").scalar()
    assert total == 2  # the one pair with repeated fills (LINKSCOPE_PAIR_MIN_TRADES)


@pytest.mark.parametrize(
    ("price", "qty", "column", "reason"),
    [
        ("1e400", "1", "price", "not finite"),
        ("nan", "1", "price", "not finite"),
        ("1", "-inf", "qty", "not finite"),
        ("2e15", "1", "price", "larger than the maximum 1e+15"),
        ("1", "2e15", "qty", "larger than the maximum 1e+15"),
        ("1e10", "1e10", "price", "price * qty = 1e+20 is larger than the maximum notional"),
    ],
)
def test_non_finite_and_too_large_numbers_are_quarantined(
    tmp_path: Path, store: FalkorEmbedded, price: str, qty: str, column: str, reason: str
) -> None:
    data = small_dataset(tmp_path / "in")
    _insert_line(data / "trades.csv", f"T9,2026-02-05T00:04:00Z,X,{price},{qty},A1,A2,,".encode())
    _ingest(data, store, tmp_path)
    bad = _one_quarantined(tmp_path)
    assert bad["column"] == column and reason in bad["reason"], bad


def test_huge_order_and_funding_amounts_are_quarantined(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    _insert_line(
        data / "orders.csv",
        b"O9,A1,BTC_USDT,buy,limit,1e308,1e308,2026-02-05T00:00:00Z,,open,0,web",
    )
    _insert_line(data / "funding.csv", b"F9,A1,2026-02-01T00:00:00Z,deposit,bank,b,USDT,1e300")
    summary = _ingest(data, store, tmp_path)
    rows = _quarantine(tmp_path / "q.csv")
    assert sorted((r["file"], r["column"]) for r in rows) == [
        ("funding.csv", "amount"),
        ("orders.csv", "price"),
    ]
    assert _file(summary, "orders").ingested == 3


def test_maximum_numbers_come_from_settings(tmp_path: Path, store: FalkorEmbedded) -> None:
    settings = Settings(ingest_max_number=50, ingest_max_notional=1e30)
    data = small_dataset(tmp_path / "in")
    summary = _ingest(data, store, tmp_path, limits=Limits.from_settings(settings))
    # Prices 100, 101, 102 are over 50; the ETH trade at 10 loads; funding 100.5 too.
    assert _file(summary, "trades").quarantined == 3
    assert _file(summary, "funding").quarantined == 1


# (c) -------------------------------------------------------------------------------------


def _many_trades(directory: Path, n: int) -> Path:
    small_dataset(directory)
    rows = [
        [f"T{i}", "2026-02-05T00:00:00Z", "BTC_USDT", "100", "1", "A1", "A2", "buy", "spot"]
        for i in range(n)
    ]
    write_csv(directory / "trades.csv", TRADES_HEADER, rows)
    return directory


def test_one_latin1_byte_quarantines_only_its_row(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = _many_trades(tmp_path / "in", 1000)
    path = data / "trades.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[500] = lines[500].replace(b"BTC_USDT", b"BTC_\xe9USDT")  # data row 500, line 501
    path.write_bytes(b"".join(lines))
    summary = _ingest(data, store, tmp_path)
    trades = _file(summary, "trades")
    assert (trades.read, trades.ingested, trades.quarantined) == (1000, 999, 1)
    bad = _one_quarantined(tmp_path)
    assert (bad["line"], bad["column"]) == ("501", "")
    assert "byte 0xe9" in bad["reason"] and "not UTF-8" in bad["reason"]
    assert _count(store, "Trade") == 999


def test_bad_bytes_in_a_quoted_multiline_field_keep_later_line_numbers(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    path = data / "logins.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2:2] = [
        b'A1,2026-02-01T00:00:00Z,10.0.0.7,d7,"two\n',  # lines 3-4: one record
        b'line \xff agent",web\n',
        b"A1,2026-02-01T00:00:00Z,999.1.1.1,d7,ua,web\n",  # line 5
    ]
    path.write_bytes(b"".join(lines))
    summary = _ingest(data, store, tmp_path)
    rows = _quarantine(tmp_path / "q.csv")
    assert [(r["line"], r["column"]) for r in rows] == [("3", ""), ("5", "ip")]
    assert "line 4: byte 0xff" in rows[0]["reason"]
    logins = _file(summary, "logins")
    assert (logins.read, logins.quarantined) == (5, 2)


# (d) -------------------------------------------------------------------------------------


def test_utf16_file_is_not_loaded_and_the_rest_is(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    path = data / "logins.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    summary = _ingest(data, store, tmp_path)
    logins = _file(summary, "logins")
    assert logins.note.startswith("not loaded") and "UTF-16" in logins.note
    assert "logins.csv" in logins.note
    bad = _one_quarantined(tmp_path)
    assert (bad["file"], bad["line"]) == ("logins.csv", "1")
    assert _file(summary, "trades").ingested == 4


def test_random_bytes_file_never_raises(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    rng = __import__("random").Random(5)
    (data / "funding.csv").write_bytes(bytes(rng.randrange(256) for _ in range(20_000)))
    (data / "orders.csv").unlink()
    (data / "orders.csv.gz").write_bytes(bytes(rng.randrange(256) for _ in range(5_000)))
    summary = _ingest(data, store, tmp_path)
    for name in ("funding", "orders"):
        f = _file(summary, name)
        assert f.note.startswith("not loaded") or f.ingested + f.quarantined + f.duplicate == f.read
    assert _file(summary, "trades").ingested == 4


def test_truncated_gzip_keeps_the_rows_before_the_damage(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = _many_trades(tmp_path / "in", 3000)
    raw = gzip.compress((data / "trades.csv").read_bytes())
    (data / "trades.csv").unlink()
    (data / "trades.csv.gz").write_bytes(raw[: len(raw) // 2])
    summary = _ingest(data, store, tmp_path)
    trades = _file(summary, "trades")
    assert 0 < trades.ingested < 3000
    assert trades.ingested + trades.quarantined == trades.read
    last = _quarantine(tmp_path / "q.csv")[-1]
    assert "unreadable from this line on" in last["reason"]


# Other reasons -----------------------------------------------------------------------------


def test_duplicate_header_names_skip_only_that_file(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    path = data / "funding.csv"
    lines = path.read_text().splitlines()
    lines[0] += ",amount"
    path.write_text("\n".join(line + ",1" if i else line for i, line in enumerate(lines)) + "\n")
    summary = _ingest(data, store, tmp_path)
    funding = _file(summary, "funding")
    assert "funding.csv" in funding.note and "duplicate column name(s) in header: amount" in (
        funding.note
    )
    assert funding.ingested == 0
    assert _count(store, "FundingSource") == 0
    bad = _one_quarantined(tmp_path)
    assert (bad["file"], bad["line"]) == ("funding.csv", "1")
    assert _file(summary, "trades").ingested == 4 and _file(summary, "orders").ingested == 3


def test_two_files_for_one_stem_skip_only_that_file(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    (data / "logins.csv.gz").write_bytes(gzip.compress((data / "logins.csv").read_bytes()))
    summary = _ingest(data, store, tmp_path)
    assert "more than one file" in _file(summary, "logins").note
    assert _file(summary, "trades").ingested == 4


def test_conflicting_duplicates_within_a_file(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    _insert_line(data / "trades.csv", b"T1,2026-02-05T00:00:00Z,BTC_USDT,999,1,A1,A2,buy,spot")
    _insert_line(data / "trades.csv", b"T2,2026-02-05T00:01:00Z,BTC_USDT,101,2,A1,A2,sell,", 4)
    _insert_line(data / "accounts.csv", b"A1,2026-01-01T00:00:00Z,3,DE,retail,false,active", 4)
    _insert_line(data / "funding.csv", b"F1,A1,2026-02-01T00:00:00Z,deposit,bank,bank-9,USDT,7", 4)
    _insert_line(
        data / "orders.csv",
        b"O1,A1,BTC_USDT,buy,limit,100,6,2026-02-05T00:00:00Z,2026-02-05T00:00:00.500Z,"
        b"cancelled,0,api",
        4,
    )
    summary = _ingest(data, store, tmp_path)
    rows = _quarantine(tmp_path / "q.csv")
    got = sorted((r["file"], r["line"], r["column"]) for r in rows)
    assert got == [
        ("accounts.csv", "5", "account_id"),
        ("funding.csv", "5", "event_id"),
        ("orders.csv", "5", "order_id"),
        ("trades.csv", "3", "trade_id"),
    ]
    assert all("conflicting duplicate" in r["reason"] for r in rows)
    assert "is on line 2" in next(r for r in rows if r["file"] == "accounts.csv")["reason"]
    trades = _file(summary, "trades")
    # T1 at line 3 conflicts with line 2; the identical T2 copy (line 5) is a plain duplicate.
    assert (trades.read, trades.ingested, trades.quarantined, trades.duplicate) == (6, 4, 1, 1)
    assert store.read("MATCH (a:Account {account_id: 'A1'}) RETURN a.kyc_level").scalar() == 2
    assert _stored_trade(store, "T1", "price") == 100


def test_conflicting_duplicates_against_the_store(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    _ingest(data, store, tmp_path)
    lines = (data / "trades.csv").read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b",1,A1,", b",1.5,A1,")  # T1 with another qty
    (data / "trades.csv").write_bytes(b"".join(lines))
    lines = (data / "accounts.csv").read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b",active", b",frozen")
    (data / "accounts.csv").write_bytes(b"".join(lines))
    summary = _ingest(data, store, tmp_path)
    rows = _quarantine(tmp_path / "q.csv")
    assert sorted((r["file"], r["line"], r["column"]) for r in rows) == [
        ("accounts.csv", "2", "account_id"),
        ("trades.csv", "2", "trade_id"),
    ]
    assert all("stored with other values" in r["reason"] for r in rows)
    trades = _file(summary, "trades")
    assert (trades.ingested, trades.quarantined, trades.duplicate) == (0, 1, 3)
    assert _file(summary, "accounts").duplicate == 2
    assert _stored_trade(store, "T1", "qty") == 1
    status = store.read("MATCH (a:Account {account_id: 'A1'}) RETURN a.status").scalar()
    assert status == "active"


@pytest.mark.parametrize(
    ("ts", "fragment"),
    [
        ("2008-12-31T23:59:59Z", "outside the plausible range 2009-01-01T00:00:00Z"),
        ("2999-01-01T00:00:00Z", "2999-01-01T00:00:00Z outside the plausible range"),
        ("0", "1970-01-01T00:00:00Z outside"),
        ("-86400000", "outside"),
        ("99999999999999999", "out of range (years 1..9999)"),  # past what ISO text can say
        ("9999999999999999999999", "out of range"),
        ("0001-01-01T00:00:00+01:00", "outside"),
    ],
)
def test_implausible_timestamps_are_quarantined(
    tmp_path: Path, store: FalkorEmbedded, ts: str, fragment: str
) -> None:
    data = small_dataset(tmp_path / "in")
    _insert_line(data / "trades.csv", f"T9,{ts},BTC_USDT,1,1,A1,A2,,".encode())
    _ingest(data, store, tmp_path)
    bad = _one_quarantined(tmp_path)
    assert bad["column"] == "ts" and fragment in bad["reason"], bad


def test_timestamp_range_comes_from_settings(
    tmp_path: Path, store: FalkorEmbedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKSCOPE_INGEST_EARLIEST_TS", "2026-02-05T00:01:30Z")
    limits = Limits.from_settings(Settings())
    assert limits.earliest_ms == int(datetime(2026, 2, 5, 0, 1, 30, tzinfo=UTC).timestamp() * 1000)
    data = small_dataset(tmp_path / "in")
    (data / "accounts.csv").write_text(
        (data / "accounts.csv").read_text().replace("2026-01-0", "2026-03-0")
    )
    (data / "accounts.csv").write_text(
        (data / "accounts.csv").read_text().replace("1767225600000", "1772323200000")
    )
    summary = _ingest(data, store, tmp_path, limits=limits)
    # T1 (00:00) and T2 (00:01) are before the configured start; logins and funding too.
    assert _file(summary, "trades").quarantined == 2
    assert _file(summary, "accounts").ingested == 3


def test_over_long_line_in_a_gzip_is_quarantined_in_bounded_memory(tmp_path: Path) -> None:
    """A 1 GB line (1 MB compressed) is skipped without holding it; the next row still loads."""
    path = tmp_path / "trades.csv.gz"
    chunk = b"x" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write((",".join(TRADES_HEADER) + "\n").encode())
        out.write(b"T0,")
        for _ in range(1024):
            out.write(chunk)
        out.write(b"\nT1,2026-02-05T00:00:00Z,BTC_USDT,1,1,A1,A2,,\n")
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ingest.reader import iter_batches\n"
        # What reading adds to the process with its libraries loaded (numpy, pyarrow): the
        # peak is reset after the imports (clear_refs 5), then read as VmHWM.
        "def kb(field):\n"
        "    status = Path('/proc/self/status').read_text()\n"
        "    return int(status.split(field + ':')[1].split()[0]) * 1024\n"
        "Path('/proc/self/clear_refs').write_text('5')\n"
        "base = kb('VmRSS')\n"
        "records = [r for b in iter_batches(Path(sys.argv[1]), 1000) for r in b.records]\n"
        "print(json.dumps({'peak': kb('VmHWM') - base, 'records': [[r.line, r.error, "
        "len(r.fields)] for r in records]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["peak"] < 64 * (1 << 20), result["peak"]  # the line alone is 1 GiB
    first, second = result["records"]
    assert first[0] == 2 and "longer than 1,048,576 bytes" in first[1]
    assert second == [3, None, 9]


def _write_parquet(path: Path, columns: dict[str, pa.Array]) -> None:
    pq.write_table(pa.table(columns), path)


def test_parquet_wrong_types_nulls_nested_and_nan(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    (data / "trades.csv").unlink()
    ts = datetime(2026, 2, 5, tzinfo=UTC)
    naive = datetime(2026, 2, 5)
    n = 8
    _write_parquet(
        data / "trades.parquet",
        {
            "trade_id": pa.array([f"T{i}" for i in range(n)]),
            "ts": pa.array([ts] * n, pa.timestamp("ms", tz="UTC")),
            "symbol": pa.array(["BTC_USDT"] * n),
            "price": pa.array([1.0, float("nan"), 1.0, 1.0, None, 1.0, 1.0, 1.0]),
            "qty": pa.array(["1", "1", "abc", "1", "1", "1", "1", "1"]),
            "buyer_id": pa.array(["A1", "A1", "A1", "A1", "A1", None, "A1", "A1"]),
            "seller_id": pa.array(["A2"] * n),
            "buy_order_id": pa.array([None, None, None, ["x"], None, None, None, None]),
            "sell_order_id": pa.array([None] * 6 + [b"\x00\x01", None], pa.binary()),
        },
    )
    orders = data / "orders.csv"
    orders.unlink()
    _write_parquet(
        data / "orders.parquet",
        {
            "order_id": pa.array([1.5, 2.0]),
            "account_id": pa.array(["A1", "A1"]),
            "symbol": pa.array(["X", "X"]),
            "side": pa.array(["buy", "buy"]),
            "type": pa.array(["market", "market"]),
            "qty": pa.array([1.0, 1.0]),
            "placed_at": pa.array([naive, naive]),
            "final_status": pa.array(["open", "open"]),
        },
    )
    summary = _ingest(data, store, tmp_path)
    rows = {
        (r["file"], r["line"]): (r["column"], r["reason"]) for r in _quarantine(tmp_path / "q.csv")
    }
    assert rows[("trades.parquet", "3")] == ("price", rows[("trades.parquet", "3")][1])
    assert "not finite" in rows[("trades.parquet", "3")][1]
    assert rows[("trades.parquet", "4")][0] == "qty"
    assert rows[("trades.parquet", "5")][0] == "buy_order_id"
    assert "list value" in rows[("trades.parquet", "5")][1]
    assert rows[("trades.parquet", "6")] == ("price", "required value is empty")
    assert rows[("trades.parquet", "7")] == ("buyer_id", "required value is empty")
    assert rows[("trades.parquet", "8")][0] == "sell_order_id"
    assert "bytes value" in rows[("trades.parquet", "8")][1]
    assert rows[("orders.parquet", "2")][0] == "order_id"
    assert "float" in rows[("orders.parquet", "2")][1]
    trades = _file(summary, "trades")
    assert (trades.read, trades.ingested, trades.quarantined) == (8, 2, 6)
    assert _file(summary, "orders").quarantined == 2


def test_parquet_timestamp_beyond_python_datetimes(tmp_path: Path, store: FalkorEmbedded) -> None:
    data = small_dataset(tmp_path / "in")
    (data / "trades.csv").unlink()
    _write_parquet(
        data / "trades.parquet",
        {
            "trade_id": pa.array(["T1", "T2"]),
            "ts": pa.array([1770249600000, 10**17], pa.timestamp("ms", tz="UTC")),
            "symbol": pa.array(["BTC_USDT"] * 2),
            "price": pa.array([1.0, 1.0]),
            "qty": pa.array([1.0, 1.0]),
            "buyer_id": pa.array(["A1", "A1"]),
            "seller_id": pa.array(["A2", "A2"]),
        },
    )
    summary = _ingest(data, store, tmp_path)
    bad = _one_quarantined(tmp_path)
    assert bad["line"] == "3" and "not representable" in bad["reason"]
    assert _file(summary, "trades").ingested == 1


@pytest.mark.parametrize(
    "changed",
    [
        "T1,2026-02-05T00:00:00Z,BTC_USDT,100,1,A2,A1,buy,spot",  # buyer and seller swapped
        "T1,2026-02-05T00:00:00Z,BTC_USDT,100,1,A1,A2,,spot",  # taker_side now empty
        "T1,2026-02-05T00:00:00Z,BTC_USDT,100,1,A1,A2,buy,futures",
        "T1,2026-02-05T00:00:00.001Z,BTC_USDT,100,1,A1,A2,buy,spot",
        "T1,2026-02-05T00:00:00Z,BTC_USDT,100.0000001,1,A1,A2,buy,spot",
        "T4,2026-02-05T00:03:00Z,ETH_USDT,10,1,A3,A3,sell,",  # taker_side was empty
    ],
)
def test_any_changed_trade_value_is_a_conflict_with_the_store(
    tmp_path: Path, store: FalkorEmbedded, changed: str
) -> None:
    data = small_dataset(tmp_path / "in")
    _ingest(data, store, tmp_path)
    before = _count(store, "Trade")
    (data / "trades.csv").write_text(",".join(TRADES_HEADER) + "\n" + changed + "\n")
    summary = _ingest(data, store, tmp_path)
    bad = _one_quarantined(tmp_path)
    assert (bad["line"], bad["column"]) == ("2", "trade_id")
    assert _file(summary, "trades").duplicate == 0
    assert _count(store, "Trade") == before


def test_unchanged_trades_in_another_format_are_duplicates(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    _ingest(data, store, tmp_path)
    path = data / "trades.csv"
    path.write_text(
        path.read_text()
        .replace(",100,", ",100.000,")
        .replace("2026-02-05T00:00:00Z", "1770249600000")
    )
    summary = _ingest(data, store, tmp_path)
    trades = _file(summary, "trades")
    assert (trades.ingested, trades.duplicate, trades.quarantined) == (0, 4, 0)


def test_parquet_duplicate_column_names_skip_only_that_file(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    (data / "logins.csv").unlink()
    table = pa.Table.from_arrays(
        [pa.array(["A1"]), pa.array(["2026-02-01T00:00:00Z"]), pa.array(["10.0.0.1"])] * 2,
        names=["account_id", "ts", "ip", "account_id", "ts", "x"],
    )
    pq.write_table(table, data / "logins.parquet")
    summary = _ingest(data, store, tmp_path)
    note = _file(summary, "logins").note
    assert "logins.parquet: duplicate column name(s) in header: account_id, ts" in note
    assert _file(summary, "trades").ingested == 4


def test_a_smaller_configured_line_limit_quarantines_long_rows(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    long_agent = "x" * 900
    _insert_line(
        data / "logins.csv", f"A1,2026-02-01T00:00:00Z,10.0.0.9,d,{long_agent},web".encode()
    )
    _insert_line(
        data / "logins.csv", f"A1,2026-02-01T00:00:00Z,10.0.0.9,d,{'y' * 400},web".encode()
    )
    summary = _ingest(data, store, tmp_path, max_record_bytes=1024 // 2)
    bad = _one_quarantined(tmp_path)
    assert bad["line"] == "4" and "line 4 is longer than 512 bytes" in bad["reason"]
    logins = _file(summary, "logins")
    assert (logins.read, logins.quarantined, logins.ingested) == (5, 1, 4)


def test_a_large_file_with_cr_line_ends_reads_every_row(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    """Old Mac exports end lines with a lone CR; blocks must not take them for one long line."""
    data = _many_trades(tmp_path / "in", 40_000)  # ~2.6 MB: more than two read blocks
    path = data / "trades.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    summary = _ingest(data, store, tmp_path, batch_size=40_000)
    trades = _file(summary, "trades")
    assert (trades.read, trades.ingested, trades.quarantined) == (40_000, 40_000, 0)


def _damaged_parquet(csv_path: Path, copies: int) -> None:
    """The CSV's rows repeated (keys made unique) as Parquet of several row groups, with bytes
    of the last row group's first data page overwritten."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    many = [[f"{r[0]}x{k}", *r[1:]] for k in range(copies) for r in rows]
    path = csv_path.with_suffix(".parquet")
    table = pa.table({h: pa.array([r[i] for r in many]) for i, h in enumerate(header)})
    pq.write_table(table, path, row_group_size=max(len(many) // 3, 1), compression="none")
    last = pq.ParquetFile(path).metadata.row_group(2).column(0)
    raw = bytearray(path.read_bytes())
    raw[last.data_page_offset : last.data_page_offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(raw))
    csv_path.unlink()


@pytest.mark.parametrize("name", ["funding", "trades"])
def test_a_damaged_parquet_file_is_reported_and_the_others_load(
    tmp_path: Path, store: FalkorEmbedded, name: str
) -> None:
    data = small_dataset(tmp_path / "in")
    _damaged_parquet(data / f"{name}.csv", copies=30)
    summary = _ingest(data, store, tmp_path)
    damaged = _file(summary, name)
    assert damaged.ingested + damaged.quarantined + damaged.duplicate == damaged.read
    last = _quarantine(tmp_path / "q.csv")[-1]
    assert last["file"] == f"{name}.parquet" and "unreadable from this row on" in last["reason"]
    other = "trades" if name == "funding" else "funding"
    assert _file(summary, other).ingested > 0 and _file(summary, "orders").ingested > 0
