"""The Spark engine (local mode, a real Spark) gives exactly what the embedded engine gives: the
same groups, verdicts, flags and evidence, and byte-identical export files, on generated data
and on a hand-made case per detector. One Spark session for the module: it starts in seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="the spark extra: pip install 'linkscope[spark]'")

from analytics.config import AnalysisConfig
from analytics.engines.embedded import EmbeddedEngine
from analytics.engines.spark import SparkEngine, session
from analytics.export import export
from analytics.run import Analysis, analyze
from analytics.writeback import previous_groups, write_analysis
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth.generator import GeneratorConfig, generate
from tests.helpers import drop
from tests.test_detection import HOUR, T0
from tests.test_spoofing import DAY, Flow, background, layering

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkEngine]:
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java 17: `make test` installs openjdk-17-jre-headless")
    spark_session = session("local[2]", shuffle_partitions=4)
    yield SparkEngine(spark_session)
    spark_session.stop()


def digest(analysis: Analysis) -> dict[str, Any]:
    """Everything an analysis decided, by account and trade ids (not positions)."""
    ids, trades = analysis.accounts.ids, analysis.trades
    return {
        "counts": analysis.counts,
        "gaps": analysis.findings.data_gaps,
        "groups": [
            {
                "id": g.group_id,
                "members": [ids[m] for m in g.members],
                "roles": {ids[m]: r for m, r in sorted(g.roles.items())},
                "verdict": g.verdict,
                "score": g.score,
                "clauses": g.clauses,
                "action": g.action,
                "reasons": g.reasons,
                "evidence": {
                    **g.evidence,
                    "wash": [wash_ids(w, trades) for w in g.evidence.get("wash", [])],
                    "synchronized": [
                        sync_ids(p, trades) for p in g.evidence.get("synchronized", [])
                    ],
                },
                "identifiers": [i[1:] for i in g.identifiers],
                "trades": trades.ids(g.trades),
            }
            for g in analysis.groups
        ],
        "flags": [
            {
                "account": ids[f.account],
                "clause": f.clause,
                "score": f.score,
                "evidence": f.evidence,
                "trades": trades.ids(f.trades),
                "order_days": f.order_days,
                "orders": f.orders,
            }
            for f in analysis.flags
        ],
        "edges": sorted(
            (min(ids[a], ids[b]), max(ids[a], ids[b]), w) for (a, b), w in analysis.edges.items()
        ),
    }


def wash_ids(evidence: dict[str, Any], trades: Any) -> dict[str, Any]:
    """Wash evidence cites fills by position until write-back names them: by id here."""
    return {**evidence, "trade_positions": trades.ids(evidence["trade_positions"])}


def sync_ids(pair: dict[str, Any], trades: Any) -> dict[str, Any]:
    """Synchronized examples cite both fills by position until write-back: by id here."""
    examples = [
        {**e, "trade_a": trades.ids([e["trade_a"]])[0], "trade_b": trades.ids([e["trade_b"]])[0]}
        for e in pair["examples"]
    ]
    return {**pair, "examples": examples}


def text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, indent=1)


def assert_same(
    store: FalkorEmbedded, spark: SparkEngine, tmp: Path, cfg: AnalysisConfig
) -> tuple[Analysis, Analysis]:
    """Both engines on one store from the same previous groups; the decisions and the export
    files must be the same to the byte."""
    previous = previous_groups(store)
    embedded = analyze(store, cfg, previous, engine=EmbeddedEngine())
    on_spark = analyze(store, cfg, previous, engine=spark)
    assert text(digest(on_spark)) == text(digest(embedded))
    exports = []
    for name, analysis in (("embedded", embedded), ("spark", on_spark)):
        write_analysis(store, analysis, cfg)
        export(store, tmp / name)
        exports.append({p.name: p.read_bytes() for p in sorted((tmp / name).glob("*.csv"))})
    assert len(exports[0]) == 3 and exports[0] == exports[1]
    return embedded, on_spark


def clauses(analysis: Analysis) -> set[tuple[str, str]]:
    return {(analysis.accounts.ids[f.account], f.clause) for f in analysis.flags}


def test_a_case_per_detector_is_decided_alike(
    tmp_path: Path, store: FalkorEmbedded, spark: SparkEngine
) -> None:
    data = Flow()
    background(data)  # market maker, users and their orders
    for aid in ("R1", "R2", "R3", "BUSY", "SELF", "S1", "S2", "BOT", "LAYER"):
        data.account(aid)
    for k in range(5):  # wash: five cycles R1 -> R2 -> R3 -> R1
        ts = T0 + k * 5 * HOUR + 17_000
        data.trade("R1", "R2", ts, 3.0, "ETH_USDT")
        data.trade("R2", "R3", ts + 2_000, 3.0, "ETH_USDT")
        data.trade("R3", "R1", ts + 4_000, 3.0, "ETH_USDT")
    for j in range(30):  # limit: 30 fills on one day against a limit of 20
        data.trade("BUSY", "MM", (T0 // 86_400_000 + 3) * 86_400_000 + j * 60_000, 0.5)
    for j in range(4):  # self-matching
        data.trade("SELF", "SELF", T0 + j * HOUR + 5, 1.5, "XRP_USDT")
    for k in range(12):  # synchronized: S1 and S2 buy within a second, hours apart
        ts = T0 + 3 * HOUR + k * 4 * HOUR + 123
        data.trade("MM", "S1", ts, 0.7, "SOL_USDT")
        data.trade("MM", "S2", ts + 900, 0.7, "SOL_USDT")
    for j in range(150):  # an unapproved bot's steady API orders
        placed = DAY + 3_600_000 + j * 2_000 + (j % 3)
        data.order(f"O-BOT-{j}", "BOT", "buy", 100, 0.1, placed, placed + 500, "filled", 0.1, "api")
    layering(data, "LAYER", 4, "web", pulled_first=False)  # spoofing
    ingest_directory(data.write(tmp_path / "in"), store)
    cfg = AnalysisConfig.model_validate({"behaviour": {"trade_limits": {"spot": 20}}})
    embedded, _ = assert_same(store, spark, tmp_path, cfg)
    found = clauses(embedded)
    for case in (("BUSY", "limit_breach"), ("SELF", "self_matching"), ("BOT", "unauthorized_bot"),
                 ("LAYER", "spoofing")):  # fmt: skip
        assert case in found
    ids = embedded.accounts.ids
    assert any({ids[p.a], ids[p.b]} == {"S1", "S2"} for p in embedded.findings.sync)
    assert any({ids[m] for m in w.members} == {"R1", "R2", "R3"} for w in embedded.findings.wash)
    assert any(r for r in embedded.findings.relations)


@pytest.fixture(scope="module")
def generated_store(
    store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FalkorEmbedded]:
    out = tmp_path_factory.mktemp("gen-spark")
    generate(out, GeneratorConfig(accounts=10_000, seed=11, order_flow="light"))
    store = FalkorEmbedded(store_path, "spark-equivalence")
    ingest_directory(out / "input", store)
    yield store
    drop(store)
    store.close()


def test_generated_data_is_decided_alike(
    generated_store: FalkorEmbedded, spark: SparkEngine, tmp_path: Path
) -> None:
    embedded, _ = assert_same(generated_store, spark, tmp_path, AnalysisConfig())
    verdicts = {g.verdict for g in embedded.groups}
    assert {"violation", "cleared"} <= verdicts and embedded.findings.sync and embedded.flags


def test_the_settings_choose_spark_on_loopback_without_a_ui(spark: SparkEngine) -> None:
    from analytics.engines.select import engine_for
    from linkscope.settings import Settings

    chosen = engine_for(Settings(engine="spark", spark_master="local[2]"))
    assert isinstance(chosen, SparkEngine)
    conf = chosen.spark.sparkContext.getConf()
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert isinstance(engine_for(Settings()), EmbeddedEngine)


def test_an_unknown_engine_is_refused_before_anything_runs(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "cli.main", "analyze", "--engine", "hadoop"]
    done = subprocess.run(
        [*command, "--store", f"embedded:{tmp_path}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "use embedded or spark" in done.stdout + done.stderr
