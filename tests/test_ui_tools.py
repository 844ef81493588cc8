"""Investigator tools in real headless Chromium against the real app and store: the cycle
search on the account page and the Cypher editor (completion, inline errors, saved queries)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from api.keys import KeyStore
from api.main import create_app
from linkscope.settings import Settings
from testing.api_server import serving
from testing.browser import chromium
from tests.test_temporal_cycles import PLANTED, planted  # noqa: F401  (the planted-loop store)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser_site(
    planted: Any,  # noqa: F811
    store_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str], Any, list[str]]]:
    tmp = tmp_path_factory.mktemp("ui_tools")
    keystore = KeyStore(tmp / "keys.json")
    keys = {r: keystore.create(r, f"{r} tester")[1] for r in ("investigator", "analyst")}
    settings = Settings(
        store=f"embedded:{store_path}",
        graph_name="cycles_planted",
        keys_file=str(tmp / "keys.json"),
    )
    problems: list[str] = []
    with serving(create_app(settings)) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        loopback = urlparse(url).hostname
        page.on(
            "request",
            lambda r: (
                problems.append(r.url)
                if urlparse(r.url).scheme.startswith("http")
                and urlparse(r.url).hostname != loopback
                else None
            ),
        )
        yield url, keys, page, problems


def _sign_in(url: str, key: str, page: Any) -> None:
    page.goto(url + "/#/signin")
    page.fill("#key", key)
    page.click("#signin-form button[type=submit]")
    page.locator("#who", has_text="·").wait_for()


def test_account_page_finds_the_planted_loop(browser_site: Any) -> None:
    url, keys, page, problems = browser_site
    _sign_in(url, keys["investigator"], page)
    page.goto(f"{url}/#/account/{PLANTED[0]}")
    page.click("#cycles-search")
    first = page.locator("[data-testid=cycle]").first
    first.wait_for(timeout=30_000)
    assert first.get_attribute("data-accounts") == " ".join(PLANTED)
    assert " → ".join([*PLANTED, PLANTED[0]]) in first.locator("summary").inner_text()
    hops = first.locator("tbody tr")
    assert hops.count() == len(PLANTED)
    assert "transfer" in hops.nth(2).inner_text()
    assert "%" in hops.nth(1).inner_text()  # the retained share
    assert page.locator("#cycles-summary").inner_text()
    # The hook for cases: "Open as case" hands the loop's evidence to whoever listens.
    page.evaluate(
        "() => document.addEventListener('linkscope:open-case', (e) => {"
        " document.body.dataset.openedCase = JSON.stringify(e.detail); })"
    )
    first.locator("button.open-case").click()
    opened = json.loads(page.locator("body").get_attribute("data-opened-case") or "{}")
    assert opened["accounts"] == PLANTED and opened["start"] == PLANTED[0]
    assert len(opened["trade_ids"]) == len(PLANTED) - 1 and len(opened["transfer_ids"]) == 1
    assert not problems, problems


def test_cycles_from_a_cypher_result_and_a_group(browser_site: Any) -> None:
    url, keys, page, problems = browser_site
    _sign_in(url, keys["analyst"], page)
    page.goto(f"{url}/#/cypher")
    page.locator("#cypher-editor .cm-content").wait_for(timeout=30_000)
    page.click("#cypher-query")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    ids = ", ".join(f"'{a}'" for a in PLANTED[2:] + PLANTED[:2])
    page.keyboard.insert_text(f"MATCH (a:Account) WHERE a.account_id IN [{ids}] RETURN a")
    page.click("#cypher-form button[type=submit]")
    page.wait_for_selector("#cypher-result tbody tr")
    page.click("#cycles-search")
    loops = page.locator("[data-testid=cycle]")
    loops.first.wait_for(timeout=30_000)
    assert " ".join(PLANTED) in [
        loops.nth(i).get_attribute("data-accounts") for i in range(loops.count())
    ]
    assert "from 5 account(s)" in page.locator("#cycles-summary").inner_text()
    # A group page searches from its members.
    page.click("a[data-nav=queue]")
    first = page.locator("#queue tbody tr[data-group]").first
    first.wait_for(timeout=30_000)
    first.locator("a").click()
    page.click("#cycles-search")
    page.locator("#cycles-summary").wait_for(timeout=30_000)
    assert "loop(s) from" in page.locator("#cycles-summary").inner_text()
    assert not problems, problems


def test_cypher_editor_completes_a_label_and_marks_an_error(browser_site: Any) -> None:
    url, keys, page, problems = browser_site
    _sign_in(url, keys["analyst"], page)
    page.goto(f"{url}/#/cypher")
    page.locator("#cypher-editor .cm-content").wait_for(timeout=30_000)
    editor = page.locator("#cypher-query")
    assert page.locator("#cypher-query-text").is_hidden()
    # Highlighting: the example query's keywords are styled tokens, not plain text.
    page.wait_for_selector("#cypher-editor .cm-content span")
    # Complete a label from the live schema (this store has Account and Device nodes).
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("MATCH (a:Acc")
    options = page.locator(".cm-tooltip-autocomplete li")
    options.first.wait_for(timeout=10_000)
    assert ":Account" in [t.strip() for t in options.all_inner_texts()]
    options.filter(has_text=":Account").first.click()
    # (the editor closes the bracket as it is opened)
    expect(page.locator("#cypher-query-text")).to_have_value("MATCH (a:Account)")
    editor.press("End")
    # A syntax error is marked in the text where it is.
    page.keyboard.type(" RETRUN a")
    page.wait_for_selector(".cm-lintRange-error", timeout=10_000)
    marked = page.locator(".cm-lintRange-error").first.inner_text()
    assert marked == "RETRUN", marked
    # The query typed in the editor is what runs.
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("MATCH (a:Account) RETURN count(a) AS n")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#cypher-result tbody tr")
    assert page.locator("#cypher-result thead").inner_text().strip() == "n"
    assert not problems, problems
