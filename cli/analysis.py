"""CLI commands of the analysis: ``analyze``, ``export``, ``evaluate``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from analytics.config import AnalysisConfig
from cli.common import StoreOpt, app, console, fail, out, settings_for, show
from linkscope.errors import InputError, LinkscopeError
from linkscope.settings import Settings, get_settings

if TYPE_CHECKING:
    from analytics.pipeline import Span

# Library imports sit inside the commands: `linkscope --help` and option errors then answer
# without loading pyarrow, DuckDB and the graph drivers.


@app.command()
def analyze(
    store: StoreOpt = None,
    config: Annotated[
        Path | None,
        typer.Option(help="JSON file overriding analysis settings (see docs/analysis.md)."),
    ] = None,
    show_config: Annotated[
        bool, typer.Option("--show-config", help="Print the settings in force and exit.")
    ] = False,
    top: Annotated[int, typer.Option(help="Groups to list in the summary.")] = 10,
    window: Annotated[
        str | None,
        typer.Option(
            help="Analyse this many days (30d) or hours (12h) up to --until or the "
            "latest loaded day."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="First time analysed (ISO 8601 or epoch ms).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End of the analysed time, exclusive (ISO 8601 or epoch ms).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="embedded (default, LINKSCOPE_ENGINE) or spark: the stages that grow with "
            "fills and orders on Apache Spark (linkscope[spark], Java 17)."
        ),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="Spark master for --engine spark: local[*] (default, LINKSCOPE_SPARK_MASTER), "
            "spark://host:7077, yarn, or a Spark Connect sc://host:15002."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Write a shadow run that does not replace the current results and show how it "
            "differs; then `linkscope runs promote|discard RUN_ID`.",
        ),
    ] = False,
) -> None:
    """Detect groups and account findings, assess them and write them into the graph."""
    try:
        cfg = AnalysisConfig.load(config)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    if show_config:
        sys.stdout.write(json.dumps(cfg.model_dump(mode="json"), indent=2) + "\n")
        return
    from analytics.pipeline import Span

    settings = settings_for(store)
    if engine is not None and engine not in ("embedded", "spark"):
        raise fail(InputError(f"--engine {engine}: use embedded or spark"))
    update = {"engine": engine, "spark_master": spark_master}
    settings = settings.model_copy(update={k: v for k, v in update.items() if v is not None})
    started = time.perf_counter()
    try:
        summary = run_analysis(settings, cfg, console, Span(window, since, until), dry_run=dry_run)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    print_summary(out, summary, top)
    if dry_run:
        from cli.runs import show_comparison

        show_comparison(settings, summary["run_id"], time.perf_counter() - started)


@app.command()
def export(
    out_dir: Annotated[
        Path, typer.Argument(help="Folder for groups.csv, group_members.csv, account_flags.csv.")
    ],
    store: StoreOpt = None,
) -> None:
    """Write the current assessment as the contract's output CSV files."""
    from analytics.export import export as export_csv
    from graph import open_store

    try:
        with open_store(settings=settings_for(store)) as graph:
            counts = export_csv(graph, out_dir)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    for name, n in counts.items():
        out.print(f"{out_dir / name}: {n:,} rows")
    record_export(out_dir)


