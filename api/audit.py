"""The audit log: every write through the API (and key changes) as an AuditEntry node."""

from __future__ import annotations

import time

from api.keys import Caller
from graph import api_statements as q
from graph.backend import GraphBackend


def record(store: GraphBackend, caller: Caller, action: str, target: str, detail: str = "") -> None:
    store.run(
        q.CREATE_AUDIT,
        {
            "at": int(time.time() * 1000),
            "key_id": caller.key_id,
            "role": caller.role,
            "action": action,
            "target": target,
            "detail": detail[:2000],
        },
    )
