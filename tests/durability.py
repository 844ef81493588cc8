"""Helpers for the durability tests: a tiny decidable graph, the store's server, real serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from graph.falkor_embedded import DB_FILENAME, FalkorEmbedded
from testing.api_server import free_port

GROUP_ID = "G1"

# One current group with one member: enough for POST /v1/groups/G1/decisions.
DECIDABLE = """CREATE (:AnalysisRun {run_id: 'R1', status: 'current', started_at: 1, finished_at: 2,
    groups: 1, flags: 0})
CREATE (g:Group {group_id: 'G1', run_id: 'R1', verdict: 'suspected', score: 0.5,
    clauses: ['wash_trading'], recommended_action: 'request_report', member_count: 1,
    lineage: 'new', assessed_at: 1, changed_at: 1, current: true, quote: 0.0,
    members_preview: ['A1'], reasons: [], evidence: '{}', parents: []})
CREATE (:Account {account_id: 'A1'})-[:MEMBER_OF {role: 'member'}]->(g)"""


def decidable_store(path: Path, graph_name: str = "linkscope", accounts: int = 0) -> None:
    """A store holding one group to decide on, and ``accounts`` more accounts."""
    with FalkorEmbedded(path, graph_name) as store:
        store.run(DECIDABLE)
        if accounts:
            store.run(
                "UNWIND range(1, $n) AS i CREATE (:Account {account_id: 'X' + toString(i)})",
                {"n": accounts},
            )


SLOW = {"query": "MATCH (a:Account),(b:Account),(c:Account) RETURN count(*)", "timeout_ms": 3_000}


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def ro_query_calls(path: Path) -> int:
    """How many GRAPH.RO_QUERY the store's server has run (a short-lived connection)."""
    registry = json.loads((path / f"{DB_FILENAME}.settings").read_text(encoding="utf-8"))
    client = redis.Redis(unix_socket_path=registry["unixsocket"], decode_responses=True)
    try:
        stats = client.info("commandstats").get("cmdstat_graph.RO_QUERY", {"calls": 0})
        return int(stats["calls"])
    finally:
        client.close()


def server_pid(path: Path) -> int | None:
    """The live embedded server of the store at ``path`` (from falkordblite's registry)."""
    try:
        registry = json.loads((path / f"{DB_FILENAME}.settings").read_text(encoding="utf-8"))
        pid = int(Path(registry["pidfile"]).read_text().strip())
        if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            return pid
    except (OSError, ValueError, KeyError, psutil.Error):
        pass
    return None


def decide(http: httpx.Client, note: str) -> httpx.Response | None:
    """POST one decision; None when the API could not be reached at all."""
    try:
        return http.post(
            f"/v1/groups/{GROUP_ID}/decisions", json={"decision": "escalate", "note": note}
        )
    except httpx.TransportError:
        return None


def stored_decisions(path: Path, graph_name: str = "linkscope") -> list[dict[str, Any]]:
    with FalkorEmbedded(path, graph_name) as store:
        return store.read("MATCH (d:Decision) RETURN d.decision_id AS id, d.note AS note").records()


def stored_audit_notes(path: Path, graph_name: str = "linkscope") -> list[str]:
    with FalkorEmbedded(path, graph_name) as store:
        return [
            str(r[0])
            for r in store.read(
                "MATCH (e:AuditEntry) WHERE e.action STARTS WITH 'decision:' RETURN e.detail"
            ).rows
        ]


class Served:
    """``linkscope serve`` as a real subprocess on a free port."""

    def __init__(self, store: Path, keys_file: Path) -> None:
        self.store, self.keys_file = store, keys_file
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> None:
        env = {**os.environ, "LINKSCOPE_KEYS_FILE": str(self.keys_file)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port),
             "--store", f"embedded:{self.store}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.url}/ready", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("linkscope serve did not become ready")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@contextmanager
def served(store: Path, keys_file: Path) -> Iterator[Served]:
    server = Served(store, keys_file)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(timeout=30)
