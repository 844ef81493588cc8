"""What `make demo` and `make test` do before the real work: the port check and the apt step.

They run the real Makefile and scripts; nothing is installed (the cases that would install
stop before apt-get runs).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASH = shutil.which("bash") or "/bin/bash"


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_make_demo_stops_at_once_on_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _run(["make", "--no-print-directory", "demo", f"PORT={port}"])
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert f"make demo PORT={port + 1}" in done.stderr
    # Stopped before the install or the demo itself started.
    assert "pip" not in done.stdout and "linkscope demo" not in done.stdout


def test_check_port_passes_a_free_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = _run(["python3", "scripts/check-port.py", str(port)])
    assert done.returncode == 0, done.stderr


def test_apt_install_says_what_to_do_without_apt(tmp_path: Path) -> None:
    # An empty PATH: no apt-get (the script uses only bash built-ins before that check).
    done = _run([BASH, "scripts/apt-install.sh", "the UI tests", "chromium"],
                env={"PATH": str(tmp_path)})  # fmt: skip
    assert done.returncode == 1
    assert "chromium (for the UI tests) not installed" in done.stderr
    assert "apt-get is not available here" in done.stderr


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get on PATH")
def test_apt_install_says_what_to_do_when_not_root() -> None:
    command = [BASH, "scripts/apt-install.sh", "the Cypher check", "nodejs", "npm"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop privileges")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    done = _run(command)
    assert done.returncode == 1
    assert "nodejs npm (for the Cypher check) not installed" in done.stderr
    assert "run 'sudo apt-get install nodejs npm'" in done.stderr
