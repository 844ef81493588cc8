"""Opaque keyset cursors: a JSON value, URL-safe base64 without padding."""

from __future__ import annotations

import base64
import json
from typing import Any

from linkscope.errors import QueryError


def encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode(text: str) -> Any:
    """The value a cursor carries; ``QueryError`` (400) when it is not one of ours."""
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError as exc:
        raise malformed() from exc


def malformed() -> QueryError:
    return QueryError("malformed cursor; pass next_cursor from the previous page")
