"""Real processes: two sharing one embedded store, and an ingest killed mid-way then re-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth import GeneratorConfig, generate
from tests.helpers import drop, snapshot

CLI = [sys.executable, "-m", "cli.main"]


def test_two_processes_share_one_embedded_store(tmp_path: Path) -> None:
    path = tmp_path / "shared"
    with FalkorEmbedded(path, "g") as mine:
        mine.run("CREATE (:Account {account_id: 'from-parent'})")
        code = (
            "import sys; from pathlib import Path; from graph.falkor_embedded import FalkorEmbedded\n"
            f"s = FalkorEmbedded(Path({str(path)!r}), 'g')\n"
            "seen = s.read(\"MATCH (a:Account {account_id:'from-parent'}) RETURN count(a)\").scalar()\n"
            "s.run(\"CREATE (:Account {account_id: 'from-child'})\")\n"
            "print(seen, s.server_pid)\n"
            "s.close()\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
        )
        seen, child_pid = done.stdout.split()
        assert seen == "1"
        assert int(child_pid) == mine.server_pid  # one server, not two
        assert (
            mine.read("MATCH (a:Account {account_id:'from-child'}) RETURN count(a)").scalar() == 1
        )
        mine.ping()  # the child leaving did not stop the server under us
    # And the data survives the last client closing (snapshot on shutdown).
    with FalkorEmbedded(path, "g") as again:
        assert again.read("MATCH (a:Account) RETURN count(a)").scalar() == 2


@pytest.mark.slow
def test_killed_ingest_rerun_equals_one_clean_run(tmp_path: Path, store_path: Path) -> None:
    data = tmp_path / "data"
    generate(
        data, GeneratorConfig(accounts=1_500, seed=3, trades_per_account=20, order_flow="light")
    )
    killed_store = tmp_path / "killed"
    env = {
        **os.environ,
        "LINKSCOPE_BATCH_SIZE": "500",
        "LINKSCOPE_STORE": f"embedded:{killed_store}",
    }
    proc = subprocess.Popen(
        [*CLI, "ingest", str(data / "input"), "--quarantine", str(tmp_path / "q.csv")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    events = killed_store / "events" / "linkscope"
    with FalkorEmbedded(killed_store, "linkscope") as watcher:
        deadline = time.monotonic() + 120
        staged: list[Path] = []
        while time.monotonic() < deadline:
            # Kill once the fills are being loaded (their staging file opens first): what is
            # committed by then is anything from none to all of the fills, never the orders.
            staged = list(events.glob("_staging/*/trades/*.arrow"))
            if staged:
                break
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert staged, "the kill must land while fills are being loaded"
        assert not list(events.glob("orders/day=*/part.parquet")), "the load was cut short"
        assert watcher.read("MATCH (a:Account) RETURN count(a)").scalar() == 1_500
        summary = ingest_directory(data / "input", watcher)
        assert summary.usable
        rerun = snapshot(watcher)
    with FalkorEmbedded(store_path, "clean") as clean:
        ingest_directory(data / "input", clean)
        assert rerun == snapshot(clean)
        drop(clean)


def test_a_second_ingest_into_the_same_store_is_refused(
    tmp_path: Path, store: FalkorEmbedded
) -> None:
    from linkscope.errors import Busy
    from tests.helpers import small_dataset

    data = small_dataset(tmp_path / "in")
    with (
        FalkorEmbedded(store.path, "other") as other,
        store.exclusive_writer(),
        pytest.raises(Busy, match="another ingest"),
    ):
        ingest_directory(data, other)
    assert ingest_directory(data, store).usable  # and the lock is free again afterwards
