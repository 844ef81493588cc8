"""The backend interface every part of linkscope talks to."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from graph.dialect import Dialect
from graph.guard import PlanStep, check_plan

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class QueryResult:
    """Rows of plain Python values (nodes and relationships become dicts)."""

    columns: list[str]
    rows: list[list[Any]]
    stats: dict[str, float] = field(default_factory=dict)
    truncated: bool = False  # a row or byte cap stopped reading before the last row

    @property
    def relationships_created(self) -> int:
        """Relationships the statement created (a write's counter; 0 for a read)."""
        return int(self.stats.get("relationships_created", 0))

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows and self.rows[0] else None


@dataclass(frozen=True)
class PreparedQuery:
    """A statement with its parameters already encoded for one backend.

    Encoding is pure Python work; preparing batch k+1 while the store executes batch k keeps
    that work off the ingest's critical path.
    """

    cypher: str
    params: Mapping[str, Any] | None = None
    encoded: str | None = None  # the backend's wire form, where it has one


class GraphBackend(ABC):
    """A property-graph store reached with openCypher.

    ``run`` may write; ``read`` must be refused by the engine itself if the query writes.
    """

    dialect: Dialect
    # Rows per write statement the engine takes comfortably in one transaction (None: any).
    max_batch_rows: int | None = None

    @abstractmethod
    def run(self, cypher: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Execute one statement atomically (one transaction)."""

    @abstractmethod
    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
    ) -> QueryResult:
        """Execute a query the engine guarantees is read-only, within an optional time limit."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the store cannot answer."""

    @abstractmethod
    def checkpoint(self) -> None:
        """Make everything written so far durable (a snapshot on the embedded store)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the embedded server stops when its last client leaves."""

    @property
    @abstractmethod
    def description(self) -> str:
        """Human-readable location of the store, without secrets."""

    @property
    @abstractmethod
    def events_dir(self) -> Path:
        """Where this graph's event store (fills and orders as Parquet) lives by default."""

    def read_user(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> QueryResult:
        """A query written by a person (API, CLI): refused unless its plan stays inside the
        graph, then read with at most ``max_rows`` rows and about ``max_bytes`` of reply held
        in this process (``truncated`` says the caps cut it)."""
        started = time.monotonic()
        steps = self.plan(cypher, params, timeout_ms=timeout_ms)
        check_plan(steps, unnamed_procedures_ok=self.unnamed_procedures_ok())
        if timeout_ms:  # planning and running share the one time limit
            timeout_ms = max(1, timeout_ms - int((time.monotonic() - started) * 1000))
        return self.read_capped(
            cypher, params, timeout_ms=timeout_ms, max_rows=max_rows, max_bytes=max_bytes
        )

    def for_analysts(self, max_age_s: float) -> GraphBackend:
        """The backend analysts' queries should read: a copy at most ``max_age_s`` old where
        long reads would hold up writes (embedded FalkorDB), else this one (Neo4j: MVCC)."""
        return self

    @abstractmethod
    def plan(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[PlanStep]:
        """The engine's plan of a query (not run), as a flat list of operators."""

    def unnamed_procedures_ok(self) -> bool:
        """Whether a procedure call the plan does not name may run (see ``check_plan``)."""
        return False

    @abstractmethod
    def read_capped(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> QueryResult:
        """``read`` that stops reading the reply after ``max_rows`` rows or ``max_bytes``."""

    def read_columns(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, keys: int = 0
    ) -> list[tuple[list[Any], list[IntArray]]]:
        """A read-only query whose rows hold ``keys`` scalar cells, then lists of integers.

        Returns each row as (key cells, one int64 array per list). Analytics projections read
        millions of values this way; backends with a faster wire form than rows of Python
        values override it.
        """
        return [
            (row[:keys], [np.asarray(cell or [], dtype=np.int64) for cell in row[keys:]])
            for row in self.read(cypher, params).rows
        ]

    def prepare(self, cypher: str, params: Mapping[str, Any] | None = None) -> PreparedQuery:
        """Encode a write statement ahead of time (no store access; safe on any thread)."""
        return PreparedQuery(cypher, params)

    def execute(self, prepared: PreparedQuery) -> QueryResult:
        """Run a statement made by ``prepare``."""
        return self.run(prepared.cypher, prepared.params)

    def exclusive_writer(self) -> AbstractContextManager[None]:
        """Held for a whole ingest, so a second one into the same store fails fast.

        Where a backend has no cheap lock (Neo4j), one ingest at a time is the operator's rule.
        """
        return nullcontext()

    def __enter__(self) -> GraphBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
