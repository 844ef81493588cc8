"""The drill-down reads over real HTTP on real stores: what links two accounts, one trade with
its orders, an account's transfers and logins paged, and the data the UI colours and labels by
(timeline kinds, decisions' key names, quote assets, ego-network groups)."""

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

# R1 -> R2 three times, R2 -> R1 once; each transfer reported by both sides.
TRANSFERS = [("R1", "R2", T0 + 1 * HOUR, 250.0), ("R1", "R2", T0 + 2 * HOUR, 125.5),
             ("R2", "R1", T0 + 3 * HOUR, 80.0), ("R1", "R2", T0 + 4 * HOUR, 40.25)]  # fmt: skip
SHARED_IP = "10.99.99.99"


@pytest.fixture(scope="module")
def api(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("api_drill")
    data = Data()
    market(data, users=12)
    for aid in ("R1", "R2", "R3"):
        data.account(aid)
    for k in range(5):
        ts = T0 + k * 5 * HOUR + 17_000
        data.trade("R1", "R2", ts, 3.0, "ETH_USDT")
        data.trade("R2", "R3", ts + 2_000, 3.0, "ETH_USDT")
        data.trade("R3", "R1", ts + 4_000, 3.0, "ETH_USDT")
    for n, (src, dst, ts, amount) in enumerate(TRANSFERS):
        data.funding.append([f"T{n}-out", src, ts, "withdrawal", "internal", dst, "USDT", amount])
        data.funding.append([f"T{n}-in", dst, ts, "deposit", "internal", src, "USDT", amount])
    for aid, ts in (("R1", T0 + 5 * HOUR), ("R1", T0 + 9 * HOUR), ("R2", T0 + 7 * HOUR)):
        data.logins.append([aid, ts, SHARED_IP, f"dev-{aid}", "ua", "web"])
    store = FalkorEmbedded(store_path, "api_drill")
    ingest_directory(data.write(tmp / "in"), store)
    cfg = AnalysisConfig()
    write_analysis(store, analyze(store, cfg), cfg)
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="api_drill", keys_file=str(tmp / "keys.json")
    )
    keystore = KeyStore(tmp / "keys.json")
    keys = {r: keystore.create(r, f"{r} of the drill")[1] for r in ("investigator", "enforcement")}
    with serving(create_app(settings)) as url:
        yield {"http": httpx.Client(base_url=url, timeout=60), "keys": keys, "store": store}
    drop(store)
    store.close()


