"""The ingest indexes each new node once, on the real embedded store.

FalkorDB indexes a node again on any ``SET`` (any property, even to the same value), and the
index's garbage collector then forks the whole server every ~30 s to reclaim the old entries:
at L, three forks of 60-85 s of CPU each during the ingest. So nodes of an indexed label are
created with every property in their pattern, and a stored account is not written again.
"""

from __future__ import annotations

from pathlib import Path

from analytics.config import AnalysisConfig
from analytics.run import analyze
from analytics.writeback import write_analysis
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth.generator import GeneratorConfig, generate
from tests.helpers import drop

LABELS = ("Account", "IP", "Device", "FundingSource", "Trade", "Order")


def _index_entries(store: FalkorEmbedded) -> dict[str, tuple[int, int]]:
    """Per label: (documents in its index, documents ever added to it)."""
    out: dict[str, tuple[int, int]] = {}
    for row in store.read("CALL db.indexes()").rows:
        if row[0] in LABELS:
            info = row[-1]  # RediSearch's figures for the label's index
            out[row[0]] = (int(info["numDocuments"]), int(info["maxDocId"]))
    return out


def test_a_load_and_its_rerun_index_each_node_once(tmp_path: Path, store_path: Path) -> None:
    generate(tmp_path / "data", GeneratorConfig(accounts=300, seed=4, order_flow="light"))
    store = FalkorEmbedded(store_path, "index_churn")
    try:
        ingest_directory(tmp_path / "data" / "input", store)
        counts = {
            label: int(store.read(f"MATCH (n:{label}) RETURN count(n)").scalar() or 0)
            for label in LABELS
        }
        assert all(counts[label] for label in LABELS[:4]), counts
        first = _index_entries(store)
        assert first == {label: (n, n) for label, n in counts.items()}
        summary = ingest_directory(tmp_path / "data" / "input", store)
        accounts = next(f for f in summary.files if f.name == "accounts")
        assert (accounts.ingested, accounts.duplicate) == (0, counts["Account"])
        assert _index_entries(store) == first  # the same files again: nothing indexed again
    finally:
        drop(store)
        store.close()


def _evidence(store: FalkorEmbedded) -> tuple[int, int, int, int]:
    return (
        int(store.read("MATCH (t:Trade) RETURN count(t)").scalar() or 0),
        int(store.read("MATCH (:Account)-[:SOLD]->(t:Trade)<-[:BOUGHT]-(:Account) "
                       "RETURN count(DISTINCT t)").scalar() or 0),
        int(store.read("MATCH (o:Order) RETURN count(o)").scalar() or 0),
        int(store.read("MATCH (:Account)-[:PLACED]->(o:Order) RETURN count(DISTINCT o)").scalar()
            or 0),
    )  # fmt: skip


def test_evidence_fills_and_orders_are_indexed_once_across_analyses(
    tmp_path: Path, store_path: Path
) -> None:
    """The analysis creates the fills and orders it cites whole; a second analysis of the same
    store finds them and links them again without indexing them again."""
    generate(tmp_path / "data", GeneratorConfig(accounts=1_500, seed=7, order_flow="light"))
    store = FalkorEmbedded(store_path, "evidence_churn")
    try:
        ingest_directory(tmp_path / "data" / "input", store)
        cfg = AnalysisConfig()
        write_analysis(store, analyze(store, cfg), cfg)
        trades, linked_trades, orders, linked_orders = first = _evidence(store)
        assert trades and orders, first  # fills and orders were cited
        assert (linked_trades, linked_orders) == (trades, orders)
        entries = _index_entries(store)
        assert entries["Trade"] == (trades, trades)
        assert entries["Order"] == (orders, orders)
        write_analysis(store, analyze(store, cfg), cfg)
        assert _evidence(store) == first
        assert _index_entries(store) == entries
    finally:
        drop(store)
        store.close()
