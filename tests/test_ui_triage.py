"""Triage in the UI, in real headless Chromium against the real app over loopback: the queue
ordered by priority with its reasons, a dismissal that teaches the next run, the suppressions
page, and a what-if run compared and discarded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from testing.browser import chromium
from tests.triage_api import Site, site

pytestmark = pytest.mark.slow


class Browser:
    def __init__(self, api: Site, page: Any, problems: list[str]) -> None:
        self.api, self.page, self.problems = api, page, problems

    def sign_in(self, role: str) -> None:
        page = self.page
        page.goto(self.api.url + "/#/signin")
        page.fill("#key", self.api.keys[role])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue tbody tr[data-group]")


@pytest.fixture(scope="module")
def ui(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    tmp = tmp_path_factory.mktemp("ui-triage")
    with site(store_path, tmp, "uitriage") as api, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        loopback = urlparse(api.url).hostname

        def check_request(request: Any) -> None:
            parsed = urlparse(request.url)
            if parsed.scheme in ("http", "https") and parsed.hostname != loopback:
                problems.append(f"external request: {request.url}")

        page.on("request", check_request)
        yield Browser(api, page, problems)


def test_queue_orders_by_priority_and_shows_why(ui: Browser) -> None:
    ui.sign_in("enforcement")
    page = ui.page
    listed = ui.api.ok("GET", "/v1/groups", role="enforcement", params={"limit": 500})["items"]
    priorities = [g["priority"] for g in listed]
    assert priorities == sorted(priorities, reverse=True) and len(set(priorities)) > 1
    rows = page.locator("#queue tbody tr[data-group]")
    assert rows.count() == len(listed)
    assert [rows.nth(i).get_attribute("data-group") for i in range(len(listed))] == [
        g["group_id"] for g in listed
    ]
    assert page.locator("#queue thead th").first.inner_text() == "Priority ▼"  # the order in force
    for i, g in enumerate(listed):
        cell = rows.nth(i).locator("td.priority")
        assert cell.locator("b").inner_text() == f"{g['priority']:.1f}"
        assert cell.locator(".why").inner_text() == "; ".join(g["priority_reasons"][:3])
    top = listed[0]
    assert top["verdict"] == "violation" and top["priority_reasons"][0].split()[0] in (
        "wash", "coordinated", "concentrated", "spoofed", "self-matched")  # fmt: skip
    # The volume column shows the volume involved, also for trading with the market.
    volume = rows.first.locator("td").nth(6).inner_text().split()[0].replace(",", "")
    assert float(volume) == pytest.approx(top["volume"], abs=0.01) and top["volume"] > 0


def test_a_dismissal_with_a_reason_becomes_a_suppression(ui: Browser) -> None:
    ui.sign_in("investigator")
    page = ui.page
    cleared = next(g for g in ui.api.groups() if g["verdict"] == "cleared")
    links = ui.api.ok("GET", f"/v1/groups/{cleared['group_id']}")["evidence"]["links"]
    ip = next(x["identifier"] for x in links if x["kind"] == "ip")
    page.goto(f"{ui.api.url}/#/group/{cleared['group_id']}")
    page.wait_for_selector("#decide")
    page.select_option("#d-kind", "dismiss")
    page.fill("#d-note", "the office uplink")
    page.select_option("#d-suppress", "office_ip")
    page.fill("#d-suppress-what", ip)
    page.click("#decide button[type=submit]")
    page.wait_for_function("() => document.querySelector('#decisions').innerText.includes('dismiss')")
    made = [s for s in ui.api.ok("GET", "/v1/suppressions") if s["group_id"] == cleared["group_id"]]
    assert len(made) == 1 and made[0]["identifier"] == ip and made[0]["reason"] == "office_ip"

    page.click("a[data-nav=suppressions]")
    row = page.locator(f"tr[data-suppression='{made[0]['suppression_id']}']")
    row.wait_for()
    assert ip in row.inner_text() and "active" in row.inner_text()
    row.locator("button").click()  # its author revokes it
    page.wait_for_function(
        f"() => document.querySelector(\"tr[data-suppression='{made[0]['suppression_id']}']\")"
        ".innerText.includes('revoked')"
    )
    assert not ui.api.ok("GET", f"/v1/suppressions/{made[0]['suppression_id']}")["active"]
    assert page.locator("#precision").inner_text().count("Overall") == 1


def test_a_what_if_run_is_compared_and_discarded(ui: Browser) -> None:
    before = ui.api.current_run()
    shadow = ui.api.run({"dry_run": True, "config": {"trading": {"sync_min_episodes": 60}}})
    ui.sign_in("admin")
    page = ui.page
    page.click("a[data-nav=runs]")
    page.locator(f"a[href='#/runs/{shadow}']").first.click()
    page.wait_for_selector("#comparison-table")
    changes = ui.api.ok("GET", f"/v1/runs/{shadow}/comparison")["changes"]
    assert changes and page.locator("#comparison-table tbody tr").count() == len(changes)
    assert f"Against current run {before}" in page.locator("#comparison-summary").inner_text()
    page.click("#discard")
    page.wait_for_function(
        "() => document.getElementById('run-action-status').innerText.includes('discarded')"
    )
    assert ui.api.call("GET", f"/v1/runs/{shadow}/comparison").status_code == 404
    assert ui.api.current_run() == before


def test_no_console_errors_and_nothing_from_outside(ui: Browser) -> None:
    assert ui.problems == []
