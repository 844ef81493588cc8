"""The HTTP API: an app factory; nothing is built or opened at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api import errors, paths, security
from api.cache import ReadCache
from api.deps import StoreHolder
from api.keys import KeyStore
from api.lane import CypherLane
from api.limits import RequestGate
from api.routes import (
    accounts,
    cases,
    cycles,
    cypher,
    cypher_editor,
    drill,
    events,
    feed,
    groups,
    replay,
    reports,
    runs,
    suppressions,
    system,
    views,
)
from api.runner import RunManager
from api.schemas import ErrorBody
from api.services.cycles import FlowCache
from api.webhooks import Dispatcher, WebhookStore
from graph.backend import GraphBackend
from graph.store import open_store
from linkscope.settings import Settings, get_settings


def ui_dir() -> Path:
    """The UI's files, wherever the ``ui_static`` package is installed (repo or site-packages)."""
    root = files("ui_static")
    # StaticFiles serves from a directory; pip always unpacks wheels, so only an unusual
    # zipped install could give something else, and that should fail here, not on a request.
    if not isinstance(root, Path) or not (root / "index.html").is_file():
        raise RuntimeError(f"the UI files are missing from the installed package ({root})")
    return root


def _open(settings: Settings) -> GraphBackend:
    return open_store(settings=settings)


def create_app(
    settings: Settings | None = None, opener: Callable[[Settings], GraphBackend] = _open
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.dispatcher.start()
        yield
        app.state.dispatcher.stop()
        app.state.store.close()

    app = FastAPIOffline(
        static_url=security.DOCS_ASSETS,
        redoc_url=None,  # ReDoc's bundle shows a logo from its CDN; Swagger UI at /docs suffices
        title="linkscope",
        version="1",
        description="Groups of exchange accounts under common control, their verdicts and evidence. "
        "Every /v1 call needs `Authorization: Bearer <key>` (see `linkscope keys`).",
        lifespan=lifespan,
        responses={
            code: {"model": ErrorBody}
            for code in (400, 401, 403, 404, 408, 409, 410, 413, 422, 429, 503)
        },
    )
    app.state.settings = settings
    app.state.store = StoreHolder(settings, opener)
    app.state.keys = KeyStore(Path(settings.keys_file))
    app.state.runs = RunManager(settings)
    app.state.webhooks = WebhookStore(Path(settings.keys_file).parent / "webhooks.json")
    app.state.dispatcher = Dispatcher(settings, app.state.webhooks, app.state.store)
    app.state.cache = ReadCache()
    app.state.cycle_flows = FlowCache()
    app.state.cypher_lane = CypherLane(
        Path(settings.keys_file).parent / "cypher-lane",  # shared by every worker of this API
        settings.cypher_concurrency,
        settings.cypher_per_caller,
        settings.cypher_queue_ms / 1000,
    )
    app.add_middleware(RequestGate, keys=app.state.keys, max_body_bytes=settings.max_body_bytes)
    errors.install(app)
    app.add_middleware(paths.SegmentPaths)
    security.install(app)
    routers = (system, groups, cases, accounts, events, feed, replay, reports, cycles, cypher, cypher_editor)
    for module in (*routers, runs, suppressions, views, drill):
        app.include_router(module.router)
    # The UI: its page at "/", its files under /static. Not a catch-all mount at "/", which
    # would answer 404 instead of 405 for a wrong method on an API path.
    ui = ui_dir()
    app.mount("/static", StaticFiles(directory=ui), name="ui")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(ui / "index.html")

    return app
