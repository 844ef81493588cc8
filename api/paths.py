"""Ids in URL paths: any contract id, including ones with ``/``, ``%``, ``?``, ``#`` or spaces.

Clients percent-encode an id into one path segment (``a/b`` as ``a%2Fb``). The server decodes
the whole path before routing, so ``a%2Fb`` would be routed as two segments and miss its route.
``SegmentPaths`` re-reads the raw path and keeps an encoded ``/`` (and ``%``) inside its
segment; the ``id`` path convertor every id parameter uses undoes exactly that.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/v1/"


class IdConvertor(Convertor[str]):
    regex = "[^/]+"

    def convert(self, value: str) -> str:
        # Only "%25" and "%2F" occur here (see SegmentPaths); unquote undoes both in one pass.
        return unquote(value)

    def to_string(self, value: str) -> str:
        return _keep(value)


def _keep(segment: str) -> str:
    return segment.replace("%", "%25").replace("/", "%2F")


def register() -> None:
    """Make ``{name:id}`` available to route paths (before the routes are declared)."""
    register_url_convertor("id", IdConvertor())


class SegmentPaths:
    """ASGI middleware: route ``/v1`` paths by their raw segments, not the decoded path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%" in raw and scope["path"].startswith(PREFIX):
            text = raw.split(b"?", 1)[0].decode("utf-8", "replace")
            path = "/".join(_keep(unquote(part)) for part in text.split("/"))
            scope = {**scope, "path": path}
        await self.app(scope, receive, send)
