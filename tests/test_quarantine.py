"""Every contract rule: a bad row lands in the quarantine report with its line; good rows load."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from events.location import events_for
from graph import statements as st
from graph.falkor_embedded import FalkorEmbedded
from ingest import columnar
from ingest.pipeline import ingest_directory
from tests.helpers import rows_per_statement, small_dataset

# (file, header-relative row to append as CSV text, expected column, reason fragment)
BAD_ROWS = [
    ("accounts", ",2026-01-01T00:00:00Z,1,DE,retail,false,active", "account_id", "required"),
    ("accounts", "B1,not-a-date,1,DE,retail,false,active", "created_at", "ISO 8601"),
    ("accounts", "B1,2026-01-01T00:00:00,1,DE,retail,false,active", "created_at", "offset"),
    ("accounts", "B1,123456789012345678901234567890,1,DE,,,", "created_at", "out of range"),
    ("accounts", "B1,9223372036854775807,1,DE,,,", "created_at", "out of range"),
    ("logins", "A1,-9223372036854775809,10.0.0.9,d9,ua,web", "ts", "out of range"),
    ("accounts", "B1,2026-01-01T00:00:00Z,7,DE,retail,false,active", "kyc_level", "0..3"),
    ("accounts", "B1,2026-01-01T00:00:00Z,1,DEU,retail,false,active", "country", "alpha-2"),
    ("accounts", "B1,2026-01-01T00:00:00Z,1,DE,whale,false,active", "account_type", "one of"),
    ("accounts", "B1,2026-01-01T00:00:00Z,1,DE,retail,perhaps,active", "api_authorized", "boolean"),
    ("accounts", "B1,2026-01-01T00:00:00Z,1,DE,retail,false,deleted", "status", "one of"),
    ("accounts", "B1,2026-01-01T00:00:00Z,1", "", "expected 7 fields"),
    ("logins", "ZZ,2026-02-01T00:00:00Z,10.0.0.9,d9,ua,web", "account_id", "not in accounts"),
    ("logins", "A1,2026-02-01T00:00:00Z,10.0.0.300,d9,ua,web", "ip", "IPv4"),
    ("logins", "A1,2026-02-01T00:00:00Z,10.0.0.9,d9,ua,fax", "channel", "one of"),
    ("logins", "A1,,10.0.0.9,d9,ua,web", "ts", "required"),
    ("funding", "F9,A1,2026-02-01T00:00:00Z,deposit,bank,b,USDT,0", "amount", "> 0"),
    ("funding", "F9,A1,2026-02-01T00:00:00Z,deposit,bank,b,USDT,-5", "amount", "> 0"),
    ("funding", "F9,A1,2026-02-01T00:00:00Z,deposit,bank,b,USDT,NaN", "amount", "finite"),
    ("funding", "F9,A1,2026-02-01T00:00:00Z,sideways,bank,b,USDT,5", "direction", "one of"),
    ("funding", "F9,A1,2026-02-01T00:00:00Z,deposit,cheque,b,USDT,5", "method", "one of"),
    ("funding", "F9,A1,2026-02-01T00:00:00Z,deposit,bank,,USDT,5", "counterparty_ref", "required"),
    ("funding", "F9,A1,2026-02-01T00:00:00Z,deposit,bank,b,,5", "asset", "required"),
    (
        "funding",
        "F9,ZZ,2026-02-01T00:00:00Z,deposit,bank,b,USDT,5",
        "account_id",
        "not in accounts",
    ),
    ("trades", "T9,2026-02-05T00:00:00Z,BTC_USDT,0,1,A1,A2,buy,spot", "price", "> 0"),
    ("trades", "T9,2026-02-05T00:00:00Z,BTC_USDT,1,inf,A1,A2,buy,spot", "qty", "finite"),
    ("trades", "T9,2026-02-05T00:00:00Z,BTC_USDT,1,abc,A1,A2,buy,spot", "qty", "decimal"),
    (
        "trades",
        "T9,2026-02-05T00:00:00Z,BTC_USDT,1,1,ZZ,A2,buy,spot",
        "buyer_id",
        "not in accounts",
    ),
    (
        "trades",
        "T9,2026-02-05T00:00:00Z,BTC_USDT,1,1,A1,ZZ,buy,spot",
        "seller_id",
        "not in accounts",
    ),
    ("trades", "T9,2026-02-05T00:00:00Z,BTC_USDT,1,1,A1,A2,hold,spot", "taker_side", "one of"),
    ("trades", "T9,2026-02-05T00:00:00Z,BTC_USDT,1,1,A1,A2,buy,options", "market", "one of"),
    ("trades", "T9,2026-02-05T00:00:00Z,,1,1,A1,A2,buy,spot", "symbol", "required"),
    ("orders", "O9,A1,BTC_USDT,buy,limit,,1,2026-02-05T00:00:00Z,,open,0,web", "price", "limit"),
    ("orders", "O9,A1,BTC_USDT,buy,stop,1,1,2026-02-05T00:00:00Z,,open,0,web", "type", "one of"),
    (
        "orders",
        "O9,A1,BTC_USDT,buy,limit,1,1,2026-02-05T00:00:00Z,2026-02-04T00:00:00Z,cancelled,0,web",
        "ended_at",
        "earlier",
    ),
    (
        "orders",
        "O9,A1,BTC_USDT,buy,limit,1,1,2026-02-05T00:00:00Z,,filled,2,web",
        "filled_qty",
        "greater",
    ),
    (
        "orders",
        "O9,A1,BTC_USDT,buy,limit,1,1,2026-02-05T00:00:00Z,,done,0,web",
        "final_status",
        "one of",
    ),
    (
        "orders",
        "O9,A1,BTC_USDT,buy,limit,1,1,2026-02-05T00:00:00Z,,open,-1,web",
        "filled_qty",
        ">= 0",
    ),
    ("enforcement_history", "A1,2025-06-01T00:00:00Z,banished,x,C", "action", "one of"),
]


def _rows(store: FalkorEmbedded, label: str) -> int:
    if label == "Trade":  # fills live in the event store, not the graph
        return events_for(store).count("trades")
    return int(store.read(f"MATCH (n:{label}) RETURN count(n)").scalar())


@pytest.mark.parametrize(("name", "bad", "column", "reason"), BAD_ROWS)
def test_bad_row_is_quarantined_with_its_line_and_the_rest_loads(
    tmp_path: Path, store: FalkorEmbedded, name: str, bad: str, column: str, reason: str
) -> None:
    data = small_dataset(tmp_path / "in")
    path = data / f"{name}.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, bad)  # becomes physical line 3 of the file
    path.write_text("\n".join(lines) + "\n")
    report = tmp_path / "q.csv"

    summary = ingest_directory(data, store, quarantine_path=report)

    rows = list(csv.DictReader(report.open()))
    assert [(r["file"], r["line"], r["column"]) for r in rows] == [(f"{name}.csv", "3", column)]
    assert reason in rows[0]["reason"]
    assert rows[0]["raw_row"] == bad  # quoted as written, whichever path checked it
    file_summary = next(f for f in summary.files if f.name == name)
    assert file_summary.quarantined == 1
    assert file_summary.read == len(lines) - 1
    # The good rows of the same file and every other file still load.
    assert _rows(store, "Account") == 3
    assert _rows(store, "Trade") == 4
    assert _rows(store, "FundingSource") == 1


def test_line_numbers_count_physical_lines_with_quoted_newlines_and_bom(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    path = data / "logins.csv"
    text = path.read_text().splitlines()
    text.insert(1, 'A1,2026-02-01T00:00:00Z,10.0.0.7,d7,"multi\nline agent",web')  # lines 2-3
    text.insert(2, "A1,2026-02-01T00:00:00Z,999.1.1.1,d7,ua,web")  # line 4
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(text) + "\n").encode())
    report = tmp_path / "q.csv"
    ingest_directory(data, store, quarantine_path=report)
    rows = list(csv.DictReader(report.open()))
    assert [(r["line"], r["column"]) for r in rows] == [("4", "ip")]
    assert (
        _rows(store, "IP") == 3
    )  # 10.0.0.1 (written two ways), 2001:db8::1, 10.0.0.7; not the bad row
    assert (
        store.read(
            "MATCH (:Account {account_id:'A1'})-[:USED_IP]->(i:IP {ip:'10.0.0.7'}) RETURN count(i)"
        ).scalar()
        == 1
    )


def test_missing_required_column_skips_the_file_and_says_so(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    data = small_dataset(tmp_path / "in")
    path = data / "funding.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")  # drop "amount"
    report = tmp_path / "q.csv"
    summary = ingest_directory(data, store, quarantine_path=report)
    rows = list(csv.DictReader(report.open()))
    assert [(r["file"], r["line"], r["column"]) for r in rows] == [("funding.csv", "1", "amount")]
    assert "missing column" in next(f for f in summary.files if f.name == "funding").note
    assert _rows(store, "Trade") == 4


def test_nothing_usable_is_reported(tmp_path: Path, store: FalkorEmbedded) -> None:
    (tmp_path / "empty").mkdir()
    summary = ingest_directory(tmp_path / "empty", store)
    assert not summary.usable
    assert next(f for f in summary.files if f.name == "accounts").note == "missing (required)"


def test_funding_checked_column_wise_quotes_rows_as_read_and_finds_conflicts_across_blocks(
    tmp_path: Path, store: FalkorEmbedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Funding goes through the column-wise checks; its rows still meet the ledger in file
    order across blocks and batches, and a quarantined row is quoted as it was written."""
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 120)  # two or three lines per block
    data = small_dataset(tmp_path / "in")
    path = data / "funding.csv"
    extra = [
        "F9,ZZ,2026-02-01T00:00:00Z,deposit,bank,b,USDT,5.50",  # line 5: unknown account
        "F10,A1,2026-02-02T00:00:00Z,deposit,bank,b,USDT,7.0",  # line 6
        "F10,A1,2026-02-02T00:00:00Z,deposit,bank,b,USDT,7.0",  # line 7: a duplicate
        "F11,A2,2026-02-02T00:00:00Z,deposit,bank,b,USDT,1",  # line 8
        "F10,A1,2026-02-02T00:00:00Z,deposit,bank,b,USDT,8.25",  # line 9: a conflict
        "F12,A2,2026-02-02T00:00:00Z,deposit,bank,b,USDT,0",  # line 10: row-wise (amount)
        "F11,A2,2026-02-02T00:00:00Z,deposit,bank,b,USDT,1",  # line 11: a duplicate
    ]
    path.write_text("\n".join(path.read_text().splitlines() + extra) + "\n")
    report = tmp_path / "q.csv"
    summary = ingest_directory(data, store, quarantine_path=report, batch_size=2)
    rows = [(r["line"], r["column"], r["raw_row"]) for r in csv.DictReader(report.open())]
    assert rows == [
        ("5", "account_id", "F9,ZZ,2026-02-01T00:00:00Z,deposit,bank,b,USDT,5.50"),
        ("9", "event_id", "F10,A1,2026-02-02T00:00:00Z,deposit,bank,b,USDT,8.25"),
        ("10", "amount", "F12,A2,2026-02-02T00:00:00Z,deposit,bank,b,USDT,0"),
    ]
    reasons = [r["reason"] for r in csv.DictReader(report.open())]
    assert "is on line 6 with other values" in reasons[1]
    funding = next(f for f in summary.files if f.name == "funding")
    assert (funding.read, funding.ingested, funding.duplicate, funding.quarantined) == (10, 5, 2, 3)
    amounts = store.read(
        "MATCH (:Account)-[f:DEPOSIT_FROM]->() "
        "WHERE f.event_id IN ['F10', 'F11'] RETURN f.event_id, f.amount ORDER BY f.event_id"
    ).rows
    assert amounts == [["F10", 7.0], ["F11", 1.0]]


