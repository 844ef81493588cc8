"""Every Cypher statement linkscope sends passes Neo4j's own Cypher 5 front-end.

No Neo4j server runs here, but its parser and semantic analysis ship on npm
(``@neo4j-cypher/language-support``, run by ``scripts/cypher-lint/lint.mjs`` with ``node``;
``make test`` installs it). The embedded FalkorDB accepts things Neo4j refuses, so without this
check a statement can pass the whole suite and fail on the first production run.

Statements are collected from the source, not from a list kept by hand:
- every module-level constant of the product that holds Cypher (also inside dicts and tuples);
- every literal or f-string passed to a store method (``run``, ``read``, ``read_columns`` …),
  f-string holes evaluated where the module can, else replaced by a name;
- the Neo4j renderings of ``graph/dialect.py``'s builders.
A store call whose statement cannot be resolved that way must be listed in ``FORWARDED`` with
where its statements come from, so a new kind of call site fails here until someone looks.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from graph import result_statements as rs
from graph.dialect import Dialect, index_statement
from graph.schema import INDEXES

ROOT = Path(__file__).resolve().parent.parent
LINT_DIR = ROOT / "scripts" / "cypher-lint"
PRODUCT = ("analytics", "api", "events", "graph", "ingest", "linkscope", "cli")

# FalkorDB's own engine code: its statements (GRAPH.*, CALL dbms.procedures()) never reach Neo4j.
FALKORDB_ONLY = {"graph/falkor_embedded.py", "graph/falkor_stream.py"}

# Methods of GraphBackend that send their first argument to the engine.
SENDERS = frozenset({"run", "read", "read_capped", "read_user", "read_columns", "plan", "prepare"})

# Store calls that forward a statement made elsewhere: (file, argument source) -> where from.
FORWARDED = {
    ("graph/backend.py", "cypher"): "read_user/read_columns forward their caller's statement",
    ("graph/backend.py", "prepared.cypher"): "execute runs what prepare got from its caller",
    ("graph/schema.py", "index_statement(store.dialect, index)"): "rendered in neo4j_statements",
    ("ingest/loaders.py", "statement"): "st.MERGE_LOGIN_IPS/DEVICES, st.MERGE_DEPOSITS/"
    "WITHDRAWALS/TRANSFERS, chosen in the loaders' prepare",
    ("ingest/event_loaders.py", "statement"): "st.CREATE_TRADE_PAIRS or st.SET_TRADE_PAIRS",
    ("ingest/conflicts.py", "entry[1]"): "the probes of STORED, module constants",
    ("api/routes/cypher.py", "body.query"): "a person's query (POST /v1/cypher), not ours",
    ("analytics/cases.py", "statement"): "_batched sends module constants of case_statements",
}
# `linkscope cypher QUERY` sends a person's query too; the CLI's files move (linkscope/cli*.py
# or a cli/ package), so that call is matched by its argument inside either.
CLI_FILES = ("linkscope/cli", "cli/")
CLI_QUERY = "query"


def forwarded(relative: str, argument: str) -> bool:
    return (relative, argument) in FORWARDED or (
        argument == CLI_QUERY and relative.startswith(CLI_FILES)
    )


# Module constants that are pieces of statements, not statements: (module, name) -> why.
FRAGMENTS = {
    ("graph.statements", "ROWS"): "the UNWIND that column-wise statements start with",
    ("graph.statements", "_MERGE_TIMES"): "the tail of the two login statements",
    ("graph.result_statements", "ROWS"): "the UNWIND that group statements start with",
    ("graph.case_statements", "CASE_ROWS"): "the UNWIND that batched case statements start with",
}

# Deprecation warnings Neo4j 5 gives that we keep: a piece of the message -> (the start of the
# flagged text, why).
ALLOWED_WARNINGS = {
    "'id' has been replaced by 'elementId": (
        "id(",
        "node ids are integers end to end: projections collect id() into int64 arrays, "
        "writeback and ingest send them back as integer parameters, the API's neighbourhood "
        "walk keys on them. elementId() returns a string on Neo4j, so switching the Neo4j "
        "dialect alone would hand strings to code built on integers (and make the two engines "
        "differ in every id-carrying array); id() still runs on every Neo4j 5 release.",
    ),
}

_CYPHER_START = re.compile(r"\s*(OPTIONAL\s+MATCH|MATCH|MERGE|CREATE|UNWIND|WITH|CALL|RETURN)\b")
_PLACEHOLDER = "Placeholder"


@dataclass(frozen=True)
class Statement:
    name: str  # where it was found, for the failure message
    query: str


@dataclass(frozen=True)
class Diagnostic:
    name: str
    severity: str
    message: str
    text: str


def lint(statements: list[Statement]) -> list[Diagnostic]:
    """Neo4j's front-end over ``statements``: every error and warning it reports."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Debian's nodejs (make test does)")
    if not (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        pytest.fail("the Cypher front-end is not installed: make cypher-lint (make test does)")
    payload = json.dumps([{"name": s.name, "query": s.query} for s in statements])
    done = subprocess.run(
        [node, str(LINT_DIR / "lint.mjs")],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return [
        Diagnostic(d["name"], d["severity"], d["message"], d["text"])
        for d in json.loads(done.stdout)
    ]


def is_cypher(text: str) -> bool:
    return bool(_CYPHER_START.match(text))


def product_files(root: Path = ROOT, packages: tuple[str, ...] = PRODUCT) -> list[Path]:
    return sorted(
        path
        for package in packages
        if (root / package).is_dir()
        for path in (root / package).rglob("*.py")
        if path.relative_to(root).as_posix() not in FALKORDB_ONLY
    )


def module_of(path: Path, root: Path) -> ModuleType:
    name = ".".join(path.relative_to(root).with_suffix("").parts)
    return importlib.import_module(name.removesuffix(".__init__"))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)


def module_constants(module: ModuleType) -> Iterator[Statement]:
    """The Cypher statements a module holds at its top level (also in dicts and tuples)."""
    for name, value in vars(module).items():
        if (module.__name__, name) in FRAGMENTS:
            continue
        for i, text in enumerate(_strings(value)):
            if is_cypher(text):
                yield Statement(f"{module.__name__}.{name}" + (f"[{i}]" if i else ""), text)


def _evaluate(node: ast.expr, namespace: dict[str, Any]) -> Any:
    return eval(compile(ast.Expression(node), "<statement>", "eval"), dict(namespace))


def resolve(node: ast.expr, namespace: dict[str, Any]) -> list[str] | None:
    """The statement texts an argument expression can take, or None if it is not knowable here."""
    try:
        value = _evaluate(node, namespace)
    except Exception:  # local names: fall back to the expression's shape below
        value = None
    if isinstance(value, str):
        return [value]
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append(str(piece.value))
            else:
                assert isinstance(piece, ast.FormattedValue)
                try:
                    parts.append(str(_evaluate(piece.value, namespace)))
                except Exception:  # a local (a label, a limit): any name keeps the syntax
                    parts.append(_PLACEHOLDER)
        return ["".join(parts)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = resolve(node.left, namespace), resolve(node.right, namespace)
        if left is None or right is None:
            return None
        return [a + b for a in left for b in right]
    if isinstance(node, ast.Subscript):
        try:
            container = _evaluate(node.value, namespace)
        except Exception:
            return None
        texts = list(_strings(container))
        return texts or None
    return None


def _is_store(receiver: ast.expr, relative: str) -> bool:
    text = ast.unparse(receiver)
    return "store" in text or text == "graph" or (text == "self" and relative.startswith("graph/"))


@dataclass(frozen=True)
class CallSite:
    relative: str
    line: int
    argument: str
    texts: list[str] | None


def _with_local_imports(tree: ast.Module, namespace: dict[str, Any]) -> dict[str, Any]:
    """The module's names plus those it imports inside functions (kept there for start-up
    time), so ``q.GROUP`` resolves wherever ``q`` was imported."""
    names = dict(namespace)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            source = importlib.import_module(node.module)
            for alias in node.names:
                target = alias.asname or alias.name
                if target not in names:
                    found = getattr(source, alias.name, None)
                    names[target] = found or importlib.import_module(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.asname not in names:
                    names[alias.asname] = importlib.import_module(alias.name)
    return names


def call_sites(path: Path, root: Path, namespace: dict[str, Any]) -> Iterator[CallSite]:
    """Every call of a store method in a file, with the statements it can send."""
    relative = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(), filename=str(path))
    namespace = _with_local_imports(tree, namespace)
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SENDERS
            and node.args
            and _is_store(node.func.value, relative)
        ):
            continue
        argument = node.args[0]
        yield CallSite(relative, node.lineno, ast.unparse(argument), resolve(argument, namespace))


def neo4j_statements() -> Iterator[Statement]:
    """What graph/dialect.py renders for Neo4j."""
    for index in INDEXES:
        yield Statement(f"index {index.label}.{index.prop}", index_statement(Dialect.NEO4J, index))


def collect(root: Path = ROOT, packages: tuple[str, ...] = PRODUCT) -> list[Statement]:
    """Every statement the product sends to Neo4j, once each (first place found names it)."""
    found: dict[str, Statement] = {}
    unresolved: list[str] = []
    files = product_files(root, packages)
    for path in files:  # constants first: their names say more than a file and line
        for statement in module_constants(module_of(path, root)):
            found.setdefault(statement.query, statement)
    for path in files:
        for site in call_sites(path, root, vars(module_of(path, root))):
            if site.texts is None:
                if not forwarded(site.relative, site.argument):
                    unresolved.append(f"{site.relative}:{site.line}: {site.argument}")
                continue
            for text in site.texts:
                found.setdefault(text, Statement(f"{site.relative}:{site.line}", text))
    assert not unresolved, (
        "store calls whose statement this test cannot see; add the statement as a module "
        f"constant, or list the call in FORWARDED with where its statements come from: {unresolved}"
    )
    if packages == PRODUCT:
        for statement in neo4j_statements():
            found.setdefault(statement.query, statement)
    return list(found.values())


def allowed(diagnostic: Diagnostic) -> bool:
    return diagnostic.severity == "warning" and any(
        piece in diagnostic.message and diagnostic.text.startswith(text)
        for piece, (text, _why) in ALLOWED_WARNINGS.items()
    )


def test_every_statement_passes_neo4j_front_end() -> None:
    statements = collect()
    # A floor, so a collector that quietly finds nothing cannot pass (87 today).
    assert len(statements) >= 80, len(statements)
    diagnostics = lint(statements)
    problems = [f"{d.name}: {d.severity}: {d.message} at {d.text!r}" for d in diagnostics
                if not allowed(d)]  # fmt: skip
    assert not problems, "\n".join(problems)


def test_forwarding_call_sites_still_exist() -> None:
    """FORWARDED and FRAGMENTS name real places: a stale entry would hide nothing but mislead."""
    sites = {
        (site.relative, site.argument)
        for path in product_files()
        for site in call_sites(path, ROOT, vars(module_of(path, ROOT)))
    }
    assert set(FORWARDED) <= sites, set(FORWARDED) - sites
    assert any(a == CLI_QUERY and r.startswith(CLI_FILES) for r, a in sites)
    for module, name in FRAGMENTS:
        assert isinstance(getattr(importlib.import_module(module), name), str)


def test_lint_reports_syntax_and_semantic_errors_and_deprecations() -> None:
    broken = rs.CREATE_GROUPS.replace("MATCH (a) WHERE", "MATCH (a WHERE", 1)
    assert broken != rs.CREATE_GROUPS
    diagnostics = lint(
        [
            Statement("as written", rs.CREATE_GROUPS),
            Statement("planted syntax error", broken),
            Statement("unbound variable", "MATCH (a:Account) RETURN b.account_id"),
        ]
    )
    errors = {d.name for d in diagnostics if d.severity == "error"}
    assert errors == {"planted syntax error", "unbound variable"}
    # The statement as written has id() (allow-listed), nothing else.
    written = [d for d in diagnostics if d.name == "as written"]
    assert written and all(allowed(d) and d.text.startswith("id(") for d in written)


def test_collector_finds_inline_statements_and_catches_a_planted_error(tmp_path: Path) -> None:
    """A package with a broken statement inline in a store call, a constant and an f-string:
    the collector finds all three and the front-end fails the broken one."""
    package = tmp_path / "plantedpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "reads.py").write_text(
        "LABEL = 'Account'\n"
        "COUNT = 'MATCH (n) RETURN count(n)'\n"
        "def broken(store, name):\n"
        "    return store.read('MATCH (a:Account RETURN a')\n"
        "def labelled(store, label):\n"
        "    return store.read(f'MATCH (n:{label}) RETURN n.{LABEL.lower()}_id')\n"
    )
    importlib.invalidate_caches()
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(tmp_path))
        statements = collect(tmp_path, ("plantedpkg",))
    queries = {s.query: s.name for s in statements}
    assert set(queries) == {
        "MATCH (n) RETURN count(n)",
        "MATCH (a:Account RETURN a",
        f"MATCH (n:{_PLACEHOLDER}) RETURN n.account_id",
    }
    errors = [d for d in lint(statements) if d.severity == "error"]
    assert [d.name for d in errors] == ["plantedpkg/reads.py:4"]
