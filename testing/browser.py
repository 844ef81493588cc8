"""Headless Chromium for UI tests and benchmarks (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts,
# which this machine's closed network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def set_cypher_query(page: Any, text: str) -> None:
    """Put a query into the console's Cypher editor the way a person does (select all, type).

    Playwright's ``fill`` on the editor's editable element goes through Chromium's editing
    commands, which add inline style attributes that the page's Content-Security-Policy refuses
    (a console error no user would cause); typing does not.
    """
    page.locator("#cypher-editor .cm-content").wait_for(timeout=30_000)
    page.click("#cypher-query")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")  # close a completion list that would cover the Run button