def test_a_row_checked_row_by_row_keeps_its_place_in_the_file_among_column_checked_rows(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    """A block's rows go to batches of 2; " 2" is an amount only the row-wise validator takes.
    The later of two rows with one key is the conflicting one, whichever path checked it."""
    data = small_dataset(tmp_path / "in")
    path = data / "funding.csv"
    extra = [f"F2{i},A2,2026-02-02T00:00:00Z,deposit,bank,b,USDT,1" for i in range(4)] + [
        "F40,A1,2026-02-02T00:00:00Z,deposit,bank,b,USDT,3",  # line 9
        "F25,A2,2026-02-02T00:00:00Z,deposit,bank,b,USDT,1",
        "F40,A1,2026-02-02T00:00:00Z,deposit,bank,b,USDT, 2",  # line 11: checked row-wise
    ]
    path.write_text("\n".join(path.read_text().splitlines() + extra) + "\n")
    report = tmp_path / "q.csv"
    ingest_directory(data, store, quarantine_path=report, batch_size=2)
    [row] = list(csv.DictReader(report.open()))
    assert (row["line"], row["column"]) == ("11", "event_id")
    assert "is on line 9 with other values" in row["reason"]
    amount = store.read("MATCH ()-[f:DEPOSIT_FROM {event_id: 'F40'}]->() RETURN f.amount")
    assert amount.scalar() == 3.0


def test_rows_sent_row_by_row_stay_in_batches_of_the_batch_size_and_are_reported_in_order(
    tmp_path: Path, store: FalkorEmbedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Deposit" is a direction only the row-wise validator takes (it lowercases): a block
    whose rows all go that way is still written in statements of at most ``batch_size`` rows
    (Neo4j's cap), and rows rejected by the block's checks and row by row are reported in line
    order."""
    data = small_dataset(tmp_path / "in")
    path = data / "funding.csv"
    extra = [
        f"F5{i},A{1 + i % 3},2026-02-02T00:00:00Z,Deposit,bank,b,USDT,{i + 1}" for i in range(7)
    ]
    extra[1] = "F51,A1,2026-02-02T00:00:00Z,deposit,bank,b,USDT,0"  # line 6: amount, row-wise
    extra[5] = "F55,ZZ,2026-02-02T00:00:00Z,deposit,bank,b,USDT,1"  # line 10: unknown account
    path.write_text("\n".join(path.read_text().splitlines() + extra) + "\n")
    sizes = rows_per_statement(monkeypatch, st.MERGE_DEPOSITS)
    report = tmp_path / "q.csv"
    summary = ingest_directory(data, store, quarantine_path=report, batch_size=3)
    rows = [(r["line"], r["column"]) for r in csv.DictReader(report.open())]
    assert rows == [("6", "amount"), ("10", "account_id")]
    funding = next(f for f in summary.files if f.name == "funding")
    assert (funding.read, funding.ingested, funding.quarantined) == (10, 8, 2)
    assert sizes and max(sizes) <= 3
