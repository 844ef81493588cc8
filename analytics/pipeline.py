"""One analysis run, as the CLI and the API start it: open the stores, resolve the window and
the settings, analyse, write the results and make them current.

Every step, the store's start (which loads the graph's snapshot), the write and the stop
included, is timed through ``report``, so the steps shown add up to the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from analytics.cases import SyncReport, sync_cases
from analytics.config import AnalysisConfig
from analytics.engines.select import engine_for
from analytics.run import Analysis, Step, analyze
from analytics.window import resolve_window
from analytics.writeback import previous_groups, write_analysis
from events.location import events_for
from graph import result_statements as rs
from graph.backend import GraphBackend
from graph.store import open_store
from linkscope.settings import Settings

STORE_START = "start the graph store (loads its snapshot)"
WRITER_LOCK = "wait for the writer lock"
PREPARE = "settings, window, previous groups"
WRITE = "write results"
CASES = "cases follow their groups"
STORE_STOP = "stop the graph store (saves its snapshot)"


@dataclass(frozen=True)
class Span:
    """The analysed time as the user gave it (resolved against the loaded days)."""

    window: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class RunResult:
    run_id: str
    seconds: float
    config: AnalysisConfig
    analysis: Analysis
    cases: SyncReport


def stored_config(store: GraphBackend) -> AnalysisConfig | None:
    """The settings of the current results, or None before the first run."""
    rows = store.read(rs.CURRENT_CONFIG).rows
    if not rows or not rows[0][0]:
        return None
    return AnalysisConfig.model_validate(json.loads(str(rows[0][0])))


@contextmanager
def _step(name: str, report: Step | None) -> Iterator[None]:
    started = time.perf_counter()
    yield
    if report is not None:
        report(name, time.perf_counter() - started)


@contextmanager
def _entered(
    context: AbstractContextManager[None], name: str, report: Step | None
) -> Iterator[None]:
    """Inside ``context``, with the time it took to enter reported as a step."""
    started = time.perf_counter()
    with context:
        if report is not None:
            report(name, time.perf_counter() - started)
        yield


def run_analysis(
    settings: Settings,
    cfg: AnalysisConfig | None = None,
    span: Span = Span(),
    report: Step | None = None,
    *,
    dry_run: bool = False,
) -> RunResult:
    """Analyse and write back with ``cfg``; without one, with the settings of the current
    results (the ones the last ``analyze --config`` gave), else the defaults. ``dry_run``
    writes a shadow run that does not replace the current results."""
    started = time.perf_counter()
    with _step(STORE_START, report):
        graph = open_store(settings=settings)
    try:
        with _entered(graph.exclusive_writer(), WRITER_LOCK, report):
            with _step(PREPARE, report):
                cfg = cfg or stored_config(graph) or AnalysisConfig()
                events = events_for(graph, settings)
                window = resolve_window(
                    events,
                    window=span.window,
                    since=span.since,
                    until=span.until,
                    default_days=cfg.assessment.window_days,
                )
                previous = previous_groups(graph)
            engine = engine_for(settings)
            analysis = analyze(
                graph, cfg, previous, report, events=events, window=window, engine=engine
            )
            with _step(WRITE, report):
                run_id = write_analysis(graph, analysis, cfg, shadow=dry_run)
            # A shadow run changes no case: cases follow the current run (its promotion).
            cases = SyncReport()
            if not dry_run:
                with _step(CASES, report):
                    cases = sync_cases(graph, run_id, settings.case_sla_hours)
    finally:
        with _step(STORE_STOP, report):
            graph.close()
    return RunResult(run_id, time.perf_counter() - started, cfg, analysis, cases)
