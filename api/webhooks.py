"""Webhook subscriptions and their delivery: the change feed pushed to enforcement systems.

Subscriptions (URL, kinds of change, secret, how far delivered) live in a file beside the API
keys, owner-only and replaced atomically, not in the graph: analysts' Cypher must not read the
signing secrets. Each delivery is a POST of one change as JSON, signed with HMAC-SHA256 over
the exact body bytes with the subscription's secret (``X-Linkscope-Signature: sha256=<hex>``).

One dispatcher thread per API process, and one process at a time (a lock file shared by every
``--workers`` process), delivers in feed order per subscription: a change is retried with
exponential backoff (``webhook_backoff_s`` doubled per attempt) and later changes wait behind
it, so a receiver sees changes in order; after ``webhook_max_attempts`` it is given up and the
next one follows. Every attempt is logged (``WebhookDelivery`` nodes). Requests are never held
up: deliveries run on the dispatcher's thread, with a time limit per delivery.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import http.client
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from api.private_files import exclusive, save_json
from graph import triage_statements as ts
from graph.backend import GraphBackend
from linkscope.errors import ConfigError, InputError, NotFound
from linkscope.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE = "X-Linkscope-Signature"
BATCH = 50


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    """An admin-configured target: http(s) with a host, no credentials inside the URL."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a malformed port raises here
    except ValueError as exc:
        raise InputError(f"not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("a webhook URL is http:// or https:// with a host")
    if parts.username or parts.password:
        raise InputError("no credentials in a webhook URL; the signature authenticates us")
    if any(c.isspace() for c in url):
        raise InputError("a webhook URL has no whitespace")
    return url


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to ``url``; the status code. Redirects are answers, never followed."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname or "", parts.port, timeout=timeout)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        response.read(65_536)  # a receiver's answer is not kept; read a little to finish cleanly
        return int(response.status)
    finally:
        conn.close()


class WebhookStore:
    """The subscriptions file: one change at a time across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"unreadable webhook file {self.path}: {exc}") from exc
        hooks: dict[str, dict[str, Any]] = data["webhooks"]
        return hooks

    @contextmanager
    def changing(self) -> Iterator[dict[str, dict[str, Any]]]:
        with exclusive(self.path):
            hooks = self.load()
            yield hooks
            save_json(self.path, {"webhooks": hooks})

    def create(
        self, url: str, events: list[str], description: str, by: str, start: int
    ) -> dict[str, Any]:
        hook = {
            "url": check_url(url), "events": sorted(set(events)), "description": description,
            "secret": secrets.token_urlsafe(32), "created_at": int(time.time() * 1000),
            "created_by": by, "delivered_seq": start,
        }  # fmt: skip
        webhook_id = "W-" + secrets.token_hex(6)
        with self.changing() as hooks:
            hooks[webhook_id] = hook
        return {"webhook_id": webhook_id, **hook}

    def delete(self, webhook_id: str) -> None:
        with self.changing() as hooks:
            if hooks.pop(webhook_id, None) is None:
                raise NotFound(f"no webhook {webhook_id!r}")

    def advance(self, webhook_id: str, seq: int) -> None:
        with self.changing() as hooks:
            if webhook_id in hooks:
                hooks[webhook_id]["delivered_seq"] = max(seq, hooks[webhook_id]["delivered_seq"])


@dataclass
class _Retry:
    seq: int
    attempt: int
    next_at: float


class Dispatcher:
    """Delivers the change feed to every subscription, in order, on its own thread."""

    def __init__(self, settings: Settings, hooks: WebhookStore, store: Any) -> None:
        self.settings = settings
        self.hooks = hooks
        self.store = store  # api.deps.StoreHolder: a failed connection is reopened
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._retry: dict[str, _Retry] = {}
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None

    def start(self) -> None:
        if self.settings.webhook_poll_s <= 0:
            return
        self._thread = threading.Thread(target=self._loop, daemon=True, name="webhooks")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.webhook_timeout_s + 5)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def wake(self) -> None:
        """Look for changes now (after a change made through this process)."""
        self._wake.set()

    def _leader(self) -> bool:
        """Only one process of the API delivers: the one holding the lock file."""
        if self._lock_fd is not None:
            return True
        path = self.hooks.path.with_name(self.hooks.path.name + ".dispatch")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._leader():
                    self.deliver_due()
            except Exception:  # the dispatcher must outlive a store hiccup or a bug
                log.exception("webhook dispatch failed; trying again")
            self._wake.wait(self._pause())
            self._wake.clear()

    def _pause(self) -> float:
        pause = self.settings.webhook_poll_s
        if self._retry:
            soonest = min(r.next_at for r in self._retry.values()) - time.monotonic()
            pause = min(pause, max(soonest, 0.01))
        return pause

    def deliver_due(self) -> None:
        hooks = self.hooks.load()
        if not hooks:
            return
        store: GraphBackend = self.store.get()
        for webhook_id, hook in sorted(hooks.items()):
            retry = self._retry.get(webhook_id)
            if retry is not None and retry.next_at > time.monotonic():
                continue
            rows = store.read(
                ts.CHANGES_AFTER,
                {"after": int(hook["delivered_seq"]), "kinds": hook["events"], "limit": BATCH},
            ).rows
            for row in rows:
                if self._stop.is_set() or not self._deliver(store, webhook_id, hook, row):
                    break

    def _deliver(
        self, store: GraphBackend, webhook_id: str, hook: dict[str, Any], row: list[Any]
    ) -> bool:
        seq, kind, at, subject, run_id, payload = row
        body = json.dumps(
            {"seq": int(seq), "kind": kind, "at": int(at), "subject": subject, "run_id": run_id,
             "payload": json.loads(payload or "{}"), "webhook_id": webhook_id},
            sort_keys=True, separators=(",", ":"),
        ).encode()  # fmt: skip
        retry = self._retry.get(webhook_id)
        attempt = retry.attempt + 1 if retry is not None and retry.seq == seq else 1
        headers = {"Content-Type": "application/json", SIGNATURE: sign(hook["secret"], body),
                   "X-Linkscope-Event": str(kind), "X-Linkscope-Delivery": f"{webhook_id}:{seq}",
                   "User-Agent": "linkscope-webhooks/1"}  # fmt: skip
        status: int | None = None
        error = ""
        try:
            status = post(hook["url"], body, headers, self.settings.webhook_timeout_s)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        if not error:
            outcome = "delivered"
        elif attempt >= self.settings.webhook_max_attempts:
            outcome = "gave_up"
        else:
            outcome = "retrying"
        store.run(ts.CREATE_DELIVERY, {
            "webhook_id": webhook_id, "seq": int(seq), "attempt": attempt,
            "at": int(time.time() * 1000), "status_code": status, "outcome": outcome,
            "error": error})  # fmt: skip
        if outcome == "retrying":
            delay = self.settings.webhook_backoff_s * 2 ** (attempt - 1)
            self._retry[webhook_id] = _Retry(int(seq), attempt, time.monotonic() + delay)
            return False
        self._retry.pop(webhook_id, None)
        self.hooks.advance(webhook_id, int(seq))
        hook["delivered_seq"] = int(seq)
        return True
