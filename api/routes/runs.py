"""Analysis runs: history, progress, and starting one (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, status
from pydantic import StrictBool

from analytics import shadow
from analytics.cases import sync_cases
from analytics.config import AnalysisConfig
from api.audit import record
from api.deps import Admin, Analyst, SettingsDep, StoreDep
from api.runner import RunManager, RunState
from api.schemas import RunInfo
from api.triage_schemas import RunComparison
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


DryRun = Annotated[
    StrictBool,
    Body(
        embed=True,
        description="Analyse into a shadow run that does not replace the current results; "
        "compare it (`GET /v1/runs/{id}/comparison`), then promote or discard it.",
    ),
]


@router.post("", response_model=RunInfo, status_code=status.HTTP_202_ACCEPTED,
             summary="Start an analysis run (or a dry run)")  # fmt: skip
def start_run(
    request: Request, store: StoreDep, caller: Admin, config: ConfigBody = None,
    dry_run: DryRun = False,
) -> RunInfo:  # fmt: skip
    runs: RunManager = request.app.state.runs
    state = runs.start(config, dry_run=dry_run)
    record(store, caller, "run:dry-run" if dry_run else "run:start", f"run:{state.run_id}",
           f"config {config.digest() if config else 'of the current results'}")  # fmt: skip
    return _info(state)


@router.get("/{run_id:id}/comparison", response_model=RunComparison,
            summary="A shadow run against the current run")  # fmt: skip
def comparison(run_id: str, store: StoreDep, _: Analyst) -> RunComparison:
    return RunComparison.model_validate(shadow.compare(store, run_id))


@router.post("/{run_id:id}/promote", response_model=RunInfo,
             summary="Make a shadow run the current results")  # fmt: skip
def promote(
    run_id: str, request: Request, store: StoreDep, settings: SettingsDep, caller: Admin
) -> RunInfo:
    events = shadow.promote(store, run_id)
    # The run is current now: cases follow its groups, as after an analysis that was not dry.
    cases = sync_cases(store, run_id, settings.case_sla_hours)
    request.app.state.cache.expire_version()
    request.app.state.dispatcher.wake()  # push the changes without waiting for the next poll
    record(store, caller, "run:promote", f"run:{run_id}",
           f"change feed up to {events}; cases: {cases.summary()}")  # fmt: skip
    return get_run(run_id, request, store, caller)


@router.post("/{run_id:id}/discard", response_model=RunInfo, summary="Delete a shadow run")
def discard(run_id: str, request: Request, store: StoreDep, caller: Admin) -> RunInfo:
    info = shadow.run_info(store, run_id)
    shadow.discard(store, run_id)
    record(store, caller, "run:discard", f"run:{run_id}")
    return RunInfo(run_id=run_id, status="discarded", started_at=info["started_at"],
                   finished_at=info["finished_at"], groups=info["groups"], flags=info["flags"])  # fmt: skip
