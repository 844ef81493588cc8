"""What-if runs: a dry run never touches the current results; it is compared, promoted or
discarded (real HTTP, real embedded store, runs started through the API and the shell)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.triage_api import Site, site

pytestmark = pytest.mark.slow
# Far more synchronized episodes needed: the coordinated-trading groups change or vanish.
STRICT = {"trading": {"sync_min_episodes": 60}}


@pytest.fixture(scope="module")
def api(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(store_path, tmp_path_factory.mktemp("shadow"), "shadow") as s:
        yield s


def _listing(api: Site, **params: Any) -> dict[str, Any]:
    return dict(api.ok("GET", "/v1/groups", params={"limit": 500, **params}))


def test_a_dry_run_leaves_the_current_run_and_is_discarded(api: Site) -> None:
    before_run, before = api.current_run(), _listing(api)
    assert api.call("POST", "/v1/runs", role="analyst", json={"dry_run": True}).status_code == 403
    shadow = api.run({"dry_run": True, "config": STRICT})
    assert shadow != before_run
    assert api.current_run() == before_run
    assert _listing(api) == before  # the queue is the same, to the byte
    runs = {r["run_id"]: r["status"] for r in api.ok("GET", "/v1/runs", role="analyst")}
    assert runs[shadow] == "shadow" and runs[before_run] == "current"

    result = api.ok("GET", f"/v1/runs/{shadow}/comparison", role="analyst")
    assert result["current_run"] == before_run == result["base_run"]
    assert result["status"] == "shadow" and result["changes"]
    kinds = {c["change"] for c in result["changes"]}
    assert kinds & {"disappears", "clauses", "verdict"}, kinds
    for c in result["changes"]:
        if c["change"] == "disappears":
            assert c["before"]["verdict"] and c["after"] is None
        if c["change"] == "clauses":
            assert "coordinated_trading" in set(c["before"]["clauses"]) ^ set(c["after"]["clauses"])
    assert sum(result["counts"][k] for k in kinds) == len(result["changes"])
    assert _listing(api, run_id=shadow)["run_id"] == shadow  # its groups can be read by id
    assert api.call("GET", f"/v1/runs/{shadow}/comparison", role="investigator").status_code == 403

    assert api.call("POST", f"/v1/runs/{shadow}/discard", role="analyst").status_code == 403
    gone = api.ok("POST", f"/v1/runs/{shadow}/discard")
    assert gone["status"] == "discarded"
    assert api.call("GET", f"/v1/runs/{shadow}/comparison").status_code == 404
    assert api.call("GET", "/v1/groups", params={"run_id": shadow}).status_code == 410
    assert api.current_run() == before_run and _listing(api) == before
    actions = [e["action"] for e in api.ok("GET", "/v1/audit")]
    assert "run:dry-run" in actions and "run:discard" in actions
    # The current run is no shadow: neither promoted nor discarded.
    assert api.call("POST", f"/v1/runs/{before_run}/discard").status_code == 409


def test_a_shadow_run_is_promoted_unless_the_current_run_moved(api: Site) -> None:
    stale = api.run({"dry_run": True, "config": STRICT})
    api.run()  # a normal run replaces the run the shadow was compared with
    refused = api.call("POST", f"/v1/runs/{stale}/promote")
    assert refused.status_code == 409 and "dry run again" in refused.json()["error"]["message"]

    base = api.current_run()
    shadow = api.run({"dry_run": True, "config": STRICT})
    expected = {c["group_id"] for c in api.ok("GET", f"/v1/runs/{shadow}/comparison")["changes"]
                if c["change"] != "disappears"}  # fmt: skip
    cased = {c["group_id"] for c in api.ok("GET", "/v1/cases", params={"limit": 500})["items"]}
    promoted = api.ok("POST", f"/v1/runs/{shadow}/promote")
    assert promoted["status"] == "current" and api.current_run() == shadow
    api.app.state.cache.expire_version()
    listing = _listing(api)
    assert listing["run_id"] == shadow and expected <= {g["group_id"] for g in listing["items"]}
    # Cases follow the promoted run (the dry run itself changed no case): every violation or
    # suspected group has one, and each case now stands on its group in the promoted run.
    listed = {g["group_id"] for g in listing["items"]}
    flagged = {g["group_id"] for g in listing["items"] if g["verdict"] != "cleared"}
    cases = api.ok("GET", "/v1/cases", params={"limit": 500})["items"]
    assert cased and flagged <= {c["group_id"] for c in cases}
    for case in cases:
        if case["group_id"] in listed:
            assert api.ok("GET", f"/v1/cases/{case['case_id']}")["last_run_id"] == shadow
    statuses = {r["run_id"]: r["status"] for r in api.ok("GET", "/v1/runs")}
    assert statuses[base] == "superseded" and statuses[shadow] == "current"
    assert "run:promote" in [e["action"] for e in api.ok("GET", "/v1/audit")]
    assert api.call("POST", f"/v1/runs/{shadow}/promote").status_code == 409  # current now


def test_dry_run_from_the_shell(api: Site, tmp_path: Path) -> None:
    before_run, before = api.current_run(), _listing(api)
    config = tmp_path / "new.json"
    config.write_text(json.dumps(STRICT))
    done = api.cli("analyze", "--config", str(config), "--dry-run")
    assert api.current_run() == before_run and _listing(api) == before
    assert "what the shadow run changes" in done.stdout and "dry run and comparison in" in done.stdout
    shadow = done.stdout.split("shadow run ", 1)[1].split()[0]
    assert shadow.startswith("A") and f"linkscope runs promote {shadow}" in done.stdout
    assert "against current run " + str(before_run) in done.stdout
    api.cli("runs", "discard", shadow)
    assert api.call("GET", f"/v1/runs/{shadow}/comparison").status_code == 404
    audit = api.ok("GET", "/v1/audit")
    assert any(e["action"] == "run:discard" and e["target"] == f"run:{shadow}"
               and e["key_id"].startswith("shell:") for e in audit)  # fmt: skip
