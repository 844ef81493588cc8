"""User queries on Neo4j: refused on the engine's EXPLAIN plan, read only up to the row cap.

No Neo4j server runs here: a recording driver answers EXPLAIN with plans shaped as Neo4j 5
returns them (``operatorType`` with an ``@neo4j`` suffix, ``args.Details``, ``children``) and
records every statement, so the tests see what would have reached the server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import neo4j
import pytest

from graph.neo4j_backend import Neo4jBackend
from linkscope.errors import QueryRefused


def _op(kind: str, details: str = "", *children: dict[str, Any]) -> dict[str, Any]:
    return {
        "operatorType": f"{kind}@neo4j",
        "args": {"Details": details, "planner": "COST"},
        "identifiers": [],
        "children": list(children),
    }


PLANS = {
    "load": _op("ProduceResults", "r", _op("LoadCSV", "line", _op("Argument"))),
    "nested": _op(
        "ProduceResults",
        "a, r",
        _op("Apply", "", _op("NodeByLabelScan", "a:Account"), _op("LoadCSV", "r")),
    ),
    "labels": _op(
        "ProduceResults", "label", _op("ProcedureCall", "db.labels() :: (label :: STRING)")
    ),
    "apoc": _op(
        "ProduceResults",
        "value",
        _op("ProcedureCall", "apoc.load.json($url) :: (value :: MAP)"),
    ),
    "unnamed": _op("ProduceResults", "x", _op("ProcedureCall", "")),
    "scan": _op("ProduceResults", "a", _op("NodeByLabelScan", "a:Account")),
}


class _Summary:
    def __init__(self, plan: dict[str, Any] | None) -> None:
        self.plan = plan
        self.counters = _Counters()


class _Counters:
    nodes_created = 0
    relationships_created = 0


class _Result:
    def __init__(self, rows: list[list[Any]], plan: dict[str, Any] | None = None) -> None:
        self._rows, self._plan = rows, plan
        self.pulled = 0
        self.consumed = False

    def keys(self) -> list[str]:
        return ["x"]

    def __iter__(self) -> Iterator[Any]:
        for row in self._rows:
            self.pulled += 1
            yield _Record(row)

    def consume(self) -> _Summary:
        self.consumed = True
        return _Summary(self._plan)


class _Record:
    def __init__(self, row: list[Any]) -> None:
        self._row = row

    def values(self) -> list[Any]:
        return self._row


class PlanningDriver:
    """Plans by a label at the start of the query text (``/*load*/ ...``): the test picks what
    the engine would plan; the backend sees only the plan."""

    def __init__(self, rows: int = 0) -> None:
        self.sent: list[tuple[str, str, float | None]] = []
        self.rows = rows
        self.results: list[_Result] = []
        self.mode = ""

    def session(self, database: str, default_access_mode: str) -> PlanningDriver:
        self.mode = default_access_mode
        return self

    def __enter__(self) -> PlanningDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute_read(self, work: Any) -> Any:
        return work(self)

    execute_write = execute_read

    def run(self, query: neo4j.Query, params: Mapping[str, Any]) -> _Result:
        self.sent.append((self.mode, query.text, query.timeout))
        if query.text.startswith("EXPLAIN "):
            label = query.text.split("/*")[1].split("*/")[0]
            result = _Result([], PLANS[label])
        else:
            result = _Result([[i] for i in range(self.rows)])
        self.results.append(result)
        return result

    def close(self) -> None:
        pass


def _backend(driver: PlanningDriver) -> Neo4jBackend:
    return Neo4jBackend("bolt://example:7687", "neo4j", "neo4j", None, driver=driver)


@pytest.mark.parametrize("label", ["load", "nested", "apoc", "unnamed"])
def test_plans_reaching_outside_the_graph_are_refused_before_running(label: str) -> None:
    driver = PlanningDriver(rows=5)
    query = f"/*{label}*/ MATCH (a) RETURN a"
    with pytest.raises(QueryRefused):
        _backend(driver).read_user(query, {"u": "https://127.0.0.1:9/x"}, timeout_ms=2000)
    # Only the EXPLAIN went out, read-only and within the query's time limit.
    assert driver.sent == [(neo4j.READ_ACCESS, f"EXPLAIN {query}", 2.0)]


def test_allowed_procedures_and_plain_reads_run_in_read_mode() -> None:
    for query in ("/*labels*/ CALL db.labels()", "/*scan*/ MATCH (a:Account) RETURN a"):
        driver = PlanningDriver(rows=2)
        result = _backend(driver).read_user(query, timeout_ms=2000)
        assert result.rows == [[0], [1]] and not result.truncated
        assert [(mode, text) for mode, text, _ in driver.sent] == [
            (neo4j.READ_ACCESS, f"EXPLAIN {query}"),
            (neo4j.READ_ACCESS, query),
        ]


def test_reading_stops_at_the_row_cap() -> None:
    driver = PlanningDriver(rows=10_000)
    result = _backend(driver).read_user("/*scan*/ MATCH (a) RETURN a", max_rows=3)
    assert result.rows == [[0], [1], [2]] and result.truncated
    read = driver.results[-1]
    assert read.pulled == 4 and read.consumed  # the rest is discarded by the server
