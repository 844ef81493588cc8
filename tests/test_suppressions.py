"""Suppressions change the next run's output, expire, are revoked, and are audited (real HTTP,
real embedded store, analysis runs started through the API)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.triage_api import Site, site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(store_path, tmp_path_factory.mktemp("suppress"), "suppress") as s:
        yield s


def _detail(api: Site, group_id: str) -> dict[str, Any]:
    return dict(api.ok("GET", f"/v1/groups/{group_id}"))


def _households(api: Site) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Cleared groups linked by shared identifiers, with the identifier of each kind."""
    out = []
    for g in api.groups():
        if g["verdict"] == "cleared":
            links = _detail(api, g["group_id"])["evidence"]["links"]
            out.append((g, {x["kind"]: x["identifier"] for x in links if "identifier" in x}))
    assert len(out) >= 2, "the test data has households"
    return out


def _members(api: Site, group_id: str) -> set[str]:
    return {m["account_id"] for m in _detail(api, group_id)["members"]}


def test_office_ip_dismissal_zeroes_the_link_until_the_suppression_expires(api: Site) -> None:
    group, idents = next((g, i) for g, i in _households(api) if "ip" in i)
    gid, ip = group["group_id"], idents["ip"]
    expires = int(time.time() * 1000) + 40_000
    body = {"decision": "dismiss", "note": "our office",
            "suppress": {"reason": "office_ip", "identifier": ip, "expires_at": expires}}  # fmt: skip
    api.ok("POST", f"/v1/groups/{gid}/decisions", role="investigator", json=body)
    made = [s for s in api.ok("GET", "/v1/suppressions") if s["group_id"] == gid]
    assert len(made) == 1 and made[0]["identifier"] == ip and made[0]["active"]
    assert made[0]["scope"] == "identifier" and made[0]["expires_at"] == expires
    audit = api.ok("GET", "/v1/audit")
    assert any(e["action"] == "suppression:create" and ip in e["detail"] for e in audit)

    api.run()
    evidence = _detail(api, gid)["evidence"]  # still linked by its device and bank account
    assert "ip" not in {x["kind"] for x in evidence["links"]}
    (note,) = evidence["suppressions"]
    assert note["suppression_id"] == made[0]["suppression_id"] and note["reason"] == "office_ip"
    assert re.search(rf"ip {re.escape(ip)} weight 0\.\d\d -> 0, pair link", note["effect"])
    assert "(our office's IP)" in note["effect"]

    while time.time() * 1000 <= expires:  # expired: the evidence counts again
        time.sleep(0.5)
    assert made[0]["suppression_id"] not in {
        s["suppression_id"] for s in api.ok("GET", "/v1/suppressions", params={"active": True})
    }
    api.run()
    evidence = _detail(api, gid)["evidence"]
    assert "ip" in {x["kind"] for x in evidence["links"]} and "suppressions" not in evidence


def test_household_suppression_is_revoked_and_the_group_returns(api: Site) -> None:
    group, _ = _households(api)[-1]
    members = sorted(_members(api, group["group_id"]))
    made = api.ok("POST", "/v1/suppressions", role="investigator",
                  json={"reason": "household", "accounts": members, "note": "one family"})  # fmt: skip
    assert made["scope"] == "accounts" and made["accounts"] == members
    # Only its author or an admin revokes it; analysts may not make one.
    assert api.call("DELETE", f"/v1/suppressions/{made['suppression_id']}",
                    role="investigator2").status_code == 403  # fmt: skip
    assert api.call("POST", "/v1/suppressions", role="analyst",
                    json={"reason": "household", "accounts": members}).status_code == 403  # fmt: skip
    api.run()
    assert group["group_id"] not in {g["group_id"] for g in api.groups()}
    revoked = api.ok("DELETE", f"/v1/suppressions/{made['suppression_id']}", role="investigator")
    assert revoked["revoked_at"] and not revoked["active"]
    assert any(e["action"] == "suppression:revoke" for e in api.ok("GET", "/v1/audit"))
    api.run()
    assert group["group_id"] in {g["group_id"] for g in api.groups()}
    assert sorted(_members(api, group["group_id"])) == members


def test_market_maker_pair_weight_change_is_in_the_group_evidence(api: Site) -> None:
    coordinated = [
        g for g in api.groups()
        if "coordinated_trading" in g["clauses"] and g["member_count"] >= 3
    ]  # fmt: skip
    assert coordinated
    sync = _detail(api, coordinated[0]["group_id"])["evidence"]["synchronized"][0]
    pair = sorted([sync["a"], sync["b"]])
    made = api.ok("POST", "/v1/suppressions", role="admin",
                  json={"reason": "market_maker_pair", "accounts": pair})  # fmt: skip
    api.run()
    found = api.ok("GET", f"/v1/accounts/{pair[0]}/group")
    notes = _detail(api, found["group_id"])["evidence"]["suppressions"]
    mine = [n for n in notes if n["suppression_id"] == made["suppression_id"]]
    assert mine and "synchronized trading weight 0.80 -> 0" in mine[0]["effect"]
    assert mine[0]["reason"] == "market_maker_pair"
    api.ok("DELETE", f"/v1/suppressions/{made['suppression_id']}")


def test_suppressions_refuse_what_they_cannot_use(api: Site) -> None:
    bad = [
        {"reason": "office_ip"},
        {"reason": "office_ip", "identifier": "10.0.0.1", "accounts": ["A", "B"]},
        {"reason": "market_maker_pair", "accounts": ["A", "B", "C"]},
        {"reason": "household", "accounts": ["A"]},
        {"reason": "nonsense", "identifier": "x"},
    ]
    for body in bad:
        assert api.call("POST", "/v1/suppressions", json=body).status_code == 422, body
    unknown = api.call("POST", "/v1/suppressions",
                       json={"reason": "office_ip", "identifier": "203.0.113.250"})  # fmt: skip
    assert unknown.status_code == 404
    past = api.call("POST", "/v1/suppressions", json={
        "reason": "household", "accounts": ["x", "y"], "expires_at": 1000})  # fmt: skip
    assert past.status_code in (400, 404)
    gid = api.groups()[0]["group_id"]
    confirm = api.call("POST", f"/v1/groups/{gid}/decisions", role="investigator", json={
        "decision": "confirm", "suppress": {"reason": "household", "accounts": ["a", "b"]}})  # fmt: skip
    assert confirm.status_code == 400  # a suppression comes with a dismissal only


def test_precision_from_dispositions(api: Site) -> None:
    groups = [g for g in api.groups() if g["verdict"] == "violation"][:3]
    assert len(groups) == 3
    for g, decision in zip(groups, ("confirm", "dismiss", "confirm"), strict=True):
        api.ok("POST", f"/v1/groups/{g['group_id']}/decisions", role="investigator",
               json={"decision": decision})  # fmt: skip
    table = api.ok("GET", "/v1/dispositions", role="analyst")
    run = groups[0]["run_id"]
    row = next(r for r in table["by_run"] if r["key"] == run)
    assert (row["confirmed"], row["decided"]) == (2, 3) and row["precision"] == pytest.approx(0.6667)
    assert table["overall"]["decided"] >= 3
    clause = groups[0]["clauses"][0]
    assert any(r["key"] == clause and r["decided"] >= 1 for r in table["by_clause"])
    assert api.call("GET", "/v1/dispositions", role="enforcement").status_code == 403
    shell = json.loads(api.cli("evaluate", "--decisions", "--format", "json").stdout)
    assert shell == table
    assert "precision by clause" in api.cli("evaluate", "--decisions").stdout
