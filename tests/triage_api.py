"""A served API on an analysed graph for the triage tests (suppressions, shadow runs,
webhooks): real uvicorn on loopback, the real embedded store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.keys import KeyStore
from api.main import create_app
from graph.falkor_embedded import FalkorEmbedded
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import analysed_graph, drop

ROLES = ("enforcement", "investigator", "analyst", "admin")


class Site:
    def __init__(
        self, url: str, keys: dict[str, str], store: FalkorEmbedded, app: FastAPI
    ) -> None:
        self.url, self.keys, self.store, self.app = url, keys, store, app
        self.settings: Settings = app.state.settings
        self.http = httpx.Client(base_url=url, timeout=60)

    def call(self, method: str, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        return self.http.request(
            method, path, headers={"Authorization": f"Bearer {self.keys[role]}"}, **kw
        )

    def ok(self, method: str, path: str, role: str = "admin", **kw: Any) -> Any:
        response = self.call(method, path, role, **kw)
        assert response.status_code in (200, 201, 202), (method, path, response.text)
        return response.json()

    def current_run(self) -> str | None:
        rows = self.store.read("MATCH (r:AnalysisRun {status: 'current'}) RETURN r.run_id").rows
        return str(rows[0][0]) if rows else None

    def run(self, body: dict[str, Any] | None = None, timeout: float = 180) -> str:
        """Start a run through the API and wait for it; returns the run id it wrote."""
        runs = self.app.state.runs
        before = runs.last
        self.ok("POST", "/v1/runs", json=body or {})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if runs.active is None and runs.last is not None and runs.last is not before:
                state = runs.last
                assert state.status in ("current", "shadow"), state
                self.app.state.cache.expire_version()
                time.sleep(1.1)  # the API reads the current run at most once a second
                return str(state.run_id)
            time.sleep(0.2)
        raise AssertionError("the analysis run did not finish")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``linkscope ARGS`` in a subprocess on this site's store, as a user runs it."""
        env = {**os.environ, "LINKSCOPE_STORE": self.settings.store, "COLUMNS": "200",
               "LINKSCOPE_GRAPH_NAME": self.settings.graph_name,
               "LINKSCOPE_KEYS_FILE": self.settings.keys_file}  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True,
                              text=True, env=env, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done

    def groups(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.ok("GET", "/v1/groups", params={"limit": 500})["items"]
        return items


@contextmanager
def site(
    store_path: Path, tmp: Path, name: str, accounts: int = 3_000, seed: int = 6, **extra: Any
) -> Iterator[Site]:
    store = analysed_graph(store_path, name, tmp, accounts=accounts, seed=seed)
    settings = Settings(
        store=f"embedded:{store_path}", graph_name=name, keys_file=str(tmp / "keys.json"), **extra
    )
    keystore = KeyStore(tmp / "keys.json")
    keys = {role: keystore.create(role, f"{role} tester")[1] for role in ROLES}
    keys["investigator2"] = keystore.create("investigator", "second investigator")[1]
    app = create_app(settings)
    with serving(app) as url:
        yield Site(url, keys, store, app)
    drop(store)
    store.close()
