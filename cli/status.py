"""CLI commands that read the stores: ``status`` and ``cypher``."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import StoreOpt, app, emit, fail, out, settings_for, show
from linkscope.errors import LinkscopeError


def _parse_param(text: str) -> tuple[str, Any]:
    from graph.values import param_problem

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"expected k=v, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return key, value
    problem = param_problem(parsed)
    if problem:  # refused, not changed (FalkorDB would clamp a huge integer without a word)
        raise typer.BadParameter(f"{key}: {problem}")
    return key, parsed


@app.command()
def cypher(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="Query parameter k=v (v parsed as JSON when it can be)."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    store: StoreOpt = None,
    timeout_ms: Annotated[
        int | None, typer.Option(help="Time limit in ms (default: LINKSCOPE_QUERY_TIMEOUT_MS).")
    ] = None,
) -> None:
    """Run a read-only Cypher query; the engine refuses any write."""
    from graph import open_store

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    settings = settings_for(store)
    params = dict(_parse_param(p) for p in param or [])
    try:
        with open_store(settings=settings) as graph:
            # Same guard as the API: the plan must stay inside the graph (no LOAD CSV).
            result = graph.read_user(
                query, params, timeout_ms=timeout_ms or settings.query_timeout_ms
            )
    except LinkscopeError as exc:
        raise fail(exc) from exc
    emit(result.columns, result.rows, fmt)


def day_label(day: int) -> str:
    from events.tables import day_name

    return day_name(day).removeprefix("day=")


@app.command()
def status(store: StoreOpt = None) -> None:
    """Show what the stores hold: graph node and relationship counts, event-store rows and
    days, last ingest runs, and the analysis: its last runs, current groups and flags."""
    from events.location import events_for
    from graph import open_store
    from graph.inventory import inventory

    try:
        with open_store(settings=settings_for(store)) as graph:
            inv = inventory(graph)
            events = events_for(graph, settings_for(store))
    except LinkscopeError as exc:
        raise fail(exc) from exc
    table = Table("kind", "name", "count", title=f"graph: {inv['store']}")
    for label, n in inv["nodes"].items():
        table.add_row("node", label, f"{n:,}")
    for rel, n in inv["relationships"].items():
        table.add_row("relationship", rel, f"{n:,}")
    show(table)
    stored = Table("table", "rows", "days", "first day", "last day", title=f"events: {events.root}")
    for name in ("trades", "orders"):
        days = events.days(name)
        first, last = (day_label(days[0]), day_label(days[-1])) if days else ("", "")
        stored.add_row(name, f"{events.count(name):,}", str(len(days)), first, last)
    show(stored)
    for run in inv["runs"]:
        out.print(f"ingest {run['run_id'][:8]} {run['status']}: {run['summary']}")
    show_analysis(inv["analysis"])


def show_analysis(analysis: dict[str, Any]) -> None:
    if not analysis["runs"]:
        out.print("analysis: none yet (run `linkscope analyze`)")
        return
    runs = Table("run", "status", "finished", "groups", "flags", title="analysis runs")
    for run in analysis["runs"]:
        finished = run["finished_at"]
        runs.add_row(
            str(run["run_id"]),
            str(run["status"]),
            time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(finished / 1000)) if finished else "",
            f"{run['groups'] or 0:,}",
            f"{run['flags'] or 0:,}",
        )
    show(runs)
    found = Table("kind", "name", "count", title="current analysis results")
    for verdict, n in analysis["groups"].items():
        found.add_row("groups", verdict, f"{n:,}")
    for clause, n in analysis["flags"].items():
        found.add_row("account flags", clause, f"{n:,}")
    for state, n in analysis.get("cases", {}).items():
        found.add_row("cases", state, f"{n:,}")
    if analysis.get("cases"):
        found.add_row("cases", "overdue", f"{analysis['overdue']:,}")
    show(found)
