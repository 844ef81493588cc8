"""Projections read from the real embedded store match the hand-made data exactly."""

from __future__ import annotations

from pathlib import Path

from analytics.projection import read_accounts, read_memberships, read_trade_pairs
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from tests.helpers import small_dataset


def test_projections_of_the_small_dataset(tmp_path: Path, store: FalkorEmbedded) -> None:
    ingest_directory(small_dataset(tmp_path / "in"), store)
    accounts = read_accounts(store)
    assert accounts.ids == ["A1", "A2", "A3"]

    ips = read_memberships(store, accounts, "ip")
    links = {
        (accounts.ids[a], ips.keys[i], int(c))
        for a, i, c in zip(ips.account, ips.identifier, ips.count, strict=True)
    }
    assert links == {("A1", "10.0.0.1", 1), ("A2", "10.0.0.1", 1), ("A2", "2001:db8::1", 1)}

    devices = read_memberships(store, accounts, "device")
    assert sorted(accounts.ids[a] for a in devices.account) == ["A1", "A2"]
    assert devices.keys == ["d1"]

    sources = read_memberships(store, accounts, "deposit_source")
    assert sources.keys == ["bank:bank-9"]
    assert sorted(accounts.ids[a] for a in sources.account) == ["A1", "A2"]

    pairs = read_trade_pairs(store, accounts)
    got = [
        (accounts.ids[s], accounts.ids[b], pairs.symbols[y], int(n), float(q))
        for s, b, y, n, q in zip(
            pairs.seller, pairs.buyer, pairs.symbol, pairs.trades, pairs.qty, strict=True
        )
    ]
    assert got == [
        ("A1", "A2", "BTC_USDT", 1, 3.0),
        ("A2", "A1", "BTC_USDT", 2, 3.0),
        ("A3", "A3", "ETH_USDT", 1, 1.0),
    ]


def test_projections_of_an_empty_store(store: FalkorEmbedded) -> None:
    accounts = read_accounts(store)
    assert accounts.ids == []
    assert len(read_trade_pairs(store, accounts).seller) == 0
    assert len(read_memberships(store, accounts, "ip").account) == 0
