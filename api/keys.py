"""API keys: created and revoked by ``linkscope keys``, stored hashed, checked on every call.

A key reads ``lsk_<key id>_<secret>``. Only the SHA-256 of the secret is stored: secrets are
32 random bytes, so a fast hash is enough (no dictionary to guess from), and verification
stays in the microseconds that a per-request check needs. The file lives outside the graph so
analysts' Cypher cannot read it, and is replaced atomically and fsynced, owner-only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.private_files import exclusive, save_json
from linkscope.errors import ConfigError, NotFound, Unauthenticated

ROLES = ("enforcement", "investigator", "analyst", "admin")
PREFIX = "lsk_"


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    name: str


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[float, dict[str, dict[str, Any]]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache is not None and self._cache[0] == mtime:
            return self._cache[1]
        try:
            keys = json.loads(self.path.read_text(encoding="utf-8"))["keys"]
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"unreadable key file {self.path}: {exc}") from exc
        self._cache = (mtime, keys)
        return dict(keys)

    @contextmanager
    def _changing(self) -> Iterator[dict[str, dict[str, Any]]]:
        """The keys, to change and save; one change at a time across processes."""
        with exclusive(self.path):
            self._cache = None
            keys = dict(self._load())
            yield keys
            save_json(self.path, {"keys": keys})
            self._cache = None

    def create(self, role: str, name: str = "") -> tuple[str, str]:
        """A new key for ``role``: returns (key id, plain key). The plain key is not kept."""
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self._changing() as keys:
            keys[key_id] = {
                "role": role,
                "name": name,
                "hash": hashlib.sha256(secret.encode()).hexdigest(),
                "created_at": int(time.time() * 1000),
                "revoked_at": None,
            }
        return key_id, f"{PREFIX}{key_id}_{secret}"

    def revoke(self, key_id: str) -> None:
        with self._changing() as keys:
            if key_id not in keys:
                raise NotFound(f"no key {key_id!r}")
            keys[key_id] = dict(keys[key_id], revoked_at=int(time.time() * 1000))

    def list(self) -> list[dict[str, Any]]:
        return [
            {"key_id": k, **{f: v[f] for f in ("role", "name", "created_at", "revoked_at")}}
            for k, v in sorted(self._load().items())
        ]

    def verify(self, token: str | None) -> Caller:
        if not token or not token.startswith(PREFIX) or token.count("_") < 2:
            raise Unauthenticated("missing or malformed API key (Authorization: Bearer lsk_...)")
        key_id, _, secret = token.removeprefix(PREFIX).partition("_")
        entry = self._load().get(key_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if entry is None or entry["revoked_at"] or not hmac.compare_digest(digest, entry["hash"]):
            raise Unauthenticated("unknown or revoked API key")
        return Caller(key_id, str(entry["role"]), str(entry.get("name") or ""))
