"""``linkscope runs``: shadow runs (``analyze --dry-run``) compared, promoted, discarded."""

from __future__ import annotations

import getpass
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import StoreOpt, app, fail, out, settings_for, show
from linkscope.errors import LinkscopeError
from linkscope.settings import Settings

if TYPE_CHECKING:
    from graph.backend import GraphBackend

runs_app = typer.Typer(help="Shadow runs from `analyze --dry-run`: compare, promote, discard.")
app.add_typer(runs_app, name="runs")
RunArg = Annotated[str, typer.Argument(help="The shadow run's id (analyze --dry-run prints it).")]


def _describe(a: dict[str, Any] | None) -> str:
    if a is None:
        return "-"
    return escape(f"{a['verdict']} [{', '.join(a['clauses'])}] {a['recommended_action']}")


def show_comparison(settings: Settings, run_id: str, seconds: float | None = None) -> None:
    """The shadow run against the current run, as a table."""
    from analytics import shadow
    from graph import open_store

    started = time.perf_counter()
    try:
        with open_store(settings=settings) as graph:
            result = shadow.compare(graph, run_id)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    c = result["counts"]
    out.print(
        f"shadow run {run_id} against current run {result['current_run']}: "
        f"{c['groups_shadow']} groups (current {c['groups_current']}); {c['appears']} appear, "
        f"{c['disappears']} disappear, {c['verdict']} change verdict, {c['clauses']} change "
        f"clauses, {c['action']} change action"
    )
    table = Table("group", "change", "current", "shadow", title="what the shadow run changes")
    for ch in result["changes"]:
        table.add_row(ch["group_id"], ch["change"], _describe(ch["before"]), _describe(ch["after"]))
    show(table)
    if seconds is not None:
        total = seconds + time.perf_counter() - started
        out.print(f"dry run and comparison in {total:.1f} s")
    out.print(
        f"promote: linkscope runs promote {run_id}   discard: linkscope runs discard {run_id}"
    )


@runs_app.command("compare")
def compare(run_id: RunArg, store: StoreOpt = None) -> None:
    """Show how a shadow run differs from the current run."""
    show_comparison(settings_for(store), run_id)


@runs_app.command("promote")
def promote(run_id: RunArg, store: StoreOpt = None) -> None:
    """Make a shadow run the current results (its changes go to the change feed)."""
    from analytics import shadow
    from analytics.cases import sync_cases
    from graph import open_store

    settings = settings_for(store)
    try:
        with open_store(settings=settings) as graph:
            events = shadow.promote(graph, run_id)
            # Current now: cases follow its groups, as after an analysis that was not dry.
            cases = sync_cases(graph, run_id, settings.case_sla_hours)
            _audit(
                graph,
                "run:promote",
                run_id,
                f"change feed up to {events}; cases: {cases.summary()}",
            )
    except LinkscopeError as exc:
        raise fail(exc) from exc
    out.print(f"run {run_id} is now current; cases: {cases.summary()}")


@runs_app.command("discard")
def discard(run_id: RunArg, store: StoreOpt = None) -> None:
    """Delete a shadow run and its groups."""
    from analytics import shadow
    from graph import open_store

    try:
        with open_store(settings=settings_for(store)) as graph:
            shadow.discard(graph, run_id)
            _audit(graph, "run:discard", run_id)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    out.print(f"shadow run {run_id} discarded")


def _audit(graph: GraphBackend, action: str, run_id: str, detail: str = "") -> None:
    """The shell's changes go in the audit log too, under the operating-system user."""
    from api.audit import record
    from api.keys import Caller

    user = getpass.getuser()
    record(graph, Caller(f"shell:{user}", "shell", user), action, f"run:{run_id}", detail)
