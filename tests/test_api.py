"""The HTTP API over real HTTP (uvicorn on loopback) on the real embedded store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.config import AnalysisConfig
from analytics.projection import read_accounts, read_sanctions
from analytics.run import analyze
from analytics.writeback import previous_groups, write_analysis
from api.keys import KeyStore
from api.main import create_app
from graph.falkor_embedded import FalkorEmbedded
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import analysed_graph, drop

ROLES = ("enforcement", "investigator", "analyst", "admin")


class Api:
    def __init__(
        self, url: str, keys: dict[str, str], store: FalkorEmbedded, keystore: KeyStore
    ) -> None:
        self.url, self.keys, self.store, self.keystore = url, keys, store, keystore
        self.http = httpx.Client(base_url=url, timeout=60)

    def call(self, method: str, path: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return self.http.request(method, path, headers=headers, **kw)


@pytest.fixture(scope="module")
def api(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("api")
    store = analysed_graph(store_path, "api", tmp, accounts=4_000, seed=5)
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="api", keys_file=str(tmp / "keys.json"),
        cypher_max_rows=100,
    )  # fmt: skip
    keystore = KeyStore(tmp / "keys.json")
    keys = {role: keystore.create(role, f"test {role}")[1] for role in ROLES}
    with serving(create_app(settings)) as url:
        yield Api(url, keys, store, keystore)
    drop(store)
    store.close()


def _error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == status
    if code:
        assert body["error"]["code"] == code
    assert "Traceback" not in response.text
    assert not any(
        internal in response.text for internal in ("MATCH (g:Group", "WITH $", "id(a) =")
    )


def test_keys_are_required_and_checked(api: Api) -> None:
    _error(api.call("GET", "/v1/groups", role=None), 401, "unauthenticated")
    bad = api.http.get("/v1/groups", headers={"Authorization": "Bearer lsk_nope_nothing"})
    _error(bad, 401)
    key_id, plain = api.keystore.create("analyst")
    assert (
        api.http.get("/v1/groups", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    )
    api.keystore.revoke(key_id)
    _error(api.http.get("/v1/groups", headers={"Authorization": f"Bearer {plain}"}), 401)
    stored = (Path(api.keystore.path)).read_text()
    assert plain.split("_", 2)[2] not in stored  # only the hash is kept


ROUTES: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("GET", "/v1/groups", {}, {"enforcement", "investigator", "analyst", "admin"}),
    ("GET", "/v1/groups/{gid}", {}, {"enforcement", "investigator", "analyst", "admin"}),
    ("GET", "/v1/groups/{gid}/decisions", {}, {"enforcement", "investigator", "analyst", "admin"}),
    (
        "POST",
        "/v1/groups/{gid}/decisions",
        {"json": {"decision": "escalate", "note": "n"}},
        {"investigator", "admin"},
    ),
    (
        "POST",
        "/v1/groups/{gid}/decisions",
        {"json": {"decision": "action_taken", "action": "request_report"}},
        {"enforcement", "admin"},
    ),
    ("GET", "/v1/accounts/{aid}", {}, {"investigator", "analyst", "admin"}),
    ("GET", "/v1/accounts/{aid}/group", {}, {"enforcement", "investigator", "analyst", "admin"}),
    ("GET", "/v1/accounts/{aid}/neighborhood", {}, {"investigator", "analyst", "admin"}),
    ("GET", "/v1/accounts/{aid}/trades", {}, {"investigator", "analyst", "admin"}),
    ("GET", "/v1/accounts/{aid}/orders", {}, {"investigator", "analyst", "admin"}),
    ("POST", "/v1/cypher", {"json": {"query": "RETURN 1"}}, {"analyst", "admin"}),
    ("GET", "/v1/runs", {}, {"analyst", "admin"}),
    ("GET", "/v1/audit", {}, {"admin"}),
]


def _top_group(api: Api) -> dict[str, Any]:
    items = api.call("GET", "/v1/groups", params={"verdict": "violation"}).json()["items"]
    return dict(items[0])


def test_every_route_refuses_the_roles_it_should(api: Api) -> None:
    group = _top_group(api)
    member = api.call("GET", f"/v1/groups/{group['group_id']}").json()["members"][0]["account_id"]
    for method, path, kw, allowed in ROUTES:
        url = path.format(gid=group["group_id"], aid=member)
        for role in ROLES:
            response = api.call(method, url, role=role, **kw)
            if role in allowed:
                assert response.status_code in (200, 201), (method, url, role, response.text)
            else:
                _error(response, 403, "forbidden")


def test_group_listing_filters_and_pages_without_gaps(api: Api) -> None:
    for sort in ("priority", "score"):  # priority is the default order
        params0: dict[str, Any] = {"limit": 500} | ({"sort": sort} if sort == "score" else {})
        everything = api.call("GET", "/v1/groups", params=params0).json()
        assert everything["next_cursor"] is None and len(everything["items"]) >= 5
        keys = [(-g[sort], g["group_id"]) for g in everything["items"]]
        assert keys == sorted(keys)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3, "sort": sort} if cursor is None else {}
            page = api.call("GET", "/v1/groups", params=params | {"cursor": cursor}).json()
            seen += [g["group_id"] for g in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [g["group_id"] for g in everything["items"]]
    violations = api.call(
        "GET", "/v1/groups", params={"verdict": "violation", "min_score": 0.7}
    ).json()["items"]
    assert violations and all(g["verdict"] == "violation" and g["score"] >= 0.7 for g in violations)
    washing = api.call("GET", "/v1/groups", params={"clause": "wash_trading"}).json()["items"]
    assert washing and all("wash_trading" in g["clauses"] for g in washing)
    future = api.call(
        "GET", "/v1/groups", params={"changed_since": int(time.time() * 1000) + 10**6}
    )
    assert future.json()["items"] == []
    _error(api.call("GET", "/v1/groups", params={"cursor": "garbage!"}), 400)
    _error(api.call("GET", "/v1/groups", params={"min_score": 3}), 422, "invalid_request")
    # a misspelt clause is refused, not answered with an empty page
    _error(api.call("GET", "/v1/groups", params={"clause": "wash_trade"}), 422, "invalid_request")
    _error(api.call("GET", "/v1/groups", params={"clause": "false"}), 422, "invalid_request")


def test_pagination_is_stable_while_a_reanalysis_runs(api: Api) -> None:
    first = api.call("GET", "/v1/groups", params={"limit": 4}).json()
    run_id = first["run_id"]
    cfg = AnalysisConfig()
    new_run = write_analysis(api.store, analyze(api.store, cfg, previous_groups(api.store)), cfg)
    assert new_run != run_id
    seen = [g["group_id"] for g in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.call("GET", "/v1/groups", params={"limit": 4, "cursor": cursor}).json()
        assert page["run_id"] == run_id and all(g["run_id"] == run_id for g in page["items"])
        seen += [g["group_id"] for g in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    whole_old_run = api.call("GET", "/v1/groups", params={"limit": 500, "run_id": run_id}).json()[
        "items"
    ]
    assert seen == [g["group_id"] for g in whole_old_run]
    time.sleep(1.1)  # the API reads which run is current at most once a second
    current = api.call("GET", "/v1/groups", params={"limit": 500}).json()
    assert current["run_id"] == new_run
    assert {g["group_id"] for g in current["items"]} == set(seen)  # stable ids across runs
    assert all(g["lineage"] == "unchanged" for g in current["items"])


def test_group_detail_account_views_and_neighborhood(api: Api) -> None:
    cfg = AnalysisConfig()  # a second run: earlier runs' groups stay in the graph as history
    write_analysis(api.store, analyze(api.store, cfg, previous_groups(api.store)), cfg)
    time.sleep(1.1)  # the API reads which run is current at most once a second
    gid = _top_group(api)["group_id"]
    detail = api.call("GET", f"/v1/groups/{gid}").json()
    assert detail["evidence"]["links"] is not None and detail["reasons"]
    assert detail["member_count"] == len(detail["members"]) >= 2
    member = detail["members"][0]["account_id"]
    _error(api.call("GET", "/v1/groups/G-doesnotexist"), 404, "not_found")

    group = api.call("GET", f"/v1/accounts/{member}/group", role="enforcement").json()
    assert group["group_id"] == gid
    profile = api.call("GET", f"/v1/accounts/{member}").json()
    assert profile["group_id"] == gid and profile["identifiers"]
    assert all(0 <= i["specificity"] <= 1 and i["shared_by"] >= 1 for i in profile["identifiers"])
    _error(api.call("GET", "/v1/accounts/NOPE"), 404)

    hood = api.call(
        "GET", f"/v1/accounts/{member}/neighborhood", params={"depth": 2, "limit": 40}
    ).json()
    ids = {n["id"] for n in hood["nodes"]}
    assert len(ids) == len(hood["nodes"])  # unique, also with earlier runs' groups kept
    assert f"Account:{member}" in ids and len(ids) <= 40
    assert all(e["source"] in ids and e["target"] in ids for e in hood["edges"])
    assert any(e["type"] == "MEMBER_OF" for e in hood["edges"])
    narrow = api.call(
        "GET", f"/v1/accounts/{member}/neighborhood", params={"rel": "USED_DEVICE"}
    ).json()
    assert {e["type"] for e in narrow["edges"]} <= {"USED_DEVICE"}
    _error(api.call("GET", f"/v1/accounts/{member}/neighborhood", params={"rel": "DROP"}), 400)


def test_decisions_are_recorded_audited_and_feed_history(api: Api) -> None:
    gid = _top_group(api)["group_id"]
    made = api.call(
        "POST",
        f"/v1/groups/{gid}/decisions",
        role="investigator",
        json={"decision": "confirm", "note": "ring confirmed"},
    )
    assert made.status_code == 201
    decision = made.json()
    assert decision["by_role"] == "investigator" and decision["verdict"] == "violation"
    _error(
        api.call(
            "POST", f"/v1/groups/{gid}/decisions", role="enforcement", json={"decision": "confirm"}
        ),
        403,
    )
    _error(
        api.call(
            "POST",
            f"/v1/groups/{gid}/decisions",
            role="enforcement",
            json={"decision": "action_taken"},
        ),
        400,
    )
    _error(
        api.call(
            "POST", f"/v1/groups/{gid}/decisions", role="investigator", json={"decision": "maybe"}
        ),
        422,
    )
    history = api.call("GET", f"/v1/groups/{gid}/decisions", role="enforcement").json()
    assert decision["decision_id"] in {d["decision_id"] for d in history}
    assert decision["run_id"] == api.call("GET", f"/v1/groups/{gid}").json()["run_id"]
    audit = api.call("GET", "/v1/audit").json()
    assert any(e["action"] == "decision:confirm" and e["target"] == f"group:{gid}" for e in audit)
    # The confirmation is enforcement history for these accounts from now on.
    accounts = read_accounts(api.store)
    sanctions = read_sanctions(api.store, accounts)
    members = {m["account_id"] for m in api.call("GET", f"/v1/groups/{gid}").json()["members"]}
    warned = {
        accounts.ids[a]
        for a, act in zip(sanctions.account, sanctions.action, strict=True)
        if act == "warning"
    }
    assert members <= warned


WRITES = [
    "CREATE (:Evil {x: 1})",
    "MERGE (:Evil {x: 1})",
    "MATCH (a:Account) SET a.status = 'closed'",
    "MATCH (a:Account) DELETE a",
    "MATCH (a:Account) DETACH DELETE a",
    "MATCH (a:Account) REMOVE a.status",
    "CREATE INDEX FOR (n:Evil) ON (n.x)",
    "DROP INDEX ON :Account(account_id)",
    "CALL db.idx.fulltext.createNodeIndex('Account', 'country')",
    "MATCH (a:Account) WITH a LIMIT 1 CREATE (a)-[:EVIL]->(a)",
]


def test_cypher_reads_and_refuses_every_write(api: Api) -> None:
    ok = api.call(
        "POST",
        "/v1/cypher",
        role="analyst",
        json={
            "query": "MATCH (a:Account) WHERE a.account_id = $id RETURN a.account_id, a",
            "params": {"id": "U0000001"},
        },
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["columns"][0] == "a.account_id" and body["rows"][0][0] == "U0000001"
    before = api.store.read("MATCH (n) RETURN count(n)").scalar()
    for query in WRITES:
        response = api.call("POST", "/v1/cypher", role="analyst", json={"query": query})
        assert response.status_code == 400, (query, response.text)
        assert response.json()["error"]["code"] in ("read_only", "query_error"), query
    assert api.store.read("MATCH (n) RETURN count(n)").scalar() == before
    assert api.store.read("MATCH (a:Account {status: 'closed'}) RETURN count(a)").scalar() == 0
    _error(
        api.call("POST", "/v1/cypher", role="analyst", json={"query": "MATC (n) RETURN n"}),
        400,
        "query_error",
    )
    capped = api.call(
        "POST", "/v1/cypher", role="analyst", json={"query": "UNWIND range(1, 1000) AS x RETURN x"}
    ).json()
    assert capped["truncated"] is True and len(capped["rows"]) == 100
    slow = api.call(
        "POST", "/v1/cypher", role="analyst",
        json={"query": "MATCH (a:Account), (b:Account), (c:Account) RETURN count(*)", "timeout_ms": 50},
    )  # fmt: skip
    _error(slow, 408, "query_timeout")


def test_health_ready_and_error_shape(api: Api) -> None:
    assert api.http.get("/health").json() == {"status": "ok"}
    assert api.http.get("/ready").json() == {"status": "ready"}
    _error(api.call("GET", "/v1/nothing-here"), 404)
    _error(api.call("POST", "/v1/cypher", role="analyst", json={"nope": 1}), 422, "invalid_request")
    schema = api.http.get("/openapi.json").json()
    assert "/v1/groups" in schema["paths"] and "GroupSummary" in schema["components"]["schemas"]


def test_an_admin_starts_a_run_and_watches_it(api: Api) -> None:
    started = api.call("POST", "/v1/runs")
    assert started.status_code == 202
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = api.call("GET", "/v1/runs", role="analyst").json()
        if runs and runs[0]["status"] == "current" and runs[0]["run_id"].startswith("A"):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the run did not finish: {runs[:2]}")
    assert any(e["action"] == "run:start" for e in api.call("GET", "/v1/audit").json())
