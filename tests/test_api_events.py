"""Fills and orders through the HTTP API, read from the event store (real HTTP, real stores)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.config import AnalysisConfig
from analytics.run import analyze
from analytics.writeback import write_analysis
from api.keys import KeyStore
from api.main import create_app
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import drop
from tests.test_detection import HOUR, T0, Data, market


@pytest.fixture(scope="module")
def api(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("api_events")
    data = Data()
    market(data, users=12)
    for aid in ("R1", "R2", "R3"):
        data.account(aid)
    for k in range(5):
        ts = T0 + k * 5 * HOUR + 17_000
        data.trade("R1", "R2", ts, 3.0, "ETH_USDT")
        data.trade("R2", "R3", ts + 2_000, 3.0, "ETH_USDT")
        data.trade("R3", "R1", ts + 4_000, 3.0, "ETH_USDT")
    data.trade("U01", "R1", T0 + 40 * HOUR, 1.0, "BTC_USDT")
    for n in range(7):
        status = "cancelled" if n % 2 else "filled"
        data.orders.append(
            [f"O{n}", "R1", "ETH_USDT", "buy", "limit", 100.0, 3.0, T0 + n * HOUR,
             T0 + n * HOUR + 500, status, 0.0 if n % 2 else 3.0, "web"]
        )  # fmt: skip
    store = FalkorEmbedded(store_path, "api_events")
    ingest_directory(data.write(tmp / "in"), store)
    cfg = AnalysisConfig()
    write_analysis(store, analyze(store, cfg), cfg)
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="api_events", keys_file=str(tmp / "keys.json")
    )
    keystore = KeyStore(tmp / "keys.json")
    keys = {r: keystore.create(r)[1] for r in ("investigator", "enforcement")}
    with serving(create_app(settings)) as url:
        yield {"http": httpx.Client(base_url=url, timeout=60), "keys": keys}
    drop(store)
    store.close()


def _get(api: dict[str, Any], path: str, role: str = "investigator", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {api['keys'][role]}"}
    return api["http"].get(path, headers=headers, params=params)


def _all_pages(api: dict[str, Any], path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = _get(api, path, **params, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_an_accounts_fills_page_through_without_gaps(api: dict[str, Any]) -> None:
    fills = _all_pages(api, "/v1/accounts/R1/trades", limit=3)
    assert len(fills) == 11  # 10 ring fills (as seller or buyer) and one with U01
    assert [f["ts"] for f in fills] == sorted(f["ts"] for f in fills)
    assert len({f["trade_id"] for f in fills}) == 11
    assert all("R1" in (f["seller_id"], f["buyer_id"]) for f in fills)
    with_r3 = _all_pages(api, "/v1/accounts/R1/trades", counterparty="R3", limit=2)
    assert len(with_r3) == 5 and {f["seller_id"] for f in with_r3} == {"R3"}
    btc = _all_pages(api, "/v1/accounts/R1/trades", symbol="BTC_USDT")
    assert [(f["seller_id"], f["buyer_id"], f["qty"]) for f in btc] == [("U01", "R1", 1.0)]
    window = _all_pages(api, "/v1/accounts/R1/trades", since=T0, until=T0 + 5 * HOUR)
    assert len(window) == 2  # the first cycle: R1 sells to R2, buys from R3


def test_an_accounts_orders_filter_by_status_and_time(api: dict[str, Any]) -> None:
    orders = _all_pages(api, "/v1/accounts/R1/orders", limit=2)
    assert [o["order_id"] for o in orders] == [f"O{n}" for n in range(7)]
    cancelled = _all_pages(api, "/v1/accounts/R1/orders", status="cancelled")
    assert [o["order_id"] for o in cancelled] == ["O1", "O3", "O5"]
    late = _all_pages(api, "/v1/accounts/R1/orders", since=T0 + 4 * HOUR)
    assert [o["order_id"] for o in late] == ["O4", "O5", "O6"]
    assert _all_pages(api, "/v1/accounts/R2/orders") == []


def test_errors_and_roles(api: dict[str, Any]) -> None:
    assert _get(api, "/v1/accounts/nobody/trades").status_code == 404
    assert _get(api, "/v1/accounts/R1/trades", cursor="not-a-cursor").status_code == 400
    assert _get(api, "/v1/accounts/R1/orders", status="gone").status_code == 422
    assert _get(api, "/v1/accounts/R1/trades", role="enforcement").status_code == 403


def test_the_group_timeline_shows_the_fills_among_members(api: dict[str, Any]) -> None:
    group = _get(api, "/v1/accounts/R1/group").json()
    timeline = _get(api, f"/v1/groups/{group['group_id']}/timeline").json()
    trades = [e for e in timeline if e["kind"] == "trade"]
    assert len(trades) == 15
    assert {(e["account"], e["counterparty"]) for e in trades} == {
        ("R1", "R2"), ("R2", "R3"), ("R3", "R1")
    }  # fmt: skip
