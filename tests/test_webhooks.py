"""Changes pushed: webhook deliveries to a receiver on loopback (signature, retries with
backoff, order, give-up), and the same changes read as a feed (real HTTP, real store)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from analytics import changes
from testing.api_server import free_port
from tests.triage_api import Site, site

pytestmark = pytest.mark.slow
STRICT = {"trading": {"sync_min_episodes": 60}}
BACKOFF_S = 0.3


class Receiver:
    """An HTTP endpoint on loopback that records what it is sent; the first ``fail`` requests
    answer 500 after ``delay`` seconds."""

    def __init__(self, fail: int = 0, delay: float = 0.0) -> None:
        self.fail, self.delay = fail, delay
        self.received: list[tuple[float, dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                failing = len(receiver.received) < receiver.fail
                if failing:
                    time.sleep(receiver.delay)
                status = 500 if failing else 204
                receiver.received.append((time.monotonic(), dict(self.headers), body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[dict[str, Any]]:
        return [json.loads(b) for _, _, b, status in self.received if status == 204]


@pytest.fixture(scope="module")
def api(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(store_path, tmp_path_factory.mktemp("hooks"), "hooks", webhook_poll_s=0.2,
              webhook_backoff_s=BACKOFF_S, webhook_max_attempts=3) as s:  # fmt: skip
        yield s


def _wait(check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _feed(api: Site, after: str = "0", **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = api.ok("GET", "/v1/events", role="enforcement",
                      params={"after": after, "limit": 2, **params})  # fmt: skip
        items += page["items"]
        if not page["items"]:
            assert page["next_cursor"] == after
            return items
        after = page["next_cursor"]


def test_subscriptions_are_for_admins_and_checked(api: Site) -> None:
    body = {"url": "http://127.0.0.1:9/x", "events": ["new_violation"]}
    assert api.call("POST", "/v1/webhooks", role="investigator", json=body).status_code == 403
    assert api.call("GET", "/v1/webhooks", role="enforcement").status_code == 403
    for url in ("ftp://127.0.0.1/x", "file:///etc/passwd", "http://user:pw@127.0.0.1/x",
                "http:///nohost", "javascript:alert(1)"):  # fmt: skip
        bad = api.call("POST", "/v1/webhooks", json=body | {"url": url})
        assert bad.status_code == 422, url
    assert api.call("POST", "/v1/webhooks", json=body | {"events": ["nope"]}).status_code == 422
    made = api.ok("POST", "/v1/webhooks", json=body)
    assert made["secret"] and made["webhook_id"].startswith("W-")
    listed = {h["webhook_id"]: h for h in api.ok("GET", "/v1/webhooks")}
    assert listed[made["webhook_id"]]["secret"] is None  # shown once
    assert made["secret"] not in (api.settings.keys_file and Path(api.settings.keys_file).read_text())
    assert api.call("DELETE", f"/v1/webhooks/{made['webhook_id']}").status_code == 204
    assert api.call("DELETE", f"/v1/webhooks/{made['webhook_id']}").status_code == 404
    actions = [e["action"] for e in api.ok("GET", "/v1/audit")]
    assert "webhook:create" in actions and "webhook:delete" in actions


def test_changes_are_signed_retried_and_delivered_in_order(api: Site) -> None:
    receiver = Receiver(fail=2, delay=1.0)
    dead = f"http://127.0.0.1:{free_port()}/nobody"  # refused: given up after 3 attempts
    kinds = ["new_violation", "verdict_changed"]
    hook = api.ok("POST", "/v1/webhooks", json={"url": receiver.url, "events": kinds})
    gone = api.ok("POST", "/v1/webhooks", json={"url": dead, "events": ["verdict_changed"]})
    start = api.ok("GET", "/v1/events", params={"after": "0", "limit": 1000})["next_cursor"]

    shadow = api.run({"dry_run": True, "config": STRICT})
    assert _feed(api, start) == []  # a shadow run changes nothing anyone acts on
    api.ok("POST", f"/v1/runs/{shadow}/promote")
    api.run({"config": {}})  # the defaults again: the vanished groups come back as violations
    events = _feed(api, start)
    assert {e["kind"] for e in events} == set(kinds), events
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    gone_ones = [e for e in events if e["kind"] == "verdict_changed"]
    assert gone_ones and gone_ones[0]["payload"]["previous_verdict"] == "violation"
    assert all(e["payload"]["previous_verdict"] != e["payload"]["verdict"] for e in gone_ones)
    assert _feed(api, start, kind="new_violation") == [
        e for e in events if e["kind"] == "new_violation"
    ]

    # While the receiver keeps the dispatcher waiting, requests are answered at once.
    _wait(lambda: len(receiver.received) >= 1, timeout=30)
    began = time.monotonic()
    api.ok("GET", "/v1/me")
    assert time.monotonic() - began < 0.5

    _wait(lambda: len(receiver.delivered()) == len(events), timeout=90)
    first = [r for r in receiver.received if json.loads(r[2])["seq"] == events[0]["seq"]]
    assert [r[3] for r in first] == [500, 500, 204]  # retried until it was taken
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(first)]
    assert gaps[0] >= BACKOFF_S and gaps[1] >= 2 * BACKOFF_S  # backoff doubles
    for _, headers, body, _status in receiver.received:
        expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Linkscope-Signature"], expected)
        assert headers["X-Linkscope-Delivery"] == f"{hook['webhook_id']}:{json.loads(body)['seq']}"
    delivered = receiver.delivered()
    assert [d["seq"] for d in delivered] == [e["seq"] for e in events]  # in feed order, once
    assert [d["payload"] for d in delivered] == [e["payload"] for e in events]

    log = api.ok("GET", f"/v1/webhooks/{hook['webhook_id']}/deliveries", params={"limit": 1000})
    firsts = sorted((d["attempt"], d["outcome"]) for d in log if d["seq"] == events[0]["seq"])
    assert firsts == [(1, "retrying"), (2, "retrying"), (3, "delivered")]
    assert sum(d["outcome"] == "delivered" for d in log) == len(events)

    _wait(lambda: any(d["outcome"] == "gave_up" for d in api.ok(
        "GET", f"/v1/webhooks/{gone['webhook_id']}/deliveries")), timeout=60)  # fmt: skip
    tried = api.ok("GET", f"/v1/webhooks/{gone['webhook_id']}/deliveries", params={"limit": 10})
    first_dead = sorted((d["attempt"], d["outcome"]) for d in tried if d["seq"] == gone_ones[0]["seq"])
    assert first_dead == [(1, "retrying"), (2, "retrying"), (3, "gave_up")]
    assert all(d["status_code"] is None and d["error"] for d in tried)
    bad = api.call("GET", "/v1/events", params={"after": "x"})
    assert bad.status_code == 400


def test_casework_hooks_reach_the_feed_and_subscribers(api: Site) -> None:
    receiver = Receiver()
    hook = api.ok("POST", "/v1/webhooks",
                  json={"url": receiver.url, "events": ["case_closed", "action_approved"]})  # fmt: skip
    start = api.ok("GET", "/v1/events", params={"after": "0", "limit": 1000})["next_cursor"]
    changes.case_closed(api.store, "C-1", "G-x", "confirmed", "k1")
    changes.action_approved(api.store, "G-x", "freeze_pending_review", "k1", "k2")
    seen = _feed(api, start)
    assert [e["kind"] for e in seen] == ["case_closed", "action_approved"]
    assert seen[0]["subject"] == "case:C-1" and seen[1]["payload"]["approved_by"] == "k2"
    _wait(lambda: len(receiver.delivered()) == 2, timeout=30)
    assert [d["kind"] for d in receiver.delivered()] == ["case_closed", "action_approved"]
    assert api.call("DELETE", f"/v1/webhooks/{hook['webhook_id']}").status_code == 204
