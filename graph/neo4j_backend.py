"""Neo4j 5 through the official driver. Deliberately thin: it sends the same Cypher as the
embedded store; only transaction handling and error mapping live here."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import neo4j
import neo4j.exceptions as nx

from graph.backend import GraphBackend, QueryResult
from graph.dialect import Dialect
from graph.guard import PROCEDURE_OPERATORS, PlanStep, normalise
from graph.values import plain
from linkscope.errors import (
    ConfigError,
    QueryError,
    QueryMemoryExceeded,
    QueryTimeout,
    ReadOnlyViolation,
    StoreUnavailable,
)


def translate_error(exc: Exception) -> Exception:
    if isinstance(exc, nx.ServiceUnavailable | nx.SessionExpired | ConnectionError | OSError):
        return StoreUnavailable(f"Neo4j unreachable: {type(exc).__name__}")
    code = getattr(exc, "code", "") or ""
    if "TransactionTimedOut" in code or "TransactionTimedOut" in type(exc).__name__:
        return QueryTimeout("the query ran past its time limit")
    if "OutOfMemory" in code:  # db.memory.transaction.max, or the global pool
        return QueryMemoryExceeded("the query needed more memory than one query may use")
    if "AccessMode" in code or "ForbiddenOnReadOnlyDatabase" in code or "WriteOnReadOnly" in code:
        return ReadOnlyViolation("the query writes; only read-only queries are allowed here")
    if isinstance(exc, nx.Neo4jError):
        return QueryError(getattr(exc, "message", None) or str(exc))
    return exc


class Neo4jBackend(GraphBackend):
    dialect = Dialect.NEO4J
    # One UNWIND statement is one transaction here; Neo4j's guidance is 10k-50k rows each, and
    # a fill writes a node and three relationships (docs/scaling.md).
    max_batch_rows = 20_000

    def __init__(
        self, url: str, database: str, user: str, password: str | None, *, driver: Any = None
    ) -> None:
        self.url = url
        self.database = database
        if driver is None:
            if not password:
                raise ConfigError("LINKSCOPE_NEO4J_PASSWORD is required for a Neo4j store")
            driver = neo4j.GraphDatabase.driver(url, auth=(user, password))
        self._driver = driver

    @property
    def events_dir(self) -> Path:
        # Neo4j holds no files of ours: the event store sits in the working folder unless
        # LINKSCOPE_EVENTS_DIR points elsewhere (a shared volume in production).
        return Path(".linkscope") / "events" / self.database

    @property
    def description(self) -> str:
        return f"Neo4j at {self.url} (database {self.database!r})"

    def _execute(
        self,
        cypher: str,
        params: Mapping[str, Any] | None,
        *,
        read: bool,
        timeout_ms: int | None,
        max_rows: int | None = None,
    ) -> QueryResult:
        query = neo4j.Query(cypher, timeout=(timeout_ms / 1000.0) if timeout_ms else None)
        mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS

        def work(tx: Any) -> QueryResult:
            result = tx.run(query, dict(params or {}))
            keys = list(result.keys())
            rows: list[list[Any]] = []
            # The driver fetches records in batches as they are iterated: stopping here and
            # discarding the rest (consume) keeps at most one batch past the cap in memory.
            for record in result:
                if max_rows is not None and len(rows) >= max_rows:
                    result.consume()
                    return QueryResult(columns=keys, rows=rows, truncated=True)
                rows.append([plain(v) for v in record.values()])
            counters = result.consume().counters
            stats = {
                "nodes_created": counters.nodes_created,
                "relationships_created": counters.relationships_created,
            }
            return QueryResult(columns=keys, rows=rows, stats=stats)

        try:
            with self._driver.session(database=self.database, default_access_mode=mode) as session:
                if read:
                    return session.execute_read(work)  # type: ignore[no-any-return]
                return session.execute_write(work)  # type: ignore[no-any-return]
        except Exception as exc:
            raise translate_error(exc) from exc

    def run(self, cypher: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        return self._execute(cypher, params, read=False, timeout_ms=None)

    def read(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> QueryResult:
        return self._execute(cypher, params, read=True, timeout_ms=timeout_ms)

    def read_capped(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> QueryResult:
        # Bytes are bounded by the rows and the driver's fetch size here; the server's memory by
        # db.memory.transaction.max (docker-compose.yml).
        return self._execute(cypher, params, read=True, timeout_ms=timeout_ms, max_rows=max_rows)

    def plan(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[PlanStep]:
        query = neo4j.Query("EXPLAIN " + cypher, timeout=timeout_ms / 1000 if timeout_ms else None)

        def work(tx: Any) -> Any:
            return tx.run(query, dict(params or {})).consume().plan

        try:
            with self._driver.session(
                database=self.database, default_access_mode=neo4j.READ_ACCESS
            ) as session:
                root = session.execute_read(work)
        except Exception as exc:
            raise translate_error(exc) from exc
        return list(_plan_steps(root))

    def ping(self) -> None:
        try:
            self._driver.verify_connectivity()
        except Exception as exc:
            raise translate_error(exc) from exc

    def checkpoint(self) -> None:
        """Neo4j commits are durable when the transaction returns."""

    def close(self) -> None:
        self._driver.close()


_PROCEDURE_NAME = re.compile(r"\s*([A-Za-z_][\w.]*)\s*\(")


def _plan_steps(plan: Mapping[str, Any] | None) -> Iterator[PlanStep]:
    """Flatten Neo4j's plan tree; a ProcedureCall's details start with the procedure's name,
    e.g. ``db.labels() :: (label :: STRING)``."""
    if not plan:
        return
    operator = str(plan.get("operatorType", ""))
    procedure = None
    if normalise(operator) in PROCEDURE_OPERATORS:
        args = plan.get("args") or {}
        found = _PROCEDURE_NAME.match(str(args.get("Details", "")))
        procedure = found.group(1) if found else ""  # unnamed: refused
    yield PlanStep(operator, procedure)
    for child in plan.get("children") or []:
        yield from _plan_steps(child)
