"""Ids of any shape reach the API over real HTTP; parameter values the store cannot keep are
refused (422); HEAD probes; security headers on every response."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from api.keys import KeyStore
from api.main import create_app
from graph.backend import GraphBackend
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import drop
from tests.hostile import HOSTILE_GROUP_ID, HOSTILE_IDS, hostile_graph


class Client:
    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.auth = {"Authorization": f"Bearer {key}"}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers=self.auth, **kw)

    def cypher(self, query: str, params: Any) -> httpx.Response:
        body = {"query": query, "params": params}
        return self.http.post("/v1/cypher", headers=self.auth, json=body)


@pytest.fixture(scope="module")
def client(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    tmp = tmp_path_factory.mktemp("ids")
    store, _ = hostile_graph(store_path, "ids", tmp)
    _, key = KeyStore(tmp / "keys.json").create("admin")
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="ids", keys_file=str(tmp / "keys.json")
    )
    with serving(create_app(settings)) as url:
        yield Client(url, key)
    drop(store)
    store.close()


def _seg(value: str) -> str:
    return quote(value, safe="")


@pytest.mark.parametrize("account_id", HOSTILE_IDS)
def test_every_account_id_is_reachable(client: Client, account_id: str) -> None:
    base = f"/v1/accounts/{_seg(account_id)}"
    profile = client.get(base)
    assert profile.status_code == 200, profile.text
    assert profile.json()["account_id"] == account_id
    group = client.get(f"{base}/group")
    if profile.json()["group_id"] is None:
        assert group.status_code == 404 and "in no group" in group.json()["error"]["message"]
    else:
        assert group.status_code == 200, group.text
        assert group.json()["group_id"] == profile.json()["group_id"]
    hood = client.get(f"{base}/neighborhood")
    assert hood.status_code == 200, hood.text
    assert hood.json()["nodes"][0]["id"] == f"Account:{account_id}"
    view = client.get(f"{base}/neighborhood/view")
    assert view.status_code == 200 and view.json()["nodes"][0]["key"] == account_id
    page = client.get(f"{base}/graph")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    fills = client.get(f"{base}/trades", params={"limit": 1000})
    assert fills.status_code == 200, fills.text
    items = fills.json()["items"]
    assert items and all(account_id in (f["seller_id"], f["buyer_id"]) for f in items)
    assert client.get(f"{base}/orders").status_code == 200


def test_an_id_that_looks_like_a_route_is_not_one(client: Client) -> None:
    # "a/b" encoded is one id; "a/b" plain is the path of another route (or none).
    assert client.get("/v1/accounts/a%2Fb").json()["account_id"] == "a/b"
    missing = client.get("/v1/accounts/a%2Fgraph")
    assert missing.status_code == 404 and "'a/graph'" in missing.json()["error"]["message"]
    literal = client.get(f"/v1/accounts/{_seg('ünï/cødé ✓ %2F')}")
    assert literal.json()["account_id"] == "ünï/cødé ✓ %2F"  # an encoded "%2F" stays text
    dots = client.get("/v1/accounts/%2E%2E")  # reaches the route as id ".." (no such account)
    assert dots.status_code == 404 and "'..'" in dots.json()["error"]["message"]


def test_group_ids_of_any_shape_are_reachable(client: Client) -> None:
    listed = [g["group_id"] for g in client.get("/v1/groups?limit=500").json()["items"]]
    assert HOSTILE_GROUP_ID in listed
    base = f"/v1/groups/{_seg(HOSTILE_GROUP_ID)}"
    detail = client.get(base)
    assert detail.status_code == 200, detail.text
    assert detail.json()["group_id"] == HOSTILE_GROUP_ID
    for tail in ("/decisions", "/timeline", "/graph"):
        assert client.get(base + tail).status_code == 200, tail
    made = client.http.post(
        base + "/decisions", headers=client.auth, json={"decision": "confirm", "note": "x"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["group_id"] == HOSTILE_GROUP_ID
    gone = client.get(f"/v1/groups/{_seg('no/such?group#')}")
    assert gone.status_code == 404 and "no/such?group#" in gone.json()["error"]["message"]


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"m": {"a`b": 1}}, "backtick"),
        ({"m": {"": 1}}, "non-empty"),
        ({"m": [{"ok": {"`": 1}}]}, "backtick"),
        ({"deep": _nested(500)}, "nested"),
        ({"deep": {"k": _nested(40)}}, "nested"),
        ({"big": 123456789012345678901234567890}, "64-bit"),
        ({"big": [2**63]}, "64-bit"),
        ({"small": {"k": -(2**63) - 1}}, "64-bit"),
    ],
)
def test_parameter_values_the_store_cannot_keep_are_422(
    client: Client, params: dict[str, Any], fragment: str
) -> None:
    response = client.cypher("RETURN 1", params)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"]["message"]


def test_not_a_number_is_422(client: Client) -> None:
    body = '{"query": "RETURN $x", "params": {"x": NaN}}'
    headers = {**client.auth, "Content-Type": "application/json"}
    response = client.http.post("/v1/cypher", headers=headers, content=body)
    assert response.status_code == 422, response.text


def test_int64_bounds_and_odd_keys_round_trip(client: Client) -> None:
    params = {"hi": 2**63 - 1, "lo": -(2**63), "m": {"a b": 1, "é-ü": [1, {"x.y": 2}]}}
    response = client.cypher("RETURN $hi, $lo, $m", params)
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [[2**63 - 1, -(2**63), params["m"]]]


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_head_answers_like_get_without_a_body(client: Client, path: str) -> None:
    got = client.http.get(path)
    head = client.http.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_security_headers_on_every_response(client: Client) -> None:
    responses = {
        "ui": client.http.get("/"),
        "static": client.http.get("/static/app.js"),
        "api": client.get("/v1/groups"),
        "401": client.http.get("/v1/groups"),
        "404": client.get("/v1/nothing/here"),
        "405": client.http.delete("/health"),
        "422": client.cypher("RETURN 1", {"bad name": 1}),
        "health": client.http.get("/health"),
        "view": client.get("/v1/graph/blank"),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "no-referrer", name
        csp = {d.split()[0]: d.split()[1:] for d in headers["content-security-policy"].split("; ")}
        assert csp["default-src"] == ["'none'"], name
        assert csp["connect-src"] == ["'self'"] and csp["frame-ancestors"] == ["'self'"], name
        assert "'unsafe-inline'" not in csp["script-src"] + csp["style-src"], name
        assert "'unsafe-eval'" not in csp["script-src"], name
        assert all(s == "'self'" or s.startswith("'sha256-") for s in csp["script-src"]), name
    view_csp = responses["view"].headers["content-security-policy"]
    assert "sandbox allow-scripts" in view_csp
    # The API's own docs start with inline code (their own policy), and load every file from
    # this origin: they work on a machine without internet.
    assert client.http.get("/redoc").status_code == 404  # its bundle shows a logo from a CDN
    for path, asset in (("/docs", "swagger-ui-bundle.js"),):
        page = client.http.get(path)
        assert page.status_code == 200 and page.headers["x-content-type-options"] == "nosniff"
        assert "http://" not in page.headers["content-security-policy"]
        assert "https://" not in page.headers["content-security-policy"]
        assert "cdn.jsdelivr.net" not in page.text and "fonts.googleapis" not in page.text
        assert f'src="/docs-assets/{asset}"' in page.text, page.text
        script = client.http.get(f"/docs-assets/{asset}")
        assert script.status_code == 200 and len(script.content) > 100_000


def test_security_headers_on_an_unexpected_500(tmp_path: Path) -> None:
    def broken(_: Settings) -> GraphBackend:
        raise RuntimeError("not a store error: answered by the generic 500 handler")

    app = create_app(Settings(keys_file=str(tmp_path / "keys.json")), opener=broken)
    with serving(app) as url:
        response = httpx.get(url + "/ready", timeout=30)
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("account_id", [HOSTILE_IDS[0], HOSTILE_IDS[1], HOSTILE_IDS[5]])
def test_view_pages_escape_ids_for_each_context(client: Client, account_id: str) -> None:
    page = client.get(f"/v1/accounts/{_seg(account_id)}/graph").text
    head, _, rest = page.partition('<script type="application/json" id="graph-data">')
    data, _, tail = rest.partition("</script>")
    # HTML text and attribute: the title as entities; the JSON block: no "<", no line separators.
    assert html.escape(f"account {account_id}", quote=True) in head
    assert f'aria-label="{html.escape(f"account {account_id}", quote=True)}"' in head
    assert not any(c in data for c in "<>&\u2028\u2029")
    assert json.loads(data)["nodes"][0]["key"] == account_id
    assert tail.count("<script") == 1  # only the fixed start-up script follows
