"""Cases over real HTTP (uvicorn on loopback) on the real embedded store: lifecycle,
assignment rules, SLA, following groups across runs, four eyes on sanctions."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.keys import KeyStore
from api.main import create_app
from graph.falkor_embedded import FalkorEmbedded
from linkscope.settings import Settings
from testing.api_server import serving
from tests.case_runs import write_run
from tests.helpers import drop

KEYS = (
    "enforcement",
    "enforcement2",
    "investigator",
    "investigator2",
    "analyst",
    "admin",
    "admin2",
)
_names = itertools.count()


class Api:
    def __init__(self, url: str, keys: dict[str, str], ids: dict[str, str], store: FalkorEmbedded):
        self.url, self.keys, self.ids, self.store = url, keys, ids, store
        self.http = httpx.Client(base_url=url, timeout=60)

    def call(self, method: str, path: str, who: str = "admin", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}", **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)

    def ok(self, method: str, path: str, who: str = "admin", **kw: Any) -> Any:
        response = self.call(method, path, who, **kw)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def case_of(self, group_id: str) -> dict[str, Any]:
        [case] = self.ok("GET", "/v1/cases", params={"group_id": group_id, "status": "active"})[
            "items"
        ]
        return dict(case)

    def audit(self) -> list[dict[str, Any]]:
        return list(self.ok("GET", "/v1/audit", params={"limit": 1000}))


@pytest.fixture
def api(store_path: Path, tmp_path: Path) -> Iterator[Api]:
    """A fresh graph per test (cases are global state), with the API over it."""
    name = f"cases{next(_names)}"
    store = FalkorEmbedded(store_path, name)
    keystore = KeyStore(tmp_path / "keys.json")
    keys, ids = {}, {}
    for who in KEYS:
        key_id, plain = keystore.create(who.rstrip("2"), f"{who} tester")
        keys[who], ids[who] = plain, key_id
    settings = Settings(
        store=f"embedded:{store_path}", graph_name=name, keys_file=str(tmp_path / "keys.json"),
        case_sla_hours={"violation": 72, "manual": 24},
    )  # fmt: skip
    with serving(create_app(settings)) as url:
        yield Api(url, keys, ids, store)
    drop(store)
    store.close()


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status and body["code"] == code, body
    return str(body["message"])


def test_analysis_opens_a_case_per_flagged_group_with_its_sla(api: Api) -> None:
    before = int(time.time() * 1000)
    run, (gv, gs, gc), report = write_run(
        api.store,
        [(["v1", "v2", "v3"], "violation"), (["s1", "s2"], "suspected"), (["c1", "c2"], "cleared")],
    )
    assert len(report.opened) == 2
    cases = {c["group_id"]: c for c in api.ok("GET", "/v1/cases", "analyst")["items"]}
    assert set(cases) == {gv, gs}  # cleared groups get no case from the analysis
    v, s = cases[gv], cases[gs]
    assert v["status"] == s["status"] == "open" and v["assignee"] is None
    assert v["verdict"] == "violation" and v["origin"] == "analysis" and v["detected"]
    assert v["last_run_id"] == run
    # Due dates from the SLA of the verdict (72 h), and the default for suspected (168 h).
    assert 0 <= v["due_at"] - v["opened_at"] - 72 * 3_600_000 <= 1
    assert s["due_at"] - s["opened_at"] == 168 * 3_600_000
    assert before <= v["opened_at"] and not v["overdue"]
    assert [c["case_id"] for c in api.ok("GET", "/v1/cases")["items"]] == [
        v["case_id"],
        s["case_id"],
    ]  # most urgent first
    detail = api.ok("GET", f"/v1/cases/{v['case_id']}", "enforcement")
    assert detail["notes"][0]["kind"] == "system" and run in detail["notes"][0]["text"]
    opened = [e for e in api.audit() if e["action"] == "case:open"]
    assert {e["target"] for e in opened} == {f"case:{v['case_id']}", f"case:{s['case_id']}"}
    assert all(e["key_id"] == "analysis" and e["role"] == "system" for e in opened)
    # A second run with the same groups opens nothing new: the cases follow.
    _, again, report = write_run(
        api.store,
        [(["v1", "v2", "v3"], "violation"), (["s1", "s2"], "suspected"), (["c1", "c2"], "cleared")],
    )
    assert again == [gv, gs, gc] and report.opened == [] and len(report.followed) == 2
    assert len(api.ok("GET", "/v1/cases")["items"]) == 2


def test_case_lifecycle_and_assignment_rules(api: Api) -> None:
    _, (gid,), _ = write_run(api.store, [(["a1", "a2", "a3"], "violation")])
    case = api.case_of(gid)
    cid = case["case_id"]
    url = f"/v1/cases/{cid}"
    unassigned = api.ok("GET", "/v1/cases", "investigator", params={"unassigned": "true"})
    assert [c["case_id"] for c in unassigned["items"]] == [cid]

    # Roles: enforcement and analysts do not claim; analysts do not write notes.
    _error(api.call("POST", f"{url}/claim", "enforcement"), 403, "forbidden")
    _error(api.call("POST", f"{url}/notes", "analyst", json={"text": "x"}), 403, "forbidden")
    # Only the holder (or an admin) moves a case: nobody holds it yet.
    _error(
        api.call("POST", f"{url}/status", "investigator", json={"status": "in_review"}),
        409,
        "conflict",
    )

    claimed = api.ok("POST", f"{url}/claim", "investigator")
    assert claimed["status"] == "in_review" and claimed["assignee"] == api.ids["investigator"]
    assert _error(api.call("POST", f"{url}/claim", "investigator2"), 409, "conflict")
    mine = api.ok("GET", "/v1/cases", "investigator", params={"mine": "true"})["items"]
    assert [c["case_id"] for c in mine] == [cid]
    assert api.ok("GET", "/v1/cases", "investigator2", params={"mine": "true"})["items"] == []
    assert api.ok("GET", "/v1/cases", params={"unassigned": "true"})["items"] == []

    # Reassigning: a second investigator cannot take it; the holder hands it on; only to
    # investigators (or admins) with a live key.
    to_two = {"assignee": api.ids["investigator2"]}
    _error(api.call("POST", f"{url}/assign", "investigator2", json=to_two), 409, "conflict")
    _error(
        api.call(
            "POST", f"{url}/assign", "investigator", json={"assignee": api.ids["enforcement"]}
        ),
        409,
        "conflict",
    )
    _error(
        api.call("POST", f"{url}/assign", "investigator", json={"assignee": "nokey"}),
        404,
        "not_found",
    )
    people = api.ok("GET", "/v1/cases/assignees", "investigator")
    assert {p["key_id"] for p in people} == {
        api.ids[k] for k in ("investigator", "investigator2", "admin", "admin2")
    }
    handed = api.ok("POST", f"{url}/assign", "investigator", json=to_two)
    assert (
        handed["assignee"] == api.ids["investigator2"]
        and handed["assignee_name"] == "investigator2 tester"
    )
    back = api.ok("POST", f"{url}/assign", "admin", json={"assignee": api.ids["investigator"]})
    assert back["assignee"] == api.ids["investigator"]

    # The thread is append-only, in order, with who and when.
    api.ok("POST", f"{url}/notes", "investigator", json={"text": "first <b>look</b>"})
    api.ok("POST", f"{url}/notes", "enforcement", json={"text": "second"})
    notes = [n for n in api.ok("GET", url)["notes"] if n["kind"] == "note"]
    assert [(n["text"], n["by_key"]) for n in notes] == [
        ("first <b>look</b>", api.ids["investigator"]),
        ("second", api.ids["enforcement"]),
    ]
    assert notes[0]["at"] <= notes[1]["at"]
    _error(
        api.call("POST", f"{url}/notes", "investigator", json={"text": ""}), 422, "invalid_request"
    )

    # Closing: needs a disposition; a dismissal needs a reason; only the holder.
    _error(
        api.call("POST", f"{url}/status", "investigator", json={"status": "closed"}),
        422,
        "invalid_request",
    )
    dismiss = {"status": "closed", "disposition": "dismissed"}
    _error(api.call("POST", f"{url}/status", "investigator", json=dismiss), 422, "invalid_request")
    confirm = {"status": "closed", "disposition": "confirmed", "reason": "cycles are real"}
    _error(api.call("POST", f"{url}/status", "investigator2", json=confirm), 409, "conflict")
    closed = api.ok("POST", f"{url}/status", "investigator", json=confirm)
    assert closed["status"] == "closed" and closed["disposition"] == "confirmed"
    assert closed["closed_at"] and not closed["overdue"]
    # Closing recorded the matching decision on the group, and the case links to it.
    [decision] = api.ok("GET", f"/v1/groups/{gid}/decisions")
    assert decision["decision"] == "confirm" and decision["by_key"] == api.ids["investigator"]
    assert closed["decisions"] == [decision]
    _error(api.call("POST", f"{url}/claim", "investigator2"), 409, "conflict")
    actions = [e["action"] for e in api.audit() if e["target"] == f"case:{cid}"]
    for expected in ("case:claim", "case:assign", "case:note", "case:status:closed"):
        assert expected in actions, (expected, actions)
    # Enforcement systems get the closure from the change feed.
    feed = api.ok("GET", "/v1/events", "enforcement", params={"after": "0", "limit": 1000})
    [event] = [e for e in feed["items"] if e["subject"] == f"case:{cid}"]
    assert event["kind"] == "case_closed"
    assert event["payload"] == {"case_id": cid, "group_id": gid, "disposition": "confirmed",
                                "by_key": api.ids["investigator"]}  # fmt: skip

    # Opening by hand: on a group that has no active case, or on accounts; one case per group.
    reopened = api.ok("POST", "/v1/cases", "investigator", json={"group_id": gid, "note": "again"})
    assert reopened["origin"] == "manual" and reopened["opened_by"] == api.ids["investigator"]
    _error(api.call("POST", "/v1/cases", "investigator", json={"group_id": gid}), 409, "conflict")
    by_hand = api.ok("POST", "/v1/cases", "investigator", json={"account_ids": ["a1", "a2"]})
    assert by_hand["group_id"] is None and by_hand["account_ids"] == ["a1", "a2"]
    assert by_hand["due_at"] - by_hand["opened_at"] == 24 * 3_600_000  # the manual SLA
    _error(
        api.call("POST", "/v1/cases", "investigator", json={"account_ids": ["nobody"]}),
        404,
        "not_found",
    )
    _error(
        api.call("POST", "/v1/cases", "enforcement", json={"account_ids": ["a1"]}), 403, "forbidden"
    )
    _error(api.call("POST", "/v1/cases", "investigator", json={}), 422, "invalid_request")
    _error(api.call("GET", "/v1/cases/C-nope"), 404, "not_found")


def test_overdue_flag_follows_the_sla(api: Api) -> None:
    _, (late, fine), _ = write_run(
        api.store,
        [(["o1", "o2"], "violation"), (["p1", "p2"], "suspected")],
        sla={"violation": 0.0, "suspected": 1000.0},
    )
    time.sleep(0.01)
    overdue = api.ok("GET", "/v1/cases", params={"overdue": "true"})["items"]
    assert [c["group_id"] for c in overdue] == [late] and overdue[0]["overdue"]
    assert not api.case_of(fine)["overdue"]
    cid = overdue[0]["case_id"]
    api.ok("POST", f"/v1/cases/{cid}/claim", "investigator")
    api.ok(
        "POST", f"/v1/cases/{cid}/status", "investigator",
        json={"status": "closed", "disposition": "escalated"},
    )  # fmt: skip
    assert api.ok("GET", "/v1/cases", params={"overdue": "true"})["items"] == []
    assert not api.ok("GET", f"/v1/cases/{cid}")["overdue"]  # closed cases are never overdue


def test_listing_pages_without_gaps_and_filters(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import analytics.cases

    monkeypatch.setattr(analytics.cases, "CHUNK", 3)  # the sync's writes in several batches
    groups = [([f"m{i}a", f"m{i}b"], "violation" if i % 2 else "suspected") for i in range(7)]
    write_run(api.store, groups)
    everything = api.ok("GET", "/v1/cases", params={"limit": 500})["items"]
    assert len(everything) == 7
    assert all(len(api.ok("GET", f"/v1/cases/{c['case_id']}")["notes"]) == 1 for c in everything)
    seen, cursor = [], None
    while True:
        page = api.ok(
            "GET", "/v1/cases", params={"limit": 2} | ({"cursor": cursor} if cursor else {})
        )
        seen += [c["case_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["case_id"] for c in everything]
    assert [(c["due_at"], c["case_id"]) for c in everything] == sorted(
        (c["due_at"], c["case_id"]) for c in everything
    )
    violations = api.ok("GET", "/v1/cases", params={"verdict": "violation"})["items"]
    assert len(violations) == 3 and all(c["verdict"] == "violation" for c in violations)
    assert len(api.ok("GET", "/v1/cases", params={"status": "open"})["items"]) == 7
    assert api.ok("GET", "/v1/cases", params={"status": "closed"})["items"] == []
    _error(api.call("GET", "/v1/cases", params={"cursor": "garbage!"}), 400, "query_error")
    _error(api.call("GET", "/v1/cases", params={"status": "lost"}), 422, "invalid_request")


def test_cases_follow_their_groups_through_merge_split_and_disappearance(api: Api) -> None:
    a = ["a1", "a2", "a3"]
    b = ["b1", "b2", "b3"]
    s = ["s1", "s2", "s3", "s4", "s5", "s6"]
    d = ["d1", "d2"]
    run1, (ga, gb, gs, gd), _ = write_run(
        api.store, [(a, "violation"), (b, "suspected"), (s, "violation"), (d, "violation")]
    )
    case_a, case_b, case_s, case_d = (api.case_of(g)["case_id"] for g in (ga, gb, gs, gd))
    api.ok("POST", f"/v1/cases/{case_b}/claim", "investigator")
    api.ok("POST", f"/v1/cases/{case_b}/notes", "investigator", json={"text": "b's lead"})
    api.ok("POST", f"/v1/cases/{case_a}/notes", "investigator2", json={"text": "a's lead"})

    run2, (gm, big, small), report = write_run(
        api.store, [(a + b, "violation"), (s[:4], "violation"), (s[4:], "suspected")]
    )
    # Merge: one case goes on, the other is closed as merged into it, the threads are one.
    merged = api.ok("GET", f"/v1/cases/{case_a}")
    gone = api.ok("GET", f"/v1/cases/{case_b}")
    assert gm == ga and merged["group_id"] == gm and merged["status"] == "open"
    assert gone["status"] == "closed" and gone["disposition"] == "merged"
    assert gone["merged_into"] == case_a
    texts = [n["text"] for n in merged["notes"]]
    assert "a's lead" in texts and "b's lead" in texts
    assert any(f"case {case_b} merged into {case_a}" in t for t in texts)
    assert {"kind": "merged_from", "case_id": case_b} | {} in [
        {"kind": link["kind"], "case_id": link["case_id"]} for link in merged["links"]
    ]
    assert merged["assignee"] == api.ids["investigator"]  # taken from the merged case
    assert report.merged == [(case_b, case_a)]

    # Split: the case stays on the largest part; the rest get a linked case.
    stay = api.ok("GET", f"/v1/cases/{case_s}")
    assert stay["group_id"] == big and stay["status"] == "open"
    assert any("split" in n["text"] for n in stay["notes"])
    linked = api.case_of(small)
    assert linked["origin"] == "split" and linked["verdict"] == "suspected"
    assert [(x["kind"], x["case_id"]) for x in stay["links"]] == [("linked", linked["case_id"])]
    linked_detail = api.ok("GET", f"/v1/cases/{linked['case_id']}")
    assert [x["case_id"] for x in linked_detail["links"]] == [case_s]

    # Disappearance: the case stays open, with a note naming the run.
    lost = api.ok("GET", f"/v1/cases/{case_d}")
    assert lost["status"] == "open" and lost["group_id"] == gd and not lost["detected"]
    assert lost["last_run_id"] == run1
    assert [n["text"] for n in lost["notes"]][-1] == f"no longer detected in run {run2}"
    assert {e["action"] for e in api.audit() if e["key_id"] == "analysis"} >= {
        "case:open", "case:merge", "case:split", "case:undetected",
    }  # fmt: skip

    # A third run finds it again; "no longer detected" is not repeated meanwhile.
    run3, _, _ = write_run(api.store, [(a + b, "violation"), (d, "violation")])
    back = api.ok("GET", f"/v1/cases/{case_d}")
    assert back["detected"] and back["last_run_id"] == run3
    texts = [n["text"] for n in back["notes"]]
    assert texts[-1] == f"detected again in run {run3}"
    assert sum("no longer detected" in t for t in texts) == 1


def test_four_eyes_on_sanctions(api: Api) -> None:
    _, (gid, other), _ = write_run(
        api.store, [(["f1", "f2", "f3"], "violation"), (["g1", "g2"], "violation")]
    )
    cid = api.case_of(gid)["case_id"]
    url = f"/v1/cases/{cid}"
    freeze = {"action": "freeze_pending_review", "note": "cycles on 3 days"}
    # Investigators propose on the cases they hold.
    _error(api.call("POST", f"{url}/proposals", "investigator", json=freeze), 409, "conflict")
    api.ok("POST", f"{url}/claim", "investigator")
    proposed = api.ok("POST", f"{url}/proposals", "investigator", json=freeze)
    assert proposed["status"] == "pending_approval"
    [p] = proposed["proposals"]
    assert (p["status"], p["proposed_by"], p["action"]) == (
        "proposed",
        api.ids["investigator"],
        "freeze_pending_review",
    )
    _error(api.call("POST", f"{url}/proposals", "investigator", json=freeze), 409, "conflict")
    # Not applied yet: action_taken needs the approval.
    sanction = {"decision": "action_taken", "action": "freeze_pending_review", "note": "frozen"}
    _error(
        api.call("POST", f"/v1/groups/{gid}/decisions", "enforcement", json=sanction),
        409,
        "approval_required",
    )
    # Investigators do not approve; a case with a pending proposal cannot be closed.
    approve = f"{url}/proposals/{p['proposal_id']}/approve"
    _error(api.call("POST", approve, "investigator", json={}), 403, "forbidden")
    close = {"status": "closed", "disposition": "confirmed"}
    _error(api.call("POST", f"{url}/status", "investigator", json=close), 409, "conflict")
    rejected = api.ok(
        "POST",
        f"{url}/proposals/{p['proposal_id']}/reject",
        "enforcement",
        json={"note": "not yet"},
    )
    assert rejected["status"] == "in_review" and rejected["proposals"][0]["status"] == "rejected"
    _error(api.call("POST", approve, "enforcement2", json={}), 409, "conflict")

    # Enforcement proposes: the same key may not approve (four eyes), another may.
    proposed = api.ok("POST", f"{url}/proposals", "enforcement", json=freeze)
    pid = proposed["proposals"][-1]["proposal_id"]
    approve = f"{url}/proposals/{pid}/approve"
    message = _error(api.call("POST", approve, "enforcement", json={}), 403, "four_eyes")
    assert "second person" in message
    approved = api.ok("POST", approve, "enforcement2", json={"note": "agreed"})
    last = approved["proposals"][-1]
    assert (last["status"], last["decided_by"]) == ("approved", api.ids["enforcement2"])
    assert any("approved freeze_pending_review" in n["text"] for n in approved["notes"])
    feed = api.ok("GET", "/v1/events", "enforcement", params={"after": "0", "limit": 1000})
    pushed = [e for e in feed["items"] if e["kind"] == "action_approved"]
    assert [e["payload"] for e in pushed][-1] == {
        "group_id": gid, "action": "freeze_pending_review",
        "proposed_by": api.ids["enforcement"], "approved_by": api.ids["enforcement2"],
    }  # fmt: skip

    # Now the freeze can be recorded, once per approval.
    done = api.ok("POST", f"/v1/groups/{gid}/decisions", "enforcement", json=sanction)
    after = api.ok("GET", url)
    assert after["proposals"][-1]["status"] == "applied"
    assert after["proposals"][-1]["decision_id"] == done["decision_id"]
    assert [d["decision_id"] for d in after["decisions"]] == [done["decision_id"]]
    _error(
        api.call("POST", f"/v1/groups/{gid}/decisions", "enforcement", json=sanction),
        409,
        "approval_required",
    )
    # Actions that are not sanctions need no approval.
    report = {"decision": "action_taken", "action": "request_report"}
    api.ok("POST", f"/v1/groups/{gid}/decisions", "enforcement", json=report)

    # An admin proposal: the same admin key may not approve it either.
    ocid = api.case_of(other)["case_id"]
    restrict = {"action": "restrict_new_positions"}
    prop = api.ok("POST", f"/v1/cases/{ocid}/proposals", "admin", json=restrict)["proposals"][0]
    _error(
        api.call(
            "POST", f"/v1/cases/{ocid}/proposals/{prop['proposal_id']}/approve", "admin", json={}
        ),
        403,
        "four_eyes",
    )
    assert api.ok(
        "POST", f"/v1/cases/{ocid}/proposals/{prop['proposal_id']}/approve", "admin2", json={}
    )

    # Override: only an admin, only with a reason, and the audit log says so.
    closure = {"decision": "action_taken", "action": "permanent_restriction", "note": "court order"}
    _error(
        api.call("POST", f"/v1/groups/{other}/decisions", "admin", json=closure),
        409,
        "approval_required",
    )
    with_reason = closure | {"override_reason": "court order 12/34, no time for a second key"}
    _error(
        api.call("POST", f"/v1/groups/{other}/decisions", "enforcement", json=with_reason),
        403,
        "forbidden",
    )
    api.ok("POST", f"/v1/groups/{other}/decisions", "admin", json=with_reason)
    audit = api.audit()
    overrides = [e for e in audit if e["action"] == "decision:action_taken:override"]
    assert len(overrides) == 1 and overrides[0]["key_id"] == api.ids["admin"]
    assert (
        "court order 12/34" in overrides[0]["detail"] and overrides[0]["target"] == f"group:{other}"
    )
    actions = {e["action"] for e in audit if e["target"] == f"case:{cid}"}
    assert {
        "case:propose",
        "case:proposal:approved",
        "case:proposal:rejected",
        "case:proposal:applied",
    } <= actions


def test_the_analysis_pipeline_opens_cases_and_keeps_them_across_runs(
    store_path: Path, tmp_path: Path
) -> None:
    """The real pipeline (generated data, detection, write-back, then the cases step)."""
    from analytics.pipeline import CASES, run_analysis
    from ingest.pipeline import ingest_directory
    from synth.generator import GeneratorConfig, generate

    name = f"cases{next(_names)}"
    generate(tmp_path / "data", GeneratorConfig(accounts=1_500, seed=7, order_flow="light"))
    store = FalkorEmbedded(store_path, name)
    try:
        ingest_directory(tmp_path / "data" / "input", store)
        settings = Settings(store=f"embedded:{store_path}", graph_name=name)
        steps: list[str] = []
        first = run_analysis(settings, report=lambda step, _s: steps.append(step))
        assert CASES in steps
        flagged = {
            g.group_id for g in first.analysis.groups if g.verdict in ("violation", "suspected")
        }
        assert flagged
        query = "MATCH (c:Case) RETURN c.group_id, c.status, c.last_run_id, c.detected"
        rows = store.read(query).rows
        assert sorted(r[0] for r in rows) == sorted(flagged)
        assert all(r[1] == "open" and r[2] == first.run_id and r[3] for r in rows)
        second = run_analysis(settings)
        again = store.read(query).rows
        assert len(again) == len(rows)  # the same groups: no new cases, no merges
        assert all(r[2] == second.run_id and r[3] for r in again)
        about = store.read(
            "MATCH (c:Case)-[:ABOUT]->(g:Group {current: true}) RETURN count(DISTINCT c)"
        ).scalar()
        assert about == len(rows)
    finally:
        drop(store)
        store.close()


CASE_ROUTES: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("GET", "/v1/cases", {}, {"enforcement", "investigator", "analyst", "admin"}),
    ("GET", "/v1/cases/{cid}", {}, {"enforcement", "investigator", "analyst", "admin"}),
    ("POST", "/v1/cases", {"json": {"account_ids": ["r1"]}}, {"investigator", "admin"}),
    ("GET", "/v1/cases/assignees", {}, {"investigator", "admin"}),
    ("POST", "/v1/cases/{cid}/claim", {}, {"investigator", "admin"}),
    ("POST", "/v1/cases/{cid}/assign", {"json": {"assignee": "x"}}, {"investigator", "admin"}),
    (
        "POST",
        "/v1/cases/{cid}/status",
        {"json": {"status": "in_review"}},
        {"investigator", "admin"},
    ),
    (
        "POST",
        "/v1/cases/{cid}/notes",
        {"json": {"text": "t"}},
        {"enforcement", "investigator", "admin"},
    ),
    (
        "POST",
        "/v1/cases/{cid}/proposals",
        {"json": {"action": "freeze_pending_review"}},
        {"enforcement", "investigator", "admin"},
    ),
    ("POST", "/v1/cases/{cid}/proposals/P-x/approve", {"json": {}}, {"enforcement", "admin"}),
    ("POST", "/v1/cases/{cid}/proposals/P-x/reject", {"json": {}}, {"enforcement", "admin"}),
]


def test_every_case_route_refuses_the_roles_it_should(api: Api) -> None:
    _, (gid,), _ = write_run(api.store, [(["r1", "r2"], "violation")])
    cid = api.case_of(gid)["case_id"]
    for method, path, kw, allowed in CASE_ROUTES:
        for who in ("enforcement", "investigator", "analyst", "admin"):
            response = api.call(method, path.format(cid=cid), who, **kw)
            if who in allowed:
                assert response.status_code != 403, (method, path, who, response.text)
            else:
                _error(response, 403, "forbidden")
    response = api.http.get("/v1/cases")
    assert response.status_code == 401


def test_a_group_that_becomes_a_violation_gets_the_shorter_due_date(api: Api) -> None:
    _, (gid,), _ = write_run(api.store, [(["u1", "u2", "u3"], "suspected")])
    before = api.case_of(gid)
    assert before["due_at"] - before["opened_at"] == 168 * 3_600_000
    _, (same,), _ = write_run(api.store, [(["u1", "u2", "u3"], "violation")])
    after = api.case_of(gid)
    assert same == gid and after["case_id"] == before["case_id"]
    assert after["verdict"] == "violation"
    assert after["due_at"] - after["opened_at"] == 72 * 3_600_000
    write_run(api.store, [(["u1", "u2", "u3"], "suspected")])
    assert api.case_of(gid)["due_at"] == after["due_at"]  # a promise is not loosened again


def test_text_the_store_cannot_keep_is_refused(api: Api) -> None:
    _, (gid,), _ = write_run(api.store, [(["t1", "t2"], "violation")])
    cid = api.case_of(gid)["case_id"]
    headers = {"Content-Type": "application/json"}
    lone = '{"text": "half a pair \\ud800"}'  # a lone surrogate: valid JSON, not UTF-8
    response = api.call(
        "POST", f"/v1/cases/{cid}/notes", "investigator", content=lone, headers=headers
    )
    _error(response, 422, "invalid_request")
    emoji = api.ok("POST", f"/v1/cases/{cid}/notes", "enforcement", json={"text": "ok ✓ 𝄞\u2028"})
    assert emoji["notes"][-1]["text"] == "ok ✓ 𝄞\u2028"
