from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.falkor_embedded import FalkorEmbedded
from tests.helpers import drop

_graph_numbers = itertools.count()


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One embedded server for the session; starting one per test costs seconds."""
    path = tmp_path_factory.mktemp("store")
    keeper = FalkorEmbedded(path, "keeper")
    yield path
    keeper.close()


@pytest.fixture
def store(store_path: Path) -> Iterator[FalkorEmbedded]:
    """A fresh, empty graph on the real embedded FalkorDB."""
    backend = FalkorEmbedded(store_path, f"test{next(_graph_numbers)}")
    yield backend
    drop(backend)
    backend.close()


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """linkscope's wheel, built from a clean copy of the sources."""
    from tests.installs import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def neo4j_only_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh venv with the wheel and only what ``pip install linkscope`` (no extras) brings:
    no falkordblite. Its python."""
    from tests.installs import fresh_venv

    return fresh_venv(tmp_path_factory.mktemp("neo4j-only") / "venv", wheel, extras=set())
