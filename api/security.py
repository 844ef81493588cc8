"""Security headers on every response: Content-Security-Policy, nosniff, Referrer-Policy.

The policy allows this origin's files and, by hash, the cluster view's inline vis-network and
start-up script and style (``api.cluster.inline_hashes``): no inline event handlers, no
``eval``, nothing from another origin. Hashes rather than nonces because the UI loads a view
with ``fetch`` into an ``<iframe srcdoc>``, which runs under the *embedding* page's policy: a
nonce would have to be shared between two responses, a hash of fixed text needs nothing.
The view pages carry their data in a JSON block, so their scripts are the same bytes always.

The ``/docs`` page (Swagger UI, served from the package by ``fastapi_offline``, nothing from a
CDN) starts with inline code; it gets its own policy with ``'unsafe-inline'`` (it shows the
schema, no data), still this origin only.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import cluster

DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")
DOCS_ASSETS = "/docs-assets"  # Swagger UI's and ReDoc's files, from the fastapi_offline package


@lru_cache(maxsize=2)
def policy(*, sandbox: bool = False) -> str:
    """The Content-Security-Policy of the UI and the API; ``sandbox`` for the view pages."""
    hashes = cluster.inline_hashes()
    directives = [
        "default-src 'none'",
        "script-src " + " ".join(["'self'", *hashes["script"]]),
        "style-src " + " ".join(["'self'", *hashes["style"]]),
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
    if sandbox:  # opened on its own, a view page still gets no origin of its own
        directives.append("sandbox allow-scripts")
    return "; ".join(directives)


# What Swagger UI's page needs: its inline start-up code and styles, images as data URLs;
# every file from this origin.
DOCS_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
FIXED = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
CSP = b"content-security-policy"


class SecurityHeaders:
    """ASGI middleware; a response that sets its own policy keeps it. Raw header tuples, built
    once: this runs on every response of the hot read paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers: dict[bool, list[tuple[bytes, bytes]]] = {}

    def _extra(self, docs: bool) -> list[tuple[bytes, bytes]]:
        if docs not in self._headers:
            csp = DOCS_POLICY if docs else policy()
            self._headers[docs] = [*FIXED, (CSP, csp.encode("ascii"))]
        return self._headers[docs]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._extra(scope["path"] in DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Wrap the whole middleware stack: ``add_middleware`` would sit inside Starlette's
    server-error layer, and the generic 500 answers would go out without the headers."""
    build = app.build_middleware_stack

    def stack() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = stack  # type: ignore[method-assign]
