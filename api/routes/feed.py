"""The change feed (``GET /v1/events``, for systems that poll) and webhook subscriptions (the
same changes pushed). Not to be confused with ``events.py``: an account's fills and orders from
the event store."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from analytics.changes import KINDS
from api.audit import record
from api.deps import Admin, AnyRole, StoreDep
from api.triage_schemas import ChangeEvent, ChangePage, Delivery, Webhook, WebhookIn
from api.webhooks import WebhookStore
from graph import triage_statements as ts
from linkscope.errors import QueryError

router = APIRouter(prefix="/v1", tags=["changes"])


@router.get("/events", response_model=ChangePage, summary="Changes after a cursor, in order")
def changes(
    store: StoreDep,
    _: AnyRole,
    after: Annotated[
        str, Query(max_length=20, description="`next_cursor` of the previous page; 0: the start.")
    ] = "0",
    kind: Annotated[list[str] | None, Query(description="Only these kinds (repeatable).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangePage:
    """Verdict changes, new violations, closed cases and approved actions, oldest first. The
    cursor is the last position read: poll with it to get what happened since."""
    if not after.isdigit():
        raise QueryError("after is the next_cursor of a previous page (a number)")
    unknown = sorted(set(kind or []) - set(KINDS))
    if unknown:
        raise QueryError(f"unknown kind {unknown[0]!r}; one of {', '.join(KINDS)}")
    rows = store.read(ts.CHANGES_AFTER, {"after": int(after), "kinds": kind, "limit": limit}).rows
    items = [
        ChangeEvent(
            seq=int(r[0]),
            kind=r[1],
            at=int(r[2]),
            subject=r[3],
            run_id=r[4],
            payload=json.loads(r[5] or "{}"),
        )
        for r in rows
    ]
    return ChangePage(items=items, next_cursor=str(items[-1].seq if items else int(after)))


def _hooks(request: Request) -> WebhookStore:
    hooks: WebhookStore = request.app.state.webhooks
    return hooks


def _public(webhook_id: str, hook: dict[str, object], secret: bool = False) -> Webhook:
    return Webhook.model_validate(
        {
            "webhook_id": webhook_id,
            **{k: v for k, v in hook.items() if k != "secret"},
            "secret": hook["secret"] if secret else None,
        }
    )


@router.post("/webhooks", response_model=Webhook, status_code=status.HTTP_201_CREATED,
             summary="Subscribe a URL to changes (the secret is shown once)")  # fmt: skip
def create_webhook(request: Request, body: WebhookIn, store: StoreDep, caller: Admin) -> Webhook:
    start = int(store.read(ts.LAST_CHANGE).scalar() or 0)  # from now on; the feed has the past
    hook = _hooks(request).create(body.url, list(body.events), body.description, caller.key_id,
                                  start)  # fmt: skip
    webhook_id = str(hook.pop("webhook_id"))
    record(store, caller, "webhook:create", f"webhook:{webhook_id}",
           f"{body.url} {','.join(body.events)}")  # fmt: skip
    return _public(webhook_id, hook, secret=True)


@router.get("/webhooks", response_model=list[Webhook], summary="Webhook subscriptions")
def list_webhooks(request: Request, _: Admin) -> list[Webhook]:
    return [_public(w, h) for w, h in sorted(_hooks(request).load().items())]


@router.delete("/webhooks/{webhook_id:id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Unsubscribe")  # fmt: skip
def delete_webhook(request: Request, webhook_id: str, store: StoreDep, caller: Admin) -> None:
    _hooks(request).delete(webhook_id)
    record(store, caller, "webhook:delete", f"webhook:{webhook_id}")


@router.get("/webhooks/{webhook_id:id}/deliveries", response_model=list[Delivery],
            summary="Delivery attempts, newest first")  # fmt: skip
def deliveries(
    webhook_id: str, store: StoreDep, _: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Delivery]:  # fmt: skip
    return [
        Delivery(
            webhook_id=r[0],
            seq=int(r[1]),
            attempt=int(r[2]),
            at=int(r[3]),
            status_code=r[4],
            outcome=r[5],
            error=r[6] or "",
        )
        for r in store.read(ts.DELIVERIES, {"webhook_id": webhook_id, "limit": limit}).rows
    ]

