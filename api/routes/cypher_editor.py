"""What the Cypher console's editor needs besides running queries: the live schema for
completion, a person's saved queries (per API key, in the graph; every change audited) and the
library of example investigations."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.audit import record
from api.deps import Analyst, StoreDep
from api.schemas import CypherIn
from api.services.cached import cached, data_version
from graph import investigation_statements as q
from linkscope.errors import NotFound, QueryError

router = APIRouter(prefix="/v1/cypher", tags=["cypher"])

MAX_SAVED = 200  # per key: a library, not a store


class CypherSchema(BaseModel):
    model_config = ConfigDict(frozen=True)
    labels: list[str]
    relationship_types: list[str]
    property_keys: list[str]


class SavedQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=20_000)
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, Any]) -> dict[str, Any]:
        # The same rules as a query's parameters (names, value ranges, nesting).
        CypherIn(query="RETURN 1", params=value)
        return value


class SavedQuery(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    query: str
    params: dict[str, Any]
    saved_at: int = Field(description="UTC epoch milliseconds.")


class Example(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    description: str
    query: str
    params: dict[str, Any] = Field(description="Parameters to fill in before running.")


@router.get("/schema", response_model=CypherSchema, summary="Labels, types and keys in the graph")
async def schema(request: Request, store: StoreDep, _: Analyst) -> CypherSchema:
    """What the editor completes: read with `db.labels()`, `db.relationshipTypes()` and
    `db.propertyKeys()`, cached per data version."""
    version = await data_version(request, store)

    def read() -> CypherSchema:
        return CypherSchema(
            labels=[str(r[0]) for r in store.read(q.SCHEMA_LABELS).rows],
            relationship_types=[str(r[0]) for r in store.read(q.SCHEMA_REL_TYPES).rows],
            property_keys=[str(r[0]) for r in store.read(q.SCHEMA_PROPERTY_KEYS).rows],
        )

    return await cached(request, ("cypher-schema", version.ingest, version.run_id), read)


@router.get("/examples", response_model=list[Example], summary="Example investigations")
def examples(_: Analyst) -> list[Example]:
    return [Example.model_validate(e) for e in q.EXAMPLES]


@router.get("/saved", response_model=list[SavedQuery], summary="The caller's saved queries")
def saved(store: StoreDep, caller: Analyst) -> list[SavedQuery]:
    return [
        SavedQuery(name=n, query=text, params=json.loads(p or "{}"), saved_at=int(at))
        for n, text, p, at in store.read(q.SAVED_QUERIES, {"key_id": caller.key_id}).rows
    ]


@router.put(
    "/saved/{name:id}",
    response_model=SavedQuery,
    status_code=status.HTTP_200_OK,
    summary="Save (or replace) one of the caller's queries",
)
def save(name: str, body: SavedQueryIn, store: StoreDep, caller: Analyst) -> SavedQuery:
    if not 1 <= len(name) <= 100:
        raise QueryError("a saved query's name has 1 to 100 characters")
    names = {str(r[0]) for r in store.read(q.SAVED_QUERIES, {"key_id": caller.key_id}).rows}
    if name not in names and len(names) >= MAX_SAVED:
        raise QueryError(f"at most {MAX_SAVED} saved queries per key; delete one first")
    at = int(time.time() * 1000)
    params = json.dumps(body.params, ensure_ascii=False, sort_keys=True)
    store.run(
        q.SAVE_QUERY,
        {
            "key_id": caller.key_id,
            "name": name,
            "query": body.query,
            "params": params,
            "saved_at": at,
        },
    )
    record(store, caller, "cypher:save", f"saved_query:{name}", body.query)
    return SavedQuery(name=name, query=body.query, params=body.params, saved_at=at)


@router.delete(
    "/saved/{name:id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a saved query"
)
def delete(name: str, store: StoreDep, caller: Analyst) -> None:
    gone = store.run(q.DELETE_SAVED_QUERY, {"key_id": caller.key_id, "name": name}).scalar()
    if not gone:
        raise NotFound(f"no saved query {name!r}")
    record(store, caller, "cypher:delete", f"saved_query:{name}")
