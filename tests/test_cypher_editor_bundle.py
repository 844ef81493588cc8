"""The committed Cypher editor bundle is what the committed build script makes from the pinned
packages: rebuilt from scripts/cypher-editor (npm ci from its lock file, esbuild) and compared
byte for byte, and it is installed with the package."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "scripts" / "cypher-editor"
VENDOR = ROOT / "ui_static" / "vendor"

pytestmark = pytest.mark.slow


def test_the_committed_bundle_is_reproducible(tmp_path: Path) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are missing: install Debian's nodejs and npm (make test does)")
    if not (BUILD / "node_modules" / "esbuild").is_dir():
        subprocess.run(
            [npm, "ci", "--prefix", str(BUILD), "--no-audit", "--no-fund", "--loglevel=error"],
            check=True, timeout=600,
        )  # fmt: skip
    subprocess.run([node, str(BUILD / "build.mjs"), str(tmp_path)], check=True, timeout=300)
    for name in ("cypher-editor.js", "cypher-codemirror.css"):
        assert (tmp_path / name).read_bytes() == (VENDOR / name).read_bytes(), name


def test_the_bundle_is_package_data() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"vendor/*.js", "vendor/*.css"' in text
    # Nothing in it reaches for another origin at run time.
    bundle = (VENDOR / "cypher-editor.js").read_text(encoding="utf-8")
    for marker in ("cdn.", "unpkg.com", "jsdelivr", "googleapis"):
        assert marker not in bundle, marker
