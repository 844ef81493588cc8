"""Analysis runs started through the API: one at a time, in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from analytics.config import AnalysisConfig
from analytics.pipeline import Span, run_analysis
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
    dry_run: bool = False


class RunManager:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self.active: RunState | None = None
        self.last: RunState | None = None

    def start(self, cfg: AnalysisConfig | None = None, *, dry_run: bool = False) -> RunState:
        """Start a run with ``cfg``, or with the settings of the current results (as the
        CLI's last ``analyze --config`` left them); ``dry_run``: a shadow run."""
        with self._lock:
            if self.active is not None:
                raise Busy("an analysis run is already in progress")
            state = RunState(
                run_id=f"pending-{int(time.time() * 1000)}",
                started_at=int(time.time() * 1000),
                dry_run=dry_run,
            )
            self.active = state
        threading.Thread(target=self._run, args=(state, cfg), daemon=True, name="analysis").start()
        return state

    def _run(self, state: RunState, cfg: AnalysisConfig | None) -> None:
        state.status = "running"
        try:
            result = run_analysis(
                self.settings, cfg, Span(), lambda step, _s: state.steps.append(step),
                dry_run=state.dry_run,
            )  # fmt: skip
            state.run_id = result.run_id
            state.status = "shadow" if state.dry_run else "current"
        except LinkscopeError as exc:
            state.status, state.error = "failed", str(exc)
        except Exception:  # a bug must not kill the API; the log has the details
            log.exception("analysis run failed")
            state.status, state.error = "failed", "internal error; see the server log"
        finally:
            state.finished_at = int(time.time() * 1000)
            with self._lock:
                self.last, self.active = state, None
