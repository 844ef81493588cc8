"""The pack as PDF, printed by headless Chromium.

Chromium rather than WeasyPrint: it is already what the UI tests drive (Debian's ``chromium``,
installed by ``make test``), it prints the very HTML a reader opens in a browser (the same
layout engine, SVG and CSS grid included), and it needs nothing from PyPI. WeasyPrint would add
Pango and its system libraries to every install, and lays out SVG and grid with its own engine.
Where no Chromium is installed the PDF is refused with a clear error; the HTML pack stays
available. The page is a local file with no references out, printed with networking off.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from linkscope.errors import LinkscopeError

TIMEOUT_S = 120
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
    "--disable-gpu",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    # a pack names no host; this makes sure nothing it holds can make Chromium try one
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


class PdfUnavailable(LinkscopeError):
    """No browser to print with (answered 503: the HTML pack works, the PDF needs Chromium)."""

    status_code = 503
    code = "pdf_unavailable"


def find_chromium(configured: str | None = None) -> str:
    if configured:
        return configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfUnavailable(
        "no Chromium to print the PDF with: install chromium or set LINKSCOPE_CHROMIUM "
        "(the HTML pack needs nothing)"
    )


def to_pdf(html: str, chromium: str | None = None) -> bytes:
    """Print ``html`` to PDF (A4, the page's own print CSS) and return the PDF's bytes."""
    browser = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="linkscope-pdf-") as tmp:
        page, out = Path(tmp) / "pack.html", Path(tmp) / "pack.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            done = subprocess.run(
                [browser, *FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}",
                 page.as_uri()],
                capture_output=True, timeout=TIMEOUT_S, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"printing the PDF failed: {exc}") from exc
        if not out.is_file() or out.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace")[-500:]
            raise PdfUnavailable(f"Chromium printed no PDF (exit {done.returncode}): {tail}")
        return out.read_bytes()
