"""Suppressions made through the API (directly or with a dismissal), read back and revoked."""

from __future__ import annotations

import time
import uuid
from typing import Any

from analytics.suppression import REASONS
from api.audit import record
from api.keys import Caller
from api.triage_schemas import Suppression, SuppressionIn
from graph import triage_statements as ts
from graph.backend import GraphBackend
from linkscope.errors import Forbidden, NotFound, QueryError

DEFAULT_DAYS = 90
DAY_MS = 86_400_000


def create(
    store: GraphBackend, caller: Caller, body: SuppressionIn, group_id: str | None = None
) -> Suppression:
    now = int(time.time() * 1000)
    expires_at = body.expires_at if body.expires_at is not None else now + DEFAULT_DAYS * DAY_MS
    if expires_at <= now:
        raise QueryError("expires_at must lie ahead (epoch ms)")
    scope, kind = REASONS[body.reason]
    accounts = sorted(set(body.accounts or []))
    if kind is not None:
        if not store.read(ts.IDENTIFIER_NODE[kind], {"value": body.identifier}).rows:
            raise NotFound(f"no {kind} {body.identifier!r} in the graph")
    else:
        known = {str(r[0]) for r in store.read(ts.KNOWN_ACCOUNTS, {"ids": accounts}).rows}
        missing = [a for a in accounts if a not in known]
        if missing:
            raise NotFound(f"no account {missing[0]!r}")
    params = {
        "suppression_id": "S-" + uuid.uuid4().hex[:12], "scope": scope, "reason": body.reason,
        "identifier_kind": kind, "identifier": body.identifier, "accounts": accounts,
        "note": body.note, "group_id": group_id, "by_key": caller.key_id,
        "by_role": caller.role, "created_at": now, "expires_at": expires_at,
    }  # fmt: skip
    store.run(ts.CREATE_SUPPRESSION, params)
    what = body.identifier if kind else ",".join(accounts)
    record(store, caller, "suppression:create", f"suppression:{params['suppression_id']}",
           f"{body.reason} {what} until {expires_at}; {body.note}")  # fmt: skip
    return get(store, str(params["suppression_id"]))


def _row(r: list[Any], now: int) -> Suppression:
    return Suppression(
        suppression_id=r[0], scope=r[1], reason=r[2], identifier_kind=r[3], identifier=r[4],
        accounts=list(r[5] or []), note=r[6] or "", group_id=r[7], by_key=r[8], by_role=r[9],
        created_at=int(r[10]), expires_at=int(r[11]),
        revoked_at=None if r[12] is None else int(r[12]), revoked_by=r[13],
        active=r[12] is None and int(r[11]) > now,
    )  # fmt: skip


def listing(store: GraphBackend, active: bool | None, limit: int) -> list[Suppression]:
    now = int(time.time() * 1000)
    rows = store.read(ts.LIST_SUPPRESSIONS, {"active": active, "now": now, "limit": limit}).rows
    return [_row(r, now) for r in rows]


def get(store: GraphBackend, suppression_id: str) -> Suppression:
    rows = store.read(ts.SUPPRESSION, {"suppression_id": suppression_id}).rows
    if not rows:
        raise NotFound(f"no suppression {suppression_id!r}")
    return _row(rows[0], int(time.time() * 1000))


def revoke(store: GraphBackend, caller: Caller, suppression_id: str) -> Suppression:
    current = get(store, suppression_id)
    if caller.role != "admin" and current.by_key != caller.key_id:
        raise Forbidden("only its author or an admin revokes a suppression")
    if current.revoked_at is None:
        store.run(
            ts.REVOKE_SUPPRESSION,
            {"suppression_id": suppression_id, "at": int(time.time() * 1000),
             "by_key": caller.key_id},
        )  # fmt: skip
        record(store, caller, "suppression:revoke", f"suppression:{suppression_id}")
    return get(store, suppression_id)
