"""Ad-hoc read-only Cypher for analysts, in a lane of its own (``api.lane``).

The engine refuses writes; the plan is checked before the query runs (nothing outside the
graph: no LOAD CSV, only allow-listed procedures); a time limit, a row cap and a byte cap bound
what one query costs the store and this process.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from api.deps import Analyst, SettingsDep, StoreDep
from api.lane import CypherLane
from api.schemas import CypherIn, CypherOut

router = APIRouter(prefix="/v1", tags=["cypher"])


@router.post("/cypher", response_model=CypherOut, summary="Run a read-only Cypher query")
async def run_cypher(
    request: Request, body: CypherIn, store: StoreDep, settings: SettingsDep, caller: Analyst
) -> CypherOut:
    timeout = min(body.timeout_ms or settings.query_timeout_ms, settings.cypher_max_timeout_ms)
    lane: CypherLane = request.app.state.cypher_lane
    async with lane.slot(caller.key_id, timeout / 1000):
        started = time.perf_counter()
        result = await lane.run(
            lambda: store.for_analysts(settings.cypher_snapshot_s).read_user(
                body.query,
                body.params,
                timeout_ms=timeout,
                max_rows=settings.cypher_max_rows,
                max_bytes=settings.cypher_max_bytes,
            )
        )
    return CypherOut(
        columns=result.columns,
        rows=result.rows,
        truncated=result.truncated,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
    )
