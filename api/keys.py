"""API keys: created and revoked by ``linkscope keys``, stored hashed, checked on every call.

A key reads ``lsk_<key id>_<secret>``. Only the SHA-256 of the secret is stored: secrets are
32 random bytes, so a fast hash is enough (no dictionary to guess from), and verification
stays in the microseconds that a per-request check needs. The file lives outside the graph so
analysts' Cypher cannot read it, and is replaced atomically and fsynced, owner-only.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._cache = None
            keys = dict(self._load())
            yield keys
            self._save(keys)
        finally:
            os.close(fd)  # releases the lock

    def _save(self, keys: dict[str, dict[str, Any]]) -> None:
        """Replace the file atomically and durably: a crash leaves the old or the new file."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                json.dump({"keys": keys}, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself must survive a crash
        finally:
            os.close(directory)
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
