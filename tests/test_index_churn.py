"""The ingest indexes each new node once, on the real embedded store.

FalkorDB indexes a node again on any ``SET`` (any property, even to the same value), and the
index's garbage collector then forks the whole server every ~30 s to reclaim the old entries:
at L, three forks of 60-85 s of CPU each during the ingest. So nodes of an indexed label are
created with every property in their pattern, and a stored account is not written again.
"""

from __future__ import annotations

from pathlib import Path

from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth.generator import GeneratorConfig, generate
from tests.helpers import drop

LABELS = ("Account", "IP", "Device", "FundingSource")


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
        assert all(counts.values()), counts
        first = _index_entries(store)
        assert first == {label: (n, n) for label, n in counts.items()}
        summary = ingest_directory(tmp_path / "data" / "input", store)
        accounts = next(f for f in summary.files if f.name == "accounts")
        assert (accounts.ingested, accounts.duplicate) == (0, counts["Account"])
        assert _index_entries(store) == first  # the same files again: nothing indexed again
    finally:
        drop(store)
        store.close()
