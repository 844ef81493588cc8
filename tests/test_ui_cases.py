"""Cases in the UI, end to end: real headless Chromium, the real app over loopback HTTP, the
real embedded store with generated data analysed and its cases opened by the cases step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from analytics.cases import sync_cases
from api.keys import KeyStore
from api.main import create_app
from graph import result_statements as rs
from linkscope.settings import Settings
from testing.api_server import serving
from testing.browser import chromium
from tests.helpers import analysed_graph, drop

pytestmark = pytest.mark.slow

# Violation cases are due at once (so the lists show them overdue), suspected ones in a week.
SLA = {"violation": 0.0, "suspected": 168.0}


class Site:
    def __init__(self, url: str, keys: dict[str, str], ids: dict[str, str], page: Any) -> None:
        self.url, self.keys, self.ids, self.page = url, keys, ids, page
        self.problems: list[str] = []

    def api(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys['admin']}"}
        return httpx.get(self.url + path, headers=headers, params=params, timeout=30).json()

    def sign_in(self, role: str) -> None:
        page = self.page
        page.goto(self.url + "/#/signin")
        page.fill("#key", self.keys[role])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue tbody tr[data-group]")


@pytest.fixture(scope="module")
def site(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("ui-cases")
    store = analysed_graph(store_path, "ui_cases", tmp, accounts=2_000, seed=8)
    sync_cases(store, str(store.read(rs.CURRENT_RUN).rows[0][0]), SLA)
    keystore = KeyStore(tmp / "keys.json")
    keys, ids = {}, {}
    for role in ("investigator", "enforcement", "admin"):
        ids[role], keys[role] = keystore.create(role, f"{role} tester")
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="ui_cases", keys_file=str(tmp / "keys.json")
    )
    with serving(create_app(settings)) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        site = Site(url, keys, ids, page)
        page.on(
            "console",
            lambda m: site.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: site.problems.append(f"page error: {e}"))
        loopback = urlparse(url).hostname
        page.on(
            "request",
            lambda r: (
                site.problems.append(f"external request: {r.url}")
                if urlparse(r.url).scheme in ("http", "https")
                and urlparse(r.url).hostname != loopback
                else None
            ),
        )
        yield site
    drop(store)
    store.close()


def test_claim_note_propose_and_a_second_person_approves(site: Site) -> None:
    page = site.page
    site.sign_in("investigator")
    page.click("a[data-nav=unassigned]")
    page.wait_for_selector("#cases tbody tr[data-case]")
    listed = site.api("/v1/cases", unassigned="true", status="active", limit=100)["items"]
    rows = page.locator("#cases tbody tr[data-case]")
    assert rows.count() == len(listed) > 0
    first = listed[0]  # most urgent first: a violation, overdue under this SLA
    assert rows.first.get_attribute("data-case") == first["case_id"] and first["overdue"]
    assert "overdue since" in rows.first.inner_text()
    case_id, group_id = first["case_id"], first["group_id"]

    rows.first.locator("a").first.click()
    page.wait_for_selector("#case-panel #claim")
    # The case sits around its group's page.
    page.wait_for_selector("#case-group #group-graph[data-stabilized-ms]", timeout=30_000)
    assert group_id in page.locator("#case-group h2").first.inner_text()

    page.click("#claim")
    page.wait_for_function(
        "() => document.getElementById('case-assignee').textContent.includes('investigator tester')"
    )
    assert page.locator("#case-status").inner_text() == "in_review"
    note = "Cycles <b>every</b> night; same device as the controller."
    page.fill("#note-text", note)
    page.click("#add-note button[type=submit]")
    page.wait_for_selector("#thread li[data-kind=note]")
    assert note in page.locator("#thread li[data-kind=note]").inner_text()  # as text, not markup
    assert page.locator("#thread b").count() == 0

    page.select_option("#propose-action", "freeze_pending_review")
    page.fill("#propose-note", "freeze while we ask for documents")
    page.click("#propose button[type=submit]")
    page.wait_for_selector("#proposals tr[data-status=proposed]")
    assert page.locator("#case-status").inner_text() == "pending_approval"
    assert "pending approval" in page.locator("h1").inner_text()  # the heading follows
    assert "waiting for a second person" in page.locator("#proposals").inner_text()
    assert page.locator("#proposals button.approve").count() == 0  # never your own
    assert page.locator("#close").count() == 0  # no closing while a sanction waits

    page.click("a[data-nav=mycases]")
    page.wait_for_selector(f"#cases tbody tr[data-case='{case_id}']")

    # A second person, with the enforcement role, approves; then records the freeze.
    site.sign_in("enforcement")
    page.click("a[data-nav=approvals]")
    page.wait_for_selector(f"#cases tbody tr[data-case='{case_id}']")
    page.locator(f"#cases tbody tr[data-case='{case_id}'] a").first.click()
    page.wait_for_selector("#proposals button.approve")
    page.click("#proposals button.approve")
    page.wait_for_selector("#proposals tr[data-status=approved]")
    assert "approved freeze_pending_review" in page.locator("#thread").inner_text()
    page.wait_for_selector("#case-group #decide")
    page.select_option("#d-action", "freeze_pending_review")
    page.fill("#d-note", "frozen after approval")
    page.click("#decide button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#decisions').innerText.includes('frozen after approval')"
    )
    case = site.api(f"/v1/cases/{case_id}")
    [proposal] = case["proposals"]
    assert proposal["status"] == "applied"
    assert proposal["proposed_by"] == site.ids["investigator"]
    assert proposal["decided_by"] == site.ids["enforcement"]
    assert [n["text"] for n in case["notes"] if n["kind"] == "note"] == [note]
    audit = {(e["action"], e["key_id"]) for e in site.api("/v1/audit", limit=500)}
    assert ("case:claim", site.ids["investigator"]) in audit
    assert ("case:propose", site.ids["investigator"]) in audit
    assert ("case:proposal:approved", site.ids["enforcement"]) in audit
    assert ("decision:action_taken", site.ids["enforcement"]) in audit


def test_group_page_shows_its_case(site: Site) -> None:
    page = site.page
    site.sign_in("investigator")
    case = site.api("/v1/cases", status="active", limit=500)["items"][-1]
    page.goto(f"{site.url}/#/group/{case['group_id']}")
    page.wait_for_selector(f"#group-case li[data-case='{case['case_id']}'] a")
    page.click(f"#group-case li[data-case='{case['case_id']}'] a")
    page.wait_for_selector("#case-panel")
    assert page.locator("h1").inner_text().startswith(f"Case {case['case_id']}")
    # A cleared group has no case: the investigator may open one by hand.
    cleared = site.api("/v1/groups", verdict="cleared", limit=1)["items"][0]["group_id"]
    page.goto(f"{site.url}/#/group/{cleared}")
    page.wait_for_selector("#open-case")
    page.click("#open-case")
    page.wait_for_selector("#case-panel #claim")
    [opened] = site.api("/v1/cases", group_id=cleared)["items"]
    assert opened["origin"] == "manual" and opened["opened_by"] == site.ids["investigator"]
    # Claimed, then handed on to a colleague chosen by name.
    page.click("#claim")
    page.wait_for_selector("#assign-to option[value]:not([value=''])", state="attached")
    page.select_option("#assign-to", site.ids["admin"])
    page.click("#assign button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('case-assignee').textContent.includes('admin tester')"
    )
    assert site.api(f"/v1/cases/{opened['case_id']}")["assignee"] == site.ids["admin"]


def test_no_console_errors_and_nothing_loaded_from_outside(site: Site) -> None:
    assert site.problems == []
