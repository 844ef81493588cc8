"""Cluster views for the UI: pyvis-built pages (HTML) and view-ready node/edge lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pyvis.network import Network

from api import cluster, security
from api.deps import AnyRole, Investigation, StoreDep
from api.schemas import Neighborhood
from api.services.accounts import neighborhood
from api.services.groups import load_group
from graph import drill_statements as q_drill
from graph.backend import GraphBackend

router = APIRouter(prefix="/v1", tags=["views"])
# Documented as HTML for 200; errors keep the JSON error shape (the app-level responses).
HTML: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/html": {"schema": {"type": "string"}}},
        "description": "A self-contained page (no external loads).",
    }
}


def _page(net: Network, title: str) -> HTMLResponse:
    # Opened on its own (not in the UI's sandboxed frame), the page is sandboxed all the same.
    policy = security.policy(sandbox=True)
    return HTMLResponse(cluster.render(net, title), headers={"Content-Security-Policy": policy})


@router.get("/groups/{group_id:id}/graph", responses=HTML,
            summary="The group's cluster view (pyvis, vis-network inline)")  # fmt: skip
def group_view(group_id: str, store: StoreDep, _: AnyRole) -> HTMLResponse:
    detail = load_group(store, group_id, None, with_decisions=False)
    nodes, edges = cluster.group_graph(store, detail)
    return _page(cluster.build(nodes, edges), f"group {group_id}")


@router.get("/accounts/{account_id:id}/graph", responses=HTML,
            summary="The account's ego network (pyvis, vis-network inline)")  # fmt: skip
def account_view(
    account_id: str,
    store: StoreDep,
    caller: Investigation,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=2000)] = 150,
) -> HTMLResponse:
    hood = neighborhood(store, account_id, depth, limit, None)
    nodes, edges = cluster.graph_items(hood, _groups(store, hood), account_id)
    return _page(cluster.build(nodes, edges), f"account {account_id}")


@router.get("/accounts/{account_id:id}/neighborhood/view", summary="Neighbourhood as view items")
def account_view_items(
    account_id: str,
    store: StoreDep,
    caller: Investigation,
    limit: Annotated[int, Query(ge=1, le=2000)] = 60,
    subject: Annotated[str | None, Query(max_length=256, description="The page's account.")] = None,
) -> dict[str, list[dict[str, Any]]]:
    """For expand-on-click: the same styling groups as the page, added to it by the UI;
    ``subject`` is the account whose page it is (its group's members are coloured as such)."""
    hood = neighborhood(store, account_id, 1, limit, None)
    groups = _groups(store, hood, subject)
    nodes, edges = cluster.graph_items(hood, groups, subject)
    return {"nodes": nodes, "edges": edges}


def _groups(
    store: GraphBackend, hood: Neighborhood, subject: str | None = None
) -> dict[str, tuple[str, str]]:
    """The current group and verdict of every account drawn (and of the page's subject)."""
    accounts = [n.key for n in hood.nodes if n.label == "Account"] + ([subject] if subject else [])
    rows = store.read(q_drill.ACCOUNT_GROUPS, {"accounts": accounts}).rows
    return {str(a): (str(g), str(v)) for a, g, v in rows}


@router.get("/graph/blank", responses=HTML,
            summary="An empty view the UI fills (Cypher results)")  # fmt: skip
def blank_view(_: AnyRole) -> HTMLResponse:
    return _page(cluster.build([], []), "query result")
