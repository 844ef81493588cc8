"""Test helpers: write contract files, and snapshot a graph for equality checks."""

from __future__ import annotations

import contextlib
import csv
import shutil
from pathlib import Path
from typing import Any

from events.location import events_for
from graph.backend import GraphBackend
from graph.schema import NODE_KEYS
from ingest.contract import FileSpec

KEYS = {**NODE_KEYS, "IngestState": "key"}
VOLATILE = {"loaded_run", "updated_by"}


def header(spec: FileSpec) -> list[str]:
    """A contract file's columns, in the contract's order."""
    return [c.name for c in spec.columns]


def analysed_graph(store_path: Path, name: str, work: Path, accounts: int, seed: int) -> Any:
    """Generated data, ingested and analysed, in graph ``name`` of the session's store."""
    from analytics.config import AnalysisConfig
    from analytics.run import analyze
    from analytics.writeback import write_analysis
    from graph.falkor_embedded import FalkorEmbedded
    from ingest.pipeline import ingest_directory
    from synth.generator import GeneratorConfig, generate

    generate(work / "data", GeneratorConfig(accounts=accounts, seed=seed, order_flow="light"))
    store = FalkorEmbedded(store_path, name)
    ingest_directory(work / "data" / "input", store)
    cfg = AnalysisConfig()
    write_analysis(store, analyze(store, cfg), cfg)
    return store


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _freeze(props: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for k, v in sorted(props.items()):
        if k in VOLATILE:
            continue
        if isinstance(v, list):
            v = tuple(sorted(v, key=repr))
        elif isinstance(v, float):
            v = round(v, 6)
        out.append((k, v))
    return tuple(out)


def _key(labels: list[str], props: dict[str, Any]) -> tuple[str, Any]:
    label = labels[0]
    return (label, props.get(KEYS.get(label, "")))


def snapshot(store: GraphBackend) -> tuple[list[Any], list[Any]]:
    """Every node and relationship except ingest-run bookkeeping, as sorted comparable tuples."""
    nodes = [
        (_key(labels, props), _freeze(props))
        for labels, props in store.read(
            "MATCH (n) WHERE NOT n:IngestRun RETURN labels(n), properties(n)"
        ).rows
    ]
    rels = [
        (rtype, _key(la, pa), _key(lb, pb), _freeze(pr))
        for rtype, la, pa, lb, pb, pr in store.read(
            "MATCH (a)-[r]->(b) RETURN type(r), labels(a), properties(a), labels(b), properties(b), properties(r)"
        ).rows
    ]
    events = events_for(store)
    for table in ("trades", "orders"):
        key = "trade_id" if table == "trades" else "order_id"
        rows = events.read(table, order_by=key).to_pylist()
        nodes.extend((f"event:{table}", _freeze(row)) for row in rows)
    return sorted(nodes, key=repr), sorted(rels, key=repr)


ACCOUNTS_HEADER = [
    "account_id",
    "created_at",
    "kyc_level",
    "country",
    "account_type",
    "api_authorized",
    "status",
]
TRADES_HEADER = [
    "trade_id",
    "ts",
    "symbol",
    "price",
    "qty",
    "buyer_id",
    "seller_id",
    "taker_side",
    "market",
]


def small_dataset(directory: Path) -> Path:
    """A hand-made data set touching every file and relationship type."""
    write_csv(
        directory / "accounts.csv",
        ACCOUNTS_HEADER,
        [
            ["A1", "2026-01-01T00:00:00Z", 2, "DE", "retail", "false", "active"],
            ["A2", "1767225600000", 1, "fr", "", "no", ""],
            ["A3", "2026-01-02T10:00:00+02:00", "", "", "market_maker", "yes", "active"],
        ],
    )
    write_csv(
        directory / "logins.csv",
        ["account_id", "ts", "ip", "device_id", "user_agent", "channel"],
        [
            ["A1", "2026-02-01T00:00:00Z", "010.000.000.001", "d1", "ua", "web"],
            ["A2", "2026-02-01T00:05:00Z", "10.0.0.1", "d1", "ua", "app"],
            ["A2", "2026-02-02T00:05:00Z", "2001:DB8:0:0:0:0:0:1", "", "", ""],
        ],
    )
    write_csv(
        directory / "funding.csv",
        [
            "event_id",
            "account_id",
            "ts",
            "direction",
            "method",
            "counterparty_ref",
            "asset",
            "amount",
        ],
        [
            ["F1", "A1", "2026-02-01T00:00:00Z", "deposit", "bank", "bank-9", "USDT", "100.5"],
            ["F2", "A2", "2026-02-01T00:00:00Z", "deposit", "bank", "bank-9", "USDT", "50"],
            ["F3", "A1", "2026-02-03T00:00:00Z", "withdrawal", "internal", "A2", "USDT", "10"],
        ],
    )
    write_csv(
        directory / "trades.csv",
        TRADES_HEADER,
        [
            ["T1", "2026-02-05T00:00:00Z", "BTC_USDT", "100", "1", "A1", "A2", "buy", "spot"],
            ["T2", "2026-02-05T00:01:00Z", "BTC_USDT", "101", "2", "A1", "A2", "sell", ""],
            ["T3", "2026-02-05T00:02:00Z", "BTC_USDT", "102", "3", "A2", "A1", "", "futures"],
            ["T4", "2026-02-05T00:03:00Z", "ETH_USDT", "10", "1", "A3", "A3", "", ""],
        ],
    )
    write_csv(
        directory / "orders.csv",
        [
            "order_id",
            "account_id",
            "symbol",
            "side",
            "type",
            "price",
            "qty",
            "placed_at",
            "ended_at",
            "final_status",
            "filled_qty",
            "channel",
        ],
        [
            [
                "O1",
                "A1",
                "BTC_USDT",
                "buy",
                "limit",
                "100",
                "5",
                "2026-02-05T00:00:00Z",
                "2026-02-05T00:00:00.500Z",
                "cancelled",
                "0",
                "api",
            ],
            [
                "O2",
                "A1",
                "BTC_USDT",
                "sell",
                "market",
                "",
                "1",
                "2026-02-05T00:00:10Z",
                "2026-02-05T00:00:11Z",
                "filled",
                "1",
                "web",
            ],
            [
                "O3",
                "A1",
                "BTC_USDT",
                "buy",
                "limit",
                "99",
                "1",
                "2026-02-05T00:00:20Z",
                "",
                "open",
                "",
                "web",
            ],
        ],
    )
    write_csv(
        directory / "enforcement_history.csv",
        ["account_id", "ts", "action", "clause", "case_id"],
        [
            ["A1", "2025-06-01T00:00:00Z", "frozen", "self_matching", "C-1"],
        ],
    )
    return directory


def drop(store: Any) -> None:
    """Delete a test graph and the event store beside it (names are reused across examples)."""
    with contextlib.suppress(Exception):  # the graph may never have been created
        store._graph.delete()
    shutil.rmtree(store.events_dir, ignore_errors=True)


def rows_per_statement(monkeypatch: Any, statement: str) -> list[int]:
    """The row count of every run of ``statement`` on the real embedded store from now on (the
    list fills as the store is used; the statements still run)."""
    from graph.falkor_embedded import FalkorEmbedded

    sizes: list[int] = []
    original = FalkorEmbedded.run

    def counted(self: FalkorEmbedded, cypher: str, params: Any = None) -> Any:
        if cypher == statement:
            sizes.append(len(params["k"]))
        return original(self, cypher, params)

    monkeypatch.setattr(FalkorEmbedded, "run", counted)
    return sizes
