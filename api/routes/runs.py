"""Analysis runs: history, progress, and starting one (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, status

from analytics.config import AnalysisConfig
from api.audit import record
from api.deps import Admin, Analyst, StoreDep
from api.runner import RunManager, RunState
from api.schemas import RunInfo
from graph import api_statements as q
from linkscope.errors import NotFound

router = APIRouter(prefix="/v1/runs", tags=["runs"])
ConfigBody = Annotated[
    AnalysisConfig | None,
    Body(
        embed=True,
        description="Analysis settings (as in `linkscope analyze --config`); without them the "
        "run uses the settings of the current results, or the defaults before any run.",
    ),
]


def _info(state: RunState) -> RunInfo:
    return RunInfo(
        run_id=state.run_id, status=state.status, started_at=state.started_at,
        finished_at=state.finished_at, groups=None, flags=None, steps=list(state.steps),
        error=state.error,
    )  # fmt: skip


def _in_memory(request: Request) -> list[RunState]:
    runs: RunManager = request.app.state.runs
    return [s for s in (runs.active, runs.last) if s is not None]


@router.get("", response_model=list[RunInfo], summary="Analysis runs, newest first")
def list_runs(
    request: Request, store: StoreDep, _: Analyst, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[RunInfo]:
    stored = [
        RunInfo(
            run_id=r[0], status=r[1], started_at=r[2], finished_at=r[3], groups=r[4], flags=r[5]
        )
        for r in store.read(q.RUNS, {"limit": limit}).rows
    ]
    known = {r.run_id for r in stored}
    live = [
        _info(s) for s in _in_memory(request) if s.run_id not in known and s.status != "current"
    ]
    return live + stored


@router.get("/{run_id:id}", response_model=RunInfo)
def get_run(run_id: str, request: Request, store: StoreDep, caller: Analyst) -> RunInfo:
    for run in list_runs(request, store, caller, limit=200):
        if run.run_id == run_id:
            return run
    raise NotFound(f"no analysis run {run_id!r}")


@router.post("", response_model=RunInfo, status_code=status.HTTP_202_ACCEPTED,
             summary="Start an analysis run")  # fmt: skip
def start_run(
    request: Request, store: StoreDep, caller: Admin, config: ConfigBody = None
) -> RunInfo:
    runs: RunManager = request.app.state.runs
    state = runs.start(config)
    record(store, caller, "run:start", f"run:{state.run_id}")
    return _info(state)
