"""Analysis runs started through the API: one at a time, in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from analytics.config import AnalysisConfig
from graph.store import open_store
from linkscope.errors import Busy, LinkscopeError
from linkscope.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RunState:
    run_id: str = ""
    status: str = "queued"
    started_at: int = 0
    finished_at: int | None = None
    steps: list[str] = field(default_factory=list)
    error: str | None = None


class RunManager:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self.active: RunState | None = None
        self.last: RunState | None = None

    def start(self, cfg: AnalysisConfig) -> RunState:
        with self._lock:
            if self.active is not None:
                raise Busy("an analysis run is already in progress")
            state = RunState(
                run_id=f"pending-{int(time.time() * 1000)}", started_at=int(time.time() * 1000)
            )
            self.active = state
        threading.Thread(target=self._run, args=(state, cfg), daemon=True, name="analysis").start()
        return state

    def _run(self, state: RunState, cfg: AnalysisConfig) -> None:
        from analytics.run import analyze
        from analytics.writeback import previous_groups, write_analysis

        state.status = "running"
        try:
            with open_store(settings=self.settings) as store, store.exclusive_writer():
                analysis = analyze(
                    store, cfg, previous_groups(store), lambda step, _s: state.steps.append(step)
                )
                state.status = "writing"
                state.run_id = write_analysis(store, analysis, cfg)
            state.status = "current"
        except LinkscopeError as exc:
            state.status, state.error = "failed", str(exc)
        except Exception:  # a bug must not kill the API; the log has the details
            log.exception("analysis run failed")
            state.status, state.error = "failed", "internal error; see the server log"
        finally:
            state.finished_at = int(time.time() * 1000)
            with self._lock:
                self.last, self.active = state, None
