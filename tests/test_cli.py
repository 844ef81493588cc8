"""The command line over the real embedded store, run as a user would (a subprocess)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from synth import GeneratorConfig, generate
from tests.helpers import small_dataset

CLI = [sys.executable, "-m", "cli.main"]


def _run(args: list[str], store: Path, *, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINKSCOPE_STORE": f"embedded:{store}", "COLUMNS": "200",
           "LINKSCOPE_KEYS_FILE": str(store.parent / "state" / "keys.json")}  # fmt: skip
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_every_command_has_help() -> None:
    for command in (
        "generate",
        "ingest",
        "cypher",
        "status",
        "demo",
        "analyze",
        "export",
        "evaluate",
        "runs",
    ):
        done = subprocess.run([*CLI, command, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0
        assert "Usage" in done.stdout


def test_ingest_then_cypher_formats_and_read_only(tmp_path: Path) -> None:
    data = small_dataset(tmp_path / "in")
    store = tmp_path / "store"
    done = _run(["ingest", str(data), "--quarantine", str(tmp_path / "q.csv")], store)
    assert "trades" in done.stdout and "ingested" in done.stdout
    rows = json.loads(
        _run(
            [
                "cypher",
                "MATCH (a:Account) WHERE a.kyc_level >= $k RETURN a.account_id AS id ORDER BY id",
                "--param",
                "k=1",
                "--format",
                "json",
            ],
            store,
        ).stdout
    )
    assert rows == [{"id": "A1"}, {"id": "A2"}]
    table = list(
        csv.reader(
            io.StringIO(
                _run(
                    ["trades", "A2", "--format", "csv", "--limit", "10"],
                    store,
                ).stdout
            )
        )
    )
    assert table[0][0] == "trade_id"
    assert [row[0] for row in table[1:]] == ["T1", "T2", "T3"]  # A2's fills, oldest first
    for write in (
        "CREATE (:X)",
        "MATCH (a:Account) SET a.status = 'closed'",
        "MATCH (a) DETACH DELETE a",
        "CREATE INDEX FOR (n:X) ON (n.y)",
    ):
        refused = _run(["cypher", write], store, ok=False)
        assert refused.returncode == 2
        assert "read-only" in refused.stderr
    assert (
        _run(
            ["cypher", "MATCH (a:Account {status:'active'}) RETURN count(a)", "-f", "json"], store
        ).stdout.strip()
        != "[]"
    )
    bad = _run(["cypher", "MATCH (a RETURN a"], store, ok=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_parameter_the_store_cannot_keep_is_refused_not_changed(tmp_path: Path) -> None:
    for param, reason in (("x=123456789012345678901234567890", "64-bit"),
                          ('x={"a`b": 1}', "backtick")):  # fmt: skip
        done = _run(["cypher", "RETURN $x", "-p", param], tmp_path / "store", ok=False)
        assert done.returncode == 2 and reason in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_ingest_of_nothing_usable_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = _run(["ingest", str(tmp_path / "empty")], tmp_path / "store", ok=False)
    assert done.returncode == 1
    assert "nothing usable" in done.stderr


def test_generator_is_seeded_and_keeps_truth_outside_input(tmp_path: Path) -> None:
    generate(tmp_path / "a", GeneratorConfig(accounts=800, seed=5, trades_per_account=5))
    generate(tmp_path / "b", GeneratorConfig(accounts=800, seed=5, trades_per_account=5))
    generate(tmp_path / "c", GeneratorConfig(accounts=800, seed=6, trades_per_account=5))
    for name in ("accounts", "trades", "logins", "funding", "orders"):
        assert (tmp_path / "a/input" / f"{name}.csv").read_bytes() == (
            tmp_path / "b/input" / f"{name}.csv"
        ).read_bytes()
    assert (tmp_path / "a/input/trades.csv").read_bytes() != (
        tmp_path / "c/input/trades.csv"
    ).read_bytes()
    assert not list((tmp_path / "a/input").glob("labels*"))
    labels = list(csv.DictReader((tmp_path / "a/truth/labels.csv").open()))
    typologies = {r["typology"] for r in labels}
    assert {
        "wash_trading",
        "self_matching",
        "coordinated_trading",
        "spoofing",
        "unauthorized_bot",
        "limit_breach",
        "benign_household",
        "benign_shared_ip",
        "market_maker",
    } <= typologies


def _steps_add_up(done: subprocess.CompletedProcess[str]) -> None:
    """The steps shown, the store's start and the write included, make up the run's time."""
    steps = dict(re.findall(r"^  (\S.*?) +(\d+\.\d+) s$", done.stderr, re.M))
    shown = {
        "start the graph store (loads its snapshot)",
        "write results",
        "stop the graph store (saves its snapshot)",
    }
    assert shown <= steps.keys(), steps
    total = float(re.findall(r"analysis \S+ in (\d+\.\d+) s", done.stdout)[0])
    assert sum(map(float, steps.values())) >= 0.9 * total - 0.2, (steps, total)


def test_analyze_export_evaluate(tmp_path: Path) -> None:
    store = tmp_path / "store"
    early = _run(["export", str(tmp_path / "out")], store, ok=False)
    assert early.returncode == 2 and "linkscope analyze" in early.stderr
    generate(tmp_path / "gen", GeneratorConfig(accounts=2_000, seed=4, order_flow="light"))
    _run(
        ["ingest", str(tmp_path / "gen" / "input"), "--quarantine", str(tmp_path / "q.csv")], store
    )
    done = _run(["analyze"], store)
    assert "violation" in done.stdout and "top groups" in done.stdout
    assert re.search(r"^cases: [1-9]\d* opened, 0 followed", done.stdout, re.M), done.stdout
    _steps_add_up(done)
    # Into a pipe the tables are plain lines: no box drawing, no word broken across lines.
    assert "│" not in done.stdout and "┃" not in done.stdout
    status = _run(["status"], store).stdout
    assert "analysis runs" in status and "current analysis results" in status
    assert re.search(r"^groups +violation +\d", status, re.M), status
    assert re.search(r"^cases +open +[1-9]", status, re.M), status
    _run(["export", str(tmp_path / "out")], store)
    # evaluate without --export-dir reads the export just written (not ./export).
    default = _run(["evaluate", str(tmp_path / "gen" / "truth"), "--format", "json"], store)
    assert json.loads(default.stdout)["group_recall"]["all"]["rate"] >= 0.95
    headers = {}
    for name in ("groups.csv", "group_members.csv", "account_flags.csv"):
        with (tmp_path / "out" / name).open(newline="") as handle:
            headers[name] = next(csv.reader(handle))
    assert headers == {
        "groups.csv": [
            "group_id",
            "verdict",
            "score",
            "clauses",
            "recommended_action",
            "member_count",
        ],
        "group_members.csv": ["group_id", "account_id", "role"],
        "account_flags.csv": ["account_id", "clause", "score", "evidence"],
    }
    scored = json.loads(
        _run(
            [
                "evaluate",
                str(tmp_path / "gen" / "truth"),
                "--export-dir",
                str(tmp_path / "out"),
                "--format",
                "json",
            ],
            store,
        ).stdout
    )
    assert scored["group_recall"]["all"]["rate"] >= 0.95
    bad = tmp_path / "bad.json"
    bad.write_text('{"wash": {"margin": 1}}')
    refused = _run(["analyze", "--config", str(bad)], store, ok=False)
    assert refused.returncode == 2 and "margin" in refused.stderr


def test_ingest_checks_its_directory_before_starting_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    done = _run(["ingest", str(tmp_path / "no" / "such")], store, ok=False)
    assert done.returncode == 2 and "does not exist" in done.stderr, done.stderr
    assert not store.exists()  # the store was never started


def test_evaluate_says_what_to_pass_and_shows_no_rate_for_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "labels.csv").write_text(
        "group_id,account_id,typology,difficulty\nG1,A1,wash_trading,standard\n"
        "G1,A2,wash_trading,standard\n"
    )
    missing = _run(["evaluate", str(truth)], store, ok=False)
    assert missing.returncode == 2 and "--export-dir" in missing.stderr, missing.stderr
    out = tmp_path / "out"
    out.mkdir()
    (out / "groups.csv").write_text(
        "group_id,verdict,score,clauses,recommended_action,member_count\n"
    )
    (out / "group_members.csv").write_text("group_id,account_id,role\n")
    (out / "account_flags.csv").write_text("account_id,clause,score,evidence\n")
    table = _run(["evaluate", str(truth), "--export-dir", str(out)], store).stdout
    # No group was judged a violation: precision is 0 of 0, no rate (it used to read 1.000).
    assert re.search(r"^violation +0 +0 +—$", table, re.M), table
    assert re.search(r"^all +0 +1 +0\.000$", table, re.M), table
