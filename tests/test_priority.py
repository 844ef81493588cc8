"""The queue's priority: computed by the analysis, stored on the group, served by the API in
its default order with the reasons it is made of (real store, real HTTP)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.priority import Harm, priority
from api.keys import KeyStore
from api.main import create_app
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import analysed_graph, drop


@pytest.fixture(scope="module")
def queue(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    tmp = tmp_path_factory.mktemp("priority")
    store = analysed_graph(store_path, "priority", tmp, accounts=4_000, seed=5)
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="priority", keys_file=str(tmp / "keys.json")
    )
    key = KeyStore(tmp / "keys.json").create("enforcement")[1]
    with serving(create_app(settings)) as url:
        headers = {"Authorization": f"Bearer {key}"}
        items = httpx.get(f"{url}/v1/groups", params={"limit": 500}, headers=headers).json()
        detail = httpx.get(
            f"{url}/v1/groups/{items['items'][0]['group_id']}", headers=headers
        ).json()
        yield [items["items"], detail]
    drop(store)
    store.close()


def test_queue_is_ordered_by_priority_and_says_why(queue: list[Any]) -> None:
    items, detail = queue
    keys = [(-g["priority"], g["group_id"]) for g in items]
    assert keys == sorted(keys)
    violations = [g for g in items if g["verdict"] == "violation"]
    assert len(violations) >= 5
    # The verdict score saturates; the priority does not: no two violations share one.
    assert len(Counter(g["score"] for g in violations)) < len(violations)
    assert max(Counter(g["priority"] for g in violations).values()) == 1
    for g in violations:
        assert g["priority_reasons"] and g["volume"] > 0, g
        if "wash_trading" in g["clauses"]:
            assert g["priority_reasons"][0].startswith("wash volume"), g
    # Coordinated trading with the market: nothing among members, volume involved all the same.
    market = [g for g in violations if g["clauses"] == ["coordinated_trading"]]
    assert market and all(g["quote_volume"] == 0 and g["volume"] > 0 for g in market)
    assert any("coordinated volume" in r for g in market for r in g["priority_reasons"])
    cleared = [g for g in items if g["verdict"] == "cleared"]
    assert cleared and max(g["priority"] for g in cleared) < min(g["priority"] for g in violations)
    assert detail["priority"] == items[0]["priority"]
    assert detail["priority_reasons"] == items[0]["priority_reasons"]
    assert detail["evidence"]["priority"]["terms"]


def test_priority_weighs_volume_repeat_offence_and_recency() -> None:
    base = Harm(wash=10_000.0, members=3, idle_days=0.0, confidence=1.0, currency="USDT")
    value, why = priority(base, "violation")
    assert why[0] == "wash volume 10.0k USDT" and "confidence 1.00" in why
    bigger, _ = priority(Harm(wash=2_100_000.0, members=3, confidence=1.0), "violation")
    assert bigger > value
    repeat, why_repeat = priority(
        Harm(wash=10_000.0, members=3, idle_days=0.0, confidence=1.0, prior=2), "violation"
    )
    assert repeat > value and "repeat offender (earlier freeze)" in why_repeat
    stale, why_stale = priority(
        Harm(wash=10_000.0, members=3, idle_days=14.0, confidence=1.0), "violation"
    )
    assert stale < value and "last active 14 days before the end of the data" in why_stale
    shared = Harm(wash=2_100_000.0, share=0.31, share_symbol="XYZ/USDT", share_days=3,
                  members=3, confidence=1.0, currency="USDT")  # fmt: skip
    _, why_shared = priority(shared, "violation")
    assert why_shared[0] == "wash volume 2.1M USDT, 31% of XYZ/USDT on 3 days"
    assert priority(base, "suspected")[0] < value
