"""What one request may cost: bodies, user queries reaching outside the graph, memory, and the
analysts' lane. Real embedded FalkorDB, the real API over HTTP (and raw sockets where a client
library would hide what is sent)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from api.keys import KeyStore
from api.main import create_app
from graph.backend import GraphBackend
from graph.store import open_store
from ingest.pipeline import ingest_directory
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import small_dataset


@dataclass
class Site:
    url: str
    keys: dict[str, str]
    store: GraphBackend
    path: Path

    def post(self, key: str, json: dict[str, Any], timeout: float = 60) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/cypher",
            json=json,
            headers={"Authorization": f"Bearer {self.keys[key]}"},
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("guard")
    settings = Settings(
        store=f"embedded:{tmp / 'store'}",
        keys_file=str(tmp / "keys.json"),
        cypher_max_rows=100,
        query_memory_mb=256,
        cypher_concurrency=2,
        cypher_per_caller=1,
        cypher_queue_ms=300,
    )
    # Opened the way the API opens it, so the server starts with the settings' thread count.
    store = open_store(settings=settings)
    ingest_directory(small_dataset(tmp / "in"), store)
    keystore = KeyStore(tmp / "keys.json")
    keys = {
        name: keystore.create(role, name)[1]
        for name, role in (
            ("analyst", "analyst"),
            ("analyst2", "analyst"),
            ("analyst3", "analyst"),
            ("investigator", "investigator"),
        )
    }
    with serving(create_app(settings)) as url:
        yield Site(url, keys, store, tmp / "store")
    store.close()


def _shape(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"error": {"status": status, "code": code, "message": body["error"]["message"]}}
    return dict(body["error"])


# --- 6. bodies: the key first, then at most max_body_bytes -----------------------------------


def _raw(url: str, head: str, body: bytes = b"", wait_s: float = 5.0) -> tuple[int, bytes, float]:
    """Send a request head (and maybe part of a body) on a raw socket; read the status line."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait_s) as sock:
        sock.sendall(head.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - started
        head_end = data.index(b"\r\n\r\n") + 4
        length = next(
            int(line.split(b":")[1])
            for line in data[:head_end].split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(data) < head_end + length:
            data += sock.recv(65536)
    return int(data.split(b" ")[1]), data[head_end : head_end + length], elapsed


def test_a_huge_body_without_a_key_is_refused_before_it_is_sent(site: Site) -> None:
    # Only the head goes out: the old API waited for 60 MB that never came.
    head = (
        "POST /v1/cypher HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 60000000\r\n\r\n"
    )
    status, body, elapsed = _raw(site.url, head)
    assert status == 401 and b'"code":"unauthenticated"' in body
    assert elapsed < 2


def test_an_oversized_body_gets_413_from_its_length_alone(site: Site) -> None:
    head = (
        "POST /v1/cypher HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {site.keys['analyst']}\r\nContent-Length: 60000000\r\n\r\n"
    )
    status, body, elapsed = _raw(site.url, head)
    assert status == 413 and b'"code":"payload_too_large"' in body
    assert elapsed < 2


def test_a_chunked_body_is_read_only_up_to_the_cap(site: Site) -> None:
    head = (
        "POST /v1/cypher HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {site.keys['analyst']}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"x" * 65536
    chunks = (b"%x\r\n" % len(piece) + piece + b"\r\n") * 20  # 1.3 MB, never terminated
    status, body, _ = _raw(site.url, head, chunks)
    assert status == 413 and b'"code":"payload_too_large"' in body
    # Under the cap a chunked body still works, and the key check did not eat it.
    small = httpx.post(
        f"{site.url}/v1/cypher",
        content=iter([b'{"query": ', b'"RETURN 7 AS n"}']),
        headers={
            "Authorization": f"Bearer {site.keys['analyst']}",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert small.status_code == 200, small.text
    assert small.json()["rows"] == [[7]]


# --- 7. nothing outside the graph ------------------------------------------------------------


class Listener:
    """A loopback port that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def _outside_queries(port: int) -> list[tuple[str, dict[str, Any]]]:
    url = f"https://127.0.0.1:{port}/x"
    return [
        (f"LOAD CSV FROM '{url}' AS r RETURN r", {}),
        (f"load csv with headers from 'http://127.0.0.1:{port}/x' as r return r", {}),
        (f"/* hidden */ LoAd /* more */ CsV\n\tFROM\n '{url}' AS r // trailing\n RETURN r", {}),
        (
            f"WITH 'https://127.0.0.1:' AS h LOAD CSV FROM h + '{port}' + '/x' AS r RETURN count(r)",
            {},
        ),
        ("LOAD CSV FROM $u AS r RETURN r", {"u": url}),
        (f"MATCH (a:Account) CALL {{ LOAD CSV FROM '{url}' AS r RETURN r }} RETURN a, r", {}),
        (f"UNWIND [1] AS i LOAD CSV FROM 'http://127.0.0.1:' + toString({port}) AS r RETURN r", {}),
        ("LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r", {}),
    ]


def test_queries_that_load_files_or_urls_are_refused_and_connect_nowhere(site: Site) -> None:
    listener = Listener()
    try:
        for query, params in _outside_queries(listener.port):
            response = site.post("analyst", {"query": query, "params": params})
            message = _shape(response, 400, "query_refused")["message"]
            assert "LOAD CSV" in message, query
        time.sleep(0.5)
        assert listener.connections == 0
    finally:
        listener.close()
    # Reading the graph, and the allow-listed procedures, still work.
    assert site.post("analyst", {"query": "CALL db.labels()"}).status_code == 200
    ok = site.post("analyst", {"query": "MATCH (a:Account) RETURN count(a) AS n"})
    assert ok.json()["rows"] == [[3]]


def test_the_cli_refuses_them_too(site: Site) -> None:
    listener = Listener()
    try:
        for query, _ in _outside_queries(listener.port)[:4]:
            done = subprocess.run(
                [sys.executable, "-m", "cli.main", "cypher", query],
                capture_output=True,
                text=True,
                env={
                    **os.environ,
                    "LINKSCOPE_STORE": f"embedded:{site.path}",
                    # The limit is the server's; every process opening it sets its own value.
                    "LINKSCOPE_QUERY_MEMORY_MB": "256",
                },
                timeout=120,
            )
            assert done.returncode != 0
            assert "LOAD CSV" in done.stderr + done.stdout
        time.sleep(0.5)
        assert listener.connections == 0
    finally:
        listener.close()


# --- 5. memory and time per query ------------------------------------------------------------


class PeakRss:
    """The peak resident memory of a process while the block runs, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def grew_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def test_a_huge_result_is_cut_at_the_row_cap_without_holding_it(site: Site) -> None:
    # The API runs in this process (a uvicorn thread): its memory is ours.
    with PeakRss(os.getpid()) as api:
        response = site.post("analyst", {"query": "UNWIND range(1, 3000000) AS x RETURN x"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["truncated"] is True and body["rows"] == [[x] for x in range(1, 101)]
    assert api.grew_mb < 100, api.grew_mb  # the whole reply held in Python: ~1 GB


def test_a_query_building_a_huge_list_ends_near_its_time_limit(site: Site) -> None:
    # Building the list does not check the engine's timeout (it took 12 s for a 3 s limit); the
    # memory limit stops it, and the API stops waiting at the limit plus a small margin. The
    # engine allocates range()'s whole list before it checks the limit, so this one query
    # still peaks at ~1.6 GB in the store (measured); see the next test for the limit at work.
    started = time.monotonic()
    response = site.post(
        "analyst", {"query": "UNWIND range(1, 100000000) AS x RETURN count(x)", "timeout_ms": 3000}
    )
    elapsed = time.monotonic() - started
    assert response.status_code in (400, 408), response.text
    assert response.json()["error"]["code"] in ("query_memory_exceeded", "query_timeout")
    assert elapsed < 3 + 1.5, elapsed  # the limit, plus the margin for the engine's own stop


def _settled(pid: int, timeout_s: float = 60) -> None:
    """Until the process's memory holds still for a second: an earlier test's query that the
    API stopped waiting for may still run (and allocate) in the store for a while on a busy
    machine, and would count as this test's growth."""
    process = psutil.Process(pid)
    deadline = time.monotonic() + timeout_s
    last, still = process.memory_info().rss, 0
    while still < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = process.memory_info().rss
        still = still + 1 if abs(now - last) < 2**20 else 0
        last = now


def test_the_store_stops_a_query_at_its_memory_limit(site: Site) -> None:
    server = site.store.server_pid  # type: ignore[attr-defined]
    _settled(server)
    query = "UNWIND range(1, 5000) AS a UNWIND range(1, 5000) AS b RETURN size(collect(a + b))"
    with PeakRss(server) as store:
        response = site.post("analyst", {"query": query, "timeout_ms": 20_000})
    _shape(response, 400, "query_memory_exceeded")
    assert store.grew_mb < 256 + 150, store.grew_mb  # the per-query limit, plus slack


# --- 4. the analysts' lane -------------------------------------------------------------------

# 100M rows through the engine with almost no memory: busy until its 4 s limit (408).
HEAVY = {"query": "UNWIND range(1, 10000) AS a UNWIND range(1, 10000) AS b RETURN count(*)",
         "timeout_ms": 4000}  # fmt: skip


def _heavy(site: Site, pool: ThreadPoolExecutor, *keys: str) -> list[Any]:
    running = [pool.submit(site.post, key, HEAVY) for key in keys]
    time.sleep(0.7)  # both are on the engine now
    return running


def test_past_their_lane_analysts_get_429_with_retry_after(site: Site) -> None:
    light = {"query": "RETURN 1 AS one"}
    with ThreadPoolExecutor(4) as pool:
        running = _heavy(site, pool, "analyst")
        started = time.monotonic()
        again = site.post("analyst", light)  # the same key: one at a time
        waited = time.monotonic() - started
        _shape(again, 429, "too_many_requests")
        assert 1 <= int(again.headers["Retry-After"]) <= 4
        assert 0.25 <= waited < 2  # queued briefly (cypher_queue_ms=300), then refused
        running += _heavy(site, pool, "analyst2")  # another key: the second slot
        _shape(site.post("analyst3", light), 429, "too_many_requests")  # two in all
        for future in running:
            assert future.result().status_code in (200, 408), future.result().text
    assert site.post("analyst", light).json()["rows"] == [[1]]


def test_heavy_analyst_queries_leave_the_hot_reads_alone(site: Site) -> None:
    auth = {"Authorization": f"Bearer {site.keys['investigator']}"}
    with ThreadPoolExecutor(4) as pool, httpx.Client(base_url=site.url, headers=auth) as http:
        running = _heavy(site, pool, "analyst", "analyst2")
        latencies = []
        for i in range(20):  # unknown accounts: never cached, every one reads the store
            started = time.monotonic()
            assert http.get(f"/v1/accounts/NOPE{i}").status_code == 404
            latencies.append(time.monotonic() - started)
            if i == 10:  # a write (as a decision is) neither waits nor holds the reads up
                started = time.monotonic()
                site.store.run("MERGE (p:Probe {k: 1}) SET p.at = timestamp()")
                write_s = time.monotonic() - started
        overlapped = all(not f.done() for f in running)
        for future in running:
            future.result()
    latencies.sort()
    # Before: both engine threads held by the analysts, each read waited up to ~4 s.
    assert latencies[len(latencies) // 2] < 0.2 and latencies[-1] < 1.0, latencies
    assert write_s < 1.0, write_s  # before: it waited for the analysts' reads (~4 s)
    assert overlapped  # measured while both heavy ones ran


def test_the_analysts_copy_is_refreshed_once_too_old(site: Site) -> None:
    store = site.store
    count = "MATCH (f:Fresh) RETURN count(f)"
    assert store.for_analysts(2).read_user(count).rows == [[0]]
    store.run("CREATE (:Fresh)")
    assert store.for_analysts(2).read_user(count).rows == [[0]]  # the copy: up to 2 s old
    deadline = time.monotonic() + 30
    time.sleep(2.1)
    while store.for_analysts(2).read_user(count).rows != [[1]]:  # refreshed in the background
        assert time.monotonic() < deadline, "the copy was not refreshed"
        time.sleep(0.2)
    assert store.for_analysts(0).read_user(count).rows == [[1]]  # 0: the live graph
