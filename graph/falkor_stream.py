"""Read a FalkorDB reply row by row on a connection of its own, and stop at a cap.

The redis client reads a whole reply before returning it: ``UNWIND range(1, 3000000) RETURN x``
made the API hold ~1 GB to hand back 5,000 rows. Here the RESP reply is parsed incrementally
from the store's socket; reading stops after ``max_rows`` rows or ``max_bytes`` bytes and the
connection is closed, which discards the rest. Each call opens its own connection, so a long
user query never holds one of the pooled connections the API's hot reads use.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import redis

BUFFER = 64 * 1024


class _Cut(Exception):
    """The byte cap was reached."""


def encode_command(*args: str | int) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        parts.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(parts)


class ReplyReader:
    """RESP2 values as redis-py returns them with ``decode_responses`` (str, int, list)."""

    def __init__(self, stream: IO[bytes], max_bytes: int | None) -> None:
        self.stream = stream
        self.max_bytes = max_bytes
        self.consumed = 0

    def _count(self, n: int) -> None:
        self.consumed += n
        if self.max_bytes is not None and self.consumed > self.max_bytes:
            raise _Cut

    def line(self) -> bytes:
        line = self.stream.readline(BUFFER)
        if not line.endswith(b"\r\n"):
            raise ConnectionError("the store closed the connection mid-reply")
        self._count(len(line))
        return line[:-2]

    def value(self) -> Any:
        return self.parse(self.line())

    def parse(self, line: bytes) -> Any:
        kind, rest = line[:1], line[1:]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.value() for _ in range(n)]
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            self._count(n + 2)  # before reading: a huge string is never read at all
            data = self.stream.read(n + 2)
            if len(data) != n + 2:
                raise ConnectionError("the store closed the connection mid-reply")
            return data[:-2].decode("utf-8", errors="replace")
        if kind == b":":
            return int(rest)
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return redis.ResponseError(rest.decode("utf-8", errors="replace"))
        raise ConnectionError(f"unexpected reply type {kind!r}")


class Connections:
    """The connections of queries still running, so a closing store can cut them: the server
    counts connections to decide when its last client has left."""

    def __init__(self) -> None:
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def cut(self) -> None:
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()


@contextmanager
def _reply(
    socket_path: str, command: list[str | int], timeout_s: float, track: Connections | None
) -> Iterator[IO[bytes]]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        if track is not None:
            track.add(sock)
        try:
            sock.settimeout(timeout_s)
            sock.connect(socket_path)
            sock.sendall(encode_command(*command))
            with sock.makefile("rb") as stream:
                yield stream
        finally:
            if track is not None:
                track.discard(sock)


def simple_query(
    socket_path: str,
    command: list[str | int],
    *,
    timeout_s: float,
    track: Connections | None = None,
) -> Any:
    """One command's whole reply (e.g. GRAPH.EXPLAIN), with its own time limit."""
    with _reply(socket_path, command, timeout_s, track) as stream:
        value = ReplyReader(stream, None).value()
    if isinstance(value, redis.ResponseError):
        raise value
    return value


def capped_query(
    socket_path: str,
    command: list[str | int],
    *,
    timeout_s: float,
    max_rows: int | None,
    max_bytes: int | None,
    track: Connections | None = None,
) -> tuple[list[Any], bool]:
    """Send ``command`` (a GRAPH.RO_QUERY ... --compact) and read its reply up to the caps.

    Returns the reply in redis-py's shape ([header, rows, stats], stats empty when cut) and
    whether a cap cut it. A top-level error reply is raised as ``redis.ResponseError``.
    """
    with _reply(socket_path, command, timeout_s, track) as stream:
        reader = ReplyReader(stream, max_bytes)
        try:
            top = reader.line()
            if top.startswith(b"-"):
                raise redis.ResponseError(top[1:].decode("utf-8", errors="replace"))
            if int(top[1:]) == 1:  # statistics only (no RETURN)
                return [reader.value()], False
            header = reader.value()
            count = int(reader.line()[1:])
        except _Cut:
            raise redis.ResponseError("the reply's header alone is over the byte cap") from None
        rows: list[Any] = []
        try:
            for _ in range(count):
                if max_rows is not None and len(rows) >= max_rows:
                    return [header, rows, []], True
                rows.append(reader.value())
            stats = reader.value()
        except _Cut:
            return [header, rows, []], True
        return [header, rows, stats], False
