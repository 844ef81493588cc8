"""The packages form layers: each imports only packages below it, so none imports upward and
no two packages import each other. Every import counts, also those inside functions and under
``TYPE_CHECKING``: an upward import anywhere ties the layers together."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom; packages on one floor do not import each other.
LAYERS: list[set[str]] = [
    {"cli"},
    {"api", "synth"},
    {"analytics"},
    {"ingest"},
    {"events"},
    {"graph"},
    {"linkscope"},
]
FLOOR = {package: i for i, layer in enumerate(LAYERS) for package in layer}
# Tests and what they share with benchmarks and scripts: no product package imports them, and
# the shared helpers do not import the tests.
DEV = {"tests", "testing"}


def imported_packages(path: Path) -> set[str]:
    """Top-level packages of this repository that a module imports (absolute imports only:
    relative ones stay inside the package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & (FLOOR.keys() | DEV)


def package_imports() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) package pairs, each with the modules that import."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for package in (*FLOOR, *DEV, "bench", "scripts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for target in imported_packages(path) - {package}:
                pairs.setdefault((package, target), []).append(str(path.relative_to(ROOT)))
    return pairs


def test_every_package_has_a_floor() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - DEV - {"ui_static"} == set(FLOOR)


def test_no_package_imports_its_own_floor_or_above() -> None:
    upward = {
        f"{importer} -> {imported}": modules
        for (importer, imported), modules in package_imports().items()
        if importer in FLOOR and imported in FLOOR and FLOOR[imported] <= FLOOR[importer]
    }
    assert upward == {}


def test_only_tests_import_the_tests() -> None:
    """Product packages import no test helper; benchmarks, scripts and the shared helpers
    import nothing from tests/."""
    pairs = package_imports()
    wrong = {pair: modules for pair, modules in pairs.items()
             if (pair[0] in FLOOR and pair[1] in DEV) or (pair[0] != "tests" and pair[1] == "tests")}  # fmt: skip
    assert wrong == {}


def test_the_graph_reads_what_it_should() -> None:
    """The check sees real imports: the layers it passes are the ones the code has."""
    pairs = package_imports()
    for edge in [("cli", "api"), ("api", "analytics"), ("synth", "ingest"),
                 ("analytics", "events"), ("ingest", "graph"), ("graph", "linkscope")]:  # fmt: skip
        assert edge in pairs, edge


def test_an_upward_import_is_seen(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from cli.main import app\n    import api.main\n")
    assert imported_packages(module) == {"cli", "api"}