@app.command()
def evaluate(
    truth_dir: Annotated[
        Path | None,
        typer.Argument(help="Folder with labels.csv (the generator's OUT/truth)."),
    ] = None,
    export_dir: Annotated[
        Path | None,
        typer.Option(help="Folder written by `linkscope export` (default: the last export's)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    decisions: Annotated[
        bool,
        typer.Option(
            "--decisions",
            help="Precision from the dispositions recorded in the store instead of labels: "
            "share of decided groups confirmed, by run and by clause.",
        ),
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Score an export against ground-truth labels (recall, precision, false positives), or
    with --decisions the verdicts against what investigators decided."""
    if decisions:
        _evaluate_decisions(store, fmt)
        return
    if truth_dir is None:
        console.print("[red]error:[/red] give TRUTH_DIR, or --decisions")
        raise typer.Exit(code=2)
    from analytics.evaluate import evaluate as score
    from analytics.evaluate import read_export, read_labels

    export_dir = export_dir or last_export()
    try:
        groups, flags = read_export(export_dir)
        labels = read_labels(truth_dir)
    except (OSError, KeyError) as exc:
        console.print(f"[red]error:[/red] cannot read export or labels: {exc}")
        raise typer.Exit(code=2) from exc
    result = score(labels, groups, flags).as_dict()
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    for section, rows in result.items():
        if section == "misses":
            for miss in rows:
                out.print(f"[yellow]missed[/yellow] {miss}")
            continue
        table = Table("measure", "hit", "of", "rate", title=section.replace("_", " "))
        for key, v in rows.items():
            rate = "—" if v["rate"] is None else f"{v['rate']:.3f}"  # 0 of 0: no rate
            table.add_row(key, str(v["hit"]), str(v["of"]), rate)
        show(table)


def _evaluate_decisions(store: str | None, fmt: str) -> None:
    from analytics.dispositions import precision
    from graph import open_store

    try:
        with open_store(settings=settings_for(store)) as graph:
            result = precision(graph).as_dict()
    except LinkscopeError as exc:
        raise fail(exc) from exc
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    for title, rows in (("precision by run (oldest first)", result["by_run"]),
                        ("precision by clause", result["by_clause"]),
                        ("precision overall", [result["overall"]])):  # fmt: skip
        table = Table("run" if "run" in title else "clause", "confirmed", "decided", "precision",
                      title=title)  # fmt: skip
        for r in rows:
            rate = "—" if r["precision"] is None else f"{r['precision']:.3f}"
            table.add_row(r["key"], str(r["confirmed"]), str(r["decided"]), rate)
        show(table)


def _export_record() -> Path:
    # The CLI's local state lives with the API keys (.linkscope/ by default, the state volume
    # in the container), where `evaluate` finds it without starting the store.
    return Path(get_settings().keys_file).parent / "last-export"


def record_export(out_dir: Path) -> None:
    """Remember where the export went, for ``evaluate``'s default."""
    record = _export_record()
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(str(out_dir.resolve()) + "\n", encoding="utf-8")


def last_export() -> Path:
    record = _export_record()
    try:
        return Path(record.read_text(encoding="utf-8").strip())
    except OSError:
        console.print(
            "[red]error:[/red] no export recorded here: pass --export-dir DIR "
            "(the folder given to `linkscope export DIR`)"
        )
        raise typer.Exit(code=2) from None


def run_analysis(
    settings: Settings,
    cfg: AnalysisConfig,
    console: Console,
    span: Span | None = None,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The library's run with a line per step; returns what the summary shows."""
    from analytics.pipeline import Span
    from analytics.pipeline import run_analysis as run

    with console.status("analysing") as status:

        def report(step: str, seconds: float) -> None:
            console.print(f"  {step:<45} {seconds:6.2f} s")
            status.update(f"analysing (after {step})")

        result = run(settings, cfg, span or Span(), report, dry_run=dry_run)
    analysis = result.analysis
    window = analysis.window
    if window.since is not None or window.until is not None:
        console.print(f"  window: {_when(window.since)} .. {_when(window.until)}")
    ranked = sorted(analysis.groups, key=lambda g: (-g.priority, g.group_id))
    return {
        "run_id": result.run_id,
        "dry_run": dry_run,
        "seconds": result.seconds,
        "counts": analysis.counts,
        "data_gaps": analysis.findings.data_gaps,
        "cases": result.cases.summary(),
        "top": [
            (
                g.group_id,
                g.verdict,
                g.priority,
                g.score,
                ", ".join(g.clauses),
                g.action,
                len(g.members),
                "; ".join(g.priority_reasons[:2]),
            )
            for g in ranked
        ],
    }


def _when(ms: int | None) -> str:
    if ms is None:
        return "(open)"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def print_summary(out: Console, summary: dict[str, Any], top: int) -> None:
    counts = summary["counts"]
    out.print(
        ("shadow " if summary.get("dry_run") else "")
        + f"analysis {summary['run_id']} in {summary['seconds']:.1f} s: {counts['accounts']:,} accounts, "
        f"{counts['trades']:,} trades -> {counts['groups']:,} groups "
        f"({counts['violation']} violation, {counts['suspected']} suspected, {counts['cleared']} cleared), "
        f"{counts['flags']:,} account flags; {counts['hub_identifiers']:,} hub identifiers ignored"
        + (f"; {counts['suppressions']} suppression(s) in force" if counts.get("suppressions") else "")
    )
    for gap in summary.get("data_gaps", []):
        out.print(f"[yellow]note:[/yellow] {gap}")
    if summary.get("cases"):
        out.print(f"cases: {summary['cases']}")
    table = Table(title="top groups", expand=True)
    for name, width in (("group", 12), ("verdict", 9), ("priority", 6), ("score", 5), ("clauses", 14),
                        ("action", 14), ("members", 7)):  # fmt: skip
        table.add_column(name, min_width=width, overflow="fold")
    table.add_column("why", overflow="ellipsis", no_wrap=True, ratio=1)
    rows = summary["top"]
    for gid, verdict, priority, score, clauses, action, members, why in rows[:top]:
        table.add_row(
            gid, verdict, f"{priority:.1f}", f"{score:.2f}", clauses, action, str(members), why
        )
    show(table)
