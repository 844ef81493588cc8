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
