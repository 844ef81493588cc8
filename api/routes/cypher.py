"""Ad-hoc read-only Cypher for analysts: the engine refuses writes, a time limit and row cap."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.deps import Analyst, SettingsDep, StoreDep
from api.schemas import CypherIn, CypherOut

router = APIRouter(prefix="/v1", tags=["cypher"])


@router.post("/cypher", response_model=CypherOut, summary="Run a read-only Cypher query")
def run_cypher(body: CypherIn, store: StoreDep, settings: SettingsDep, _: Analyst) -> CypherOut:
    timeout = min(body.timeout_ms or settings.query_timeout_ms, settings.cypher_max_timeout_ms)
    started = time.perf_counter()
    # Read-only is enforced by the engine (GRAPH.RO_QUERY / Neo4j READ access), not by text.
    result = store.read(body.query, body.params, timeout_ms=timeout)
    cap = settings.cypher_max_rows
    return CypherOut(
        columns=result.columns,
        rows=result.rows[:cap],
        truncated=len(result.rows) > cap,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
    )
