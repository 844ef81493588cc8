"""The Neo4j backend sends exactly the Cypher the embedded store runs, in the right access mode.

No Neo4j server runs here, so a recording driver stands in for the network; the statements it
records are compared with what the real embedded FalkorDB executed for the same ingest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import neo4j

from events.store import EventStore
from graph.backend import PreparedQuery
from graph.dialect import Dialect, NodeIndex, index_statement
from graph.falkor_embedded import FalkorEmbedded
from graph.neo4j_backend import Neo4jBackend
from graph.schema import INDEXES
from ingest.pipeline import ingest_directory
from tests.helpers import drop, small_dataset


class _Result:
    def __init__(self, keys: list[str], rows: list[list[Any]]) -> None:
        self._keys, self._rows = keys, rows

    def keys(self) -> list[str]:
        return self._keys

    def __iter__(self) -> Any:
        return iter([_Record(r) for r in self._rows])

    def consume(self) -> Any:
        """The driver's summary: its counters say what a write created (nothing here)."""
        return SimpleNamespace(counters=SimpleNamespace(nodes_created=0, relationships_created=0))


class _Record:
    def __init__(self, row: list[Any]) -> None:
        self._row = row

    def values(self) -> list[Any]:
        return self._row


class RecordingDriver:
    """Answers like a store that just accepted each write; records (mode, query, params, timeout)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any], float | None]] = []
        self.mode = ""

    def session(self, database: str, default_access_mode: str) -> RecordingDriver:
        assert database == "neo4j"
        self.mode = default_access_mode
        return self

    def __enter__(self) -> RecordingDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute_write(self, work: Any) -> Any:
        return work(self)

    execute_read = execute_write

    def run(self, query: neo4j.Query, params: Mapping[str, Any]) -> _Result:
        self.sent.append((self.mode, query.text, dict(params), query.timeout))
        if (
            "RETURN a.account_id AS account_id, id(a) AS node_id" in query.text
            and "account_id" in params
        ):
            return _Result(
                ["account_id", "node_id"], [[a, n] for n, a in enumerate(params["account_id"])]
            )
        return _Result([], [])

    def close(self) -> None:
        pass


class RecordingFalkor(FalkorEmbedded):
    def __init__(self, path: Path, name: str) -> None:
        super().__init__(path, name)
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def execute(self, prepared: PreparedQuery) -> Any:
        self.sent.append((prepared.cypher, dict(prepared.params or {})))
        return super().execute(prepared)


def _comparable(params: dict[str, Any]) -> dict[str, Any]:
    # Run ids and internal node ids differ between engines by nature; the rest must match.
    skip = {
        "run_id",
        "started_at",
        "finished_at",
        "summary",
        "source",
        "node",
        "seller",
        "buyer",
        "from_node",
        "to_node",
    }
    kept = {k: v for k, v in params.items() if k not in skip}
    if "k" in kept:  # column-wise rows: compare as a multiset, since row order follows node ids
        names = sorted(n for n in kept if n != "k")
        return {"rows": sorted(repr(row) for row in zip(*(kept[n] for n in names), strict=True))}
    return kept


def test_ingest_sends_the_same_statements_to_neo4j_as_to_falkordb(
    tmp_path: Path, store_path: Path
) -> None:
    data = small_dataset(tmp_path / "in")
    driver = RecordingDriver()
    ingest_directory(
        data,
        Neo4jBackend("bolt://example:7687", "neo4j", "neo4j", None, driver=driver),
        events=EventStore(tmp_path / "neo4j-events"),
    )
    falkor = RecordingFalkor(store_path, "recorded")
    try:
        ingest_directory(data, falkor)
    finally:
        drop(falkor)
        falkor.close()

    neo_writes = [
        (q, _comparable(p)) for mode, q, p, _ in driver.sent if mode == neo4j.WRITE_ACCESS
    ]
    falkor_writes = [(q, _comparable(p)) for q, p in falkor.sent]
    ddl = {index_statement(Dialect.NEO4J, i) for i in INDEXES}
    assert [w for w in neo_writes if w[0] in ddl] == [
        (s, {}) for s in (index_statement(Dialect.NEO4J, i) for i in INDEXES)
    ]
    # Same data statements with the same parameters, except the few that read existing state
    # (pair state), which the recording driver answers as empty. Compared as multisets: the
    # aggregates of one file are written on the writer thread while the next file is read, so
    # statements of the two threads interleave in either order.
    data_neo = [w for w in neo_writes if w[0] not in ddl]
    data_falkor = [w for w in falkor_writes if not w[0].startswith("CREATE INDEX")]
    assert sorted(map(repr, data_neo)) == sorted(map(repr, data_falkor))
    assert len(data_neo) > 10
    assert any("CREATE (s)-[:TRADES_WITH" in q for q, _ in data_neo)


def test_neo4j_dialect_and_access_modes() -> None:
    assert index_statement(Dialect.NEO4J, NodeIndex("Trade", "trade_id")) == (
        "CREATE CONSTRAINT trade_trade_id IF NOT EXISTS FOR (n:Trade) REQUIRE n.trade_id IS UNIQUE"
    )
    assert (
        index_statement(Dialect.FALKORDB, NodeIndex("Trade", "trade_id"))
        == "CREATE INDEX FOR (n:Trade) ON (n.trade_id)"
    )
    driver = RecordingDriver()
    backend = Neo4jBackend("bolt://example:7687", "neo4j", "neo4j", None, driver=driver)
    backend.read("MATCH (n) RETURN n LIMIT $n", {"n": 3}, timeout_ms=1500)
    backend.run("CREATE (:X)")
    assert driver.sent == [
        (neo4j.READ_ACCESS, "MATCH (n) RETURN n LIMIT $n", {"n": 3}, 1.5),
        (neo4j.WRITE_ACCESS, "CREATE (:X)", {}, None),
    ]


def test_neo4j_needs_a_password_and_no_default_exists() -> None:
    import pytest

    from linkscope.errors import ConfigError

    with pytest.raises(ConfigError, match="PASSWORD"):
        Neo4jBackend("bolt://example:7687", "neo4j", "neo4j", None)


def test_neo4j_transactions_stay_within_its_batch_guidance(tmp_path: Path) -> None:
    """One UNWIND statement is one Neo4j transaction: ingest caps its rows per statement."""
    from tests.helpers import ACCOUNTS_HEADER, TRADES_HEADER, write_csv

    data = small_dataset(tmp_path / "in")
    accounts = [f"B{i}" for i in range(250)]
    write_csv(
        data / "accounts.csv",
        ACCOUNTS_HEADER,
        [[a, "2026-01-01T00:00:00Z", 1, "DE", "retail", "false", "active"] for a in accounts],
    )
    # 45,000 fills between distinct (seller, buyer) pairs: 45,000 TRADES_WITH relationships.
    pairs = [(s, b) for s in accounts for b in accounts if s != b][:45_000]
    rows = [
        [f"X{i}", "2026-02-05T00:00:00Z", "BTC_USDT", "1", "1", b, s, "buy", "spot"]
        for i, (s, b) in enumerate(pairs)
    ]
    write_csv(data / "trades.csv", TRADES_HEADER, rows)
    for name in ("logins", "funding", "orders", "enforcement_history"):
        (data / f"{name}.csv").unlink(missing_ok=True)
    driver = RecordingDriver()
    backend = Neo4jBackend("bolt://example:7687", "neo4j", "neo4j", None, driver=driver)
    ingest_directory(
        data, backend, events=EventStore(tmp_path / "ev"), batch_size=200_000, pair_min_trades=1
    )
    sizes = [
        len(p["k"]) for mode, _, p, _ in driver.sent if mode == neo4j.WRITE_ACCESS and "k" in p
    ]
    assert sizes and max(sizes) <= Neo4jBackend.max_batch_rows
    assert sum(1 for mode, q, p, _ in driver.sent if "CREATE (s)-[:TRADES_WITH" in q) >= 3
