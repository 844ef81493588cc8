"""The demo data must defeat "shares anything = same owner": naive linkage drowns the rings."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

from synth import GeneratorConfig, generate


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def test_naive_shared_identifier_linkage_fails_on_the_demo_data(tmp_path: Path) -> None:
    generate(
        tmp_path, GeneratorConfig(accounts=3_000, seed=9, trades_per_account=3, order_flow="light")
    )
    owners: dict[str, set[str]] = defaultdict(set)
    for row in csv.DictReader((tmp_path / "input/logins.csv").open()):
        owners["ip:" + row["ip"]].add(row["account_id"])
        if row["device_id"]:
            owners["dev:" + row["device_id"]].add(row["account_id"])
    for row in csv.DictReader((tmp_path / "input/funding.csv").open()):
        owners["src:" + row["counterparty_ref"]].add(row["account_id"])
    links = _Union()
    for accounts in owners.values():
        first, *rest = sorted(accounts)
        for other in rest:
            links.union(first, other)
    sizes = Counter(links.find(a) for a in {a for s in owners.values() for a in s})
    biggest_root, biggest = sizes.most_common(1)[0]
    assert biggest > 0.3 * 3_000, "NAT, office, VPN and hot-wallet hubs must join unrelated users"
    labels = list(csv.DictReader((tmp_path / "truth/labels.csv").open()))
    planted = [r["account_id"] for r in labels if r["typology"] == "wash_trading"]
    benign = [r["account_id"] for r in labels if r["typology"].startswith("benign")]
    swallowed = sum(links.find(a) == biggest_root for a in planted)
    assert swallowed > 0, "some rings share VPN exits with strangers"
    assert sum(links.find(a) == biggest_root for a in benign) > 0.5 * len(benign)
