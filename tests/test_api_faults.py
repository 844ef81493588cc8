"""The store dies while the API serves: requests get 503, and the API heals by itself."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from api.keys import KeyStore
from api.main import create_app
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import small_dataset


def test_store_killed_then_back(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with FalkorEmbedded(path, "linkscope") as seed:
        ingest_directory(small_dataset(tmp_path / "in"), seed)
        seed.checkpoint()
    settings = Settings(
        store=f"embedded:{path}", keys_file=str(tmp_path / "keys.json"), api_store_timeout_s=3
    )
    _, key = KeyStore(tmp_path / "keys.json").create("analyst")
    auth = {"Authorization": f"Bearer {key}"}
    query = {"query": "MATCH (a:Account) RETURN count(a)"}
    app = create_app(settings)
    with serving(app) as url, httpx.Client(base_url=url, timeout=30, headers=auth) as http:
        assert http.post("/v1/cypher", json=query).json()["rows"] == [[3]]
        server = app.state.store.get()
        assert isinstance(server, FalkorEmbedded) and server.server_pid
        os.kill(server.server_pid, signal.SIGKILL)
        time.sleep(0.2)
        down = http.post("/v1/cypher", json=query)
        assert down.status_code == 503, down.text
        assert down.json()["error"]["code"] == "store_unavailable"
        # No restart by hand: the API reopens the embedded store (starting its server again)
        # on a later request, from the last snapshot.
        deadline = time.monotonic() + 30
        while True:
            response = http.post("/v1/cypher", json=query)
            if response.status_code == 200:
                break
            assert response.status_code == 503, response.text
            assert time.monotonic() < deadline, "the API did not recover"
            time.sleep(0.3)
        assert response.json()["rows"] == [[3]]
        assert http.get("/ready").json() == {"status": "ready"}
