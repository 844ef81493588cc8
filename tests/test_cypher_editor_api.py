"""The Cypher editor's endpoints over real HTTP on the real embedded store: the live schema,
saved queries per key (audited) and the example investigations, each run on the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.keys import KeyStore
from api.main import create_app
from linkscope.settings import Settings
from testing.api_server import serving
from tests.test_temporal_cycles import PLANTED, planted  # noqa: F401  (generated, analysed store)


@pytest.fixture(scope="module")
def site(
    planted: Any,  # noqa: F811
    store_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    tmp = tmp_path_factory.mktemp("cypher_editor")
    keystore = KeyStore(tmp / "keys.json")
    roles = ("analyst", "investigator", "admin")
    keys = {r: keystore.create(r)[1] for r in roles}
    keys["analyst2"] = keystore.create("analyst")[1]
    settings = Settings(
        store=f"embedded:{store_path}",
        graph_name="cycles_planted",
        keys_file=str(tmp / "keys.json"),
    )
    with serving(create_app(settings)) as url:
        yield (
            httpx.Client(base_url=url, timeout=60),
            {r: {"Authorization": f"Bearer {k}"} for r, k in keys.items()},
        )


def test_schema_lists_what_the_graph_holds(site: Any) -> None:
    client, auth = site
    r = client.get("/v1/cypher/schema", headers=auth["analyst"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"Account", "Device", "IP", "Group"} <= set(body["labels"])
    assert {"USED_DEVICE", "TRANSFER", "TRADES_WITH", "MEMBER_OF"} <= set(
        body["relationship_types"]
    )
    assert {"account_id", "device_id", "group_id"} <= set(body["property_keys"])
    assert client.get("/v1/cypher/schema", headers=auth["investigator"]).status_code == 403


def test_saved_queries_are_per_key_and_audited(site: Any) -> None:
    client, auth = site
    name = "devices of a/group?"  # any text: it travels as one encoded path segment
    path = "/v1/cypher/saved/devices%20of%20a%2Fgroup%3F"
    body = {"query": "MATCH (a:Account {account_id: $id}) RETURN a", "params": {"id": "U1"}}
    r = client.put(path, json=body, headers=auth["analyst"])
    assert r.status_code == 200, r.text
    mine = client.get("/v1/cypher/saved", headers=auth["analyst"]).json()
    assert [(s["name"], s["query"], s["params"]) for s in mine] == [
        (name, body["query"], body["params"])
    ]
    assert client.get("/v1/cypher/saved", headers=auth["analyst2"]).json() == []
    # Replacing keeps one entry.
    body["query"] = "MATCH (a:Account {account_id: $id}) RETURN a.account_id"
    client.put(path, json=body, headers=auth["analyst"]).raise_for_status()
    assert [s["query"] for s in client.get("/v1/cypher/saved", headers=auth["analyst"]).json()] == [
        body["query"]
    ]
    bad = client.put(
        "/v1/cypher/saved/x",
        json={"query": "RETURN 1", "params": {"a b": 1}},
        headers=auth["analyst"],
    )
    assert bad.status_code == 422
    assert (
        client.put("/v1/cypher/saved/x", json=body, headers=auth["investigator"]).status_code == 403
    )
    gone = client.delete(path, headers=auth["analyst"])
    assert gone.status_code == 204
    assert client.get("/v1/cypher/saved", headers=auth["analyst"]).json() == []
    assert client.delete(path, headers=auth["analyst"]).status_code == 404
    audit = client.get("/v1/audit", headers=auth["admin"]).json()
    actions = [(e["action"], e["target"]) for e in audit]
    assert ("cypher:save", f"saved_query:{name}") in actions
    assert ("cypher:delete", f"saved_query:{name}") in actions


def test_every_example_runs_on_the_embedded_store(site: Any) -> None:
    client, auth = site
    examples = client.get("/v1/cypher/examples", headers=auth["analyst"]).json()
    assert len(examples) >= 3
    group = client.post(
        "/v1/cypher",
        json={"query": "MATCH (a:Account)-[:MEMBER_OF]->(g:Group {current: true}) "
              "MATCH (a)-[:USED_DEVICE]->(:Device)<-[:USED_DEVICE]-(o:Account) "
              "WHERE NOT (o)-[:MEMBER_OF]->(g) RETURN g.group_id LIMIT 1"},
        headers=auth["analyst"],
    ).json()["rows"]  # fmt: skip
    values = {"group_id": group[0][0] if group else "", "from": PLANTED[2], "to": PLANTED[3]}
    rows = {}
    for example in examples:
        params = {k: values.get(k, v) for k, v in example["params"].items()}
        r = client.post(
            "/v1/cypher",
            json={"query": example["query"], "params": params},
            headers=auth["analyst"],
        )
        assert r.status_code == 200, (example["name"], r.text)
        rows[example["name"]] = r.json()["rows"]
    assert rows["Money paths between two accounts"]  # the planted internal transfer
    assert rows["Groups whose members were sanctioned before"]
    assert group and rows["Accounts sharing a device with a group"]