def _get(api: dict[str, Any], path: str, role: str = "investigator", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {api['keys'][role]}"}
    return api["http"].get(path, headers=headers, params=params)


def _all(api: dict[str, Any], path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = _get(api, path, **params, **({"cursor": cursor} if cursor else {})).json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_a_link_shows_each_transfer_once_with_its_amount_and_shared_identifiers(
    api: dict[str, Any],
) -> None:
    response = _get(api, "/v1/links", a="R1", b="R2")
    assert response.status_code == 200, response.text
    link = response.json()
    got = [(t["source"], t["target"], t["ts"], t["amount"], t["asset"]) for t in link["transfers"]]
    assert got == [(s, d, ts, amount, "USDT") for s, d, ts, amount in TRANSFERS]
    # The sender's withdrawal and the receiver's deposit are one transfer reported twice.
    assert all(sorted(t["reported_by"]) == ["R1", "R2"] for t in link["transfers"])
    ip = next(i for i in link["identifiers"] if i["kind"] == "IP" and i["value"] == SHARED_IP)
    uses = {u["account"]: u for u in ip["uses"]}
    assert uses["R1"]["count"] == 2 and uses["R1"]["first"] == T0 + 5 * HOUR
    assert uses["R1"]["last"] == T0 + 9 * HOUR and uses["R2"]["times"] == [T0 + 7 * HOUR]
    assert _get(api, "/v1/links", a="R1", b="nobody").status_code == 404
    assert _get(api, "/v1/links", role="enforcement", a="R1", b="R2").status_code == 403


def test_an_accounts_transfers_and_logins_page_through_without_gaps_or_doubles(
    api: dict[str, Any],
) -> None:
    for limit in (1, 2, 3, 100):
        transfers = _all(api, "/v1/accounts/R1/transfers", limit=limit)
        assert [(t["source"], t["target"], t["ts"]) for t in transfers] == [
            (s, d, ts) for s, d, ts, _ in TRANSFERS
        ], limit
    logins = _all(api, "/v1/accounts/R1/logins", limit=1)
    assert [(x["ts"], x["ip"]) for x in logins if x["ip"] == SHARED_IP] == [
        (T0 + 5 * HOUR, SHARED_IP), (T0 + 9 * HOUR, SHARED_IP)
    ]  # fmt: skip
    assert [x["ts"] for x in logins] == sorted(x["ts"] for x in logins)
    assert _get(api, "/v1/accounts/nobody/transfers").status_code == 404


def test_one_trade_with_both_sides_and_its_orders(api: dict[str, Any]) -> None:
    fill = _get(api, "/v1/accounts/R1/trades", limit=1).json()["items"][0]
    response = _get(api, f"/v1/trades/{fill['trade_id']}")
    assert response.status_code == 200, response.text
    trade = response.json()
    assert trade["trade"] == fill
    wanted = {o for o in (fill["buy_order_id"], fill["sell_order_id"]) if o}
    assert {o["order_id"] for o in trade["orders"]} == wanted
    assert _get(api, "/v1/trades/no-such-trade").status_code == 404
    assert _get(api, f"/v1/trades/{fill['trade_id']}", role="enforcement").status_code == 403


def test_timeline_holds_transfers_once_and_the_listing_its_quote_asset(api: dict[str, Any]) -> None:
    group = _get(api, "/v1/accounts/R1/group").json()
    events = _get(api, f"/v1/groups/{group['group_id']}/timeline", limit=2000).json()
    members = {m["account_id"] for m in _get(api, f"/v1/groups/{group['group_id']}").json()["members"]}
    moved = [(e["account"], e["counterparty"], e["ts"]) for e in events if e["kind"] == "transfer"]
    expected = [(s, d, ts) for s, d, ts, _ in TRANSFERS if {s, d} <= members]
    assert moved == expected and moved
    assert all(e["ref"] for e in events if e["kind"] in ("trade", "transfer"))
    listing = _get(api, "/v1/groups").json()
    assert listing["quote_assets"] == ["USDT"]


def test_decisions_carry_the_keys_name(api: dict[str, Any]) -> None:
    group = _get(api, "/v1/accounts/R1/group").json()
    headers = {"Authorization": f"Bearer {api['keys']['investigator']}"}
    made = api["http"].post(f"/v1/groups/{group['group_id']}/decisions", headers=headers,
                            json={"decision": "confirm", "note": "named"})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["by_name"] == "investigator of the drill"
    listed = _get(api, f"/v1/groups/{group['group_id']}/decisions").json()
    assert [d["by_name"] for d in listed if d["note"] == "named"] == ["investigator of the drill"]


def test_ego_items_carry_group_and_verdict_and_readable_titles(api: dict[str, Any]) -> None:
    group = _get(api, "/v1/accounts/R1/group").json()
    view = _get(api, "/v1/accounts/R2/neighborhood/view", subject="R1").json()
    accounts = {n["key"]: n for n in view["nodes"] if n["kind"] == "Account"}
    assert accounts["R1"]["group_id"] == group["group_id"]
    assert accounts["R1"]["group"] == group["verdict"] and accounts["R1"].get("subject") is True
    assert "api_authorized: no" in accounts["R2"]["title"]
    assert "created_at: 20" in accounts["R2"]["title"] and "Z" in accounts["R2"]["title"]
    transfer = next(e for e in view["edges"] if e["rel"] == "TRANSFER")
    assert "amount" in transfer["title"] and "ts 20" in transfer["title"]
