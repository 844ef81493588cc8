"""CLI commands of the API: ``serve`` and ``keys create|revoke|list``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    from api.keys import KeyStore

from cli.common import StoreOpt, app, console, fail, out, settings_for, show
from linkscope.errors import LinkscopeError

# On SIGTERM/SIGINT uvicorn stops accepting, waits for requests in flight, then runs the app's
# shutdown, which closes the store (the embedded server saves and stops when this was its last
# client). A Cypher query may run for a minute: without a bound, a supervisor's SIGKILL would
# come first and leave the store running with nobody closing it.
GRACEFUL_SHUTDOWN_S = 5

keys_app = typer.Typer(help="Create, revoke and list API keys (stored hashed; shown once).")
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (they share the store).")] = 1,
    store: StoreOpt = None,
) -> None:
    """Serve the HTTP API (under /v1, OpenAPI at /docs) and the investigator UI (at /)."""
    import os

    import uvicorn

    settings = settings_for(store)
    console.print(f"serving linkscope on http://{host}:{port} (store {settings.store})")
    if workers > 1:
        # Worker processes build the app from the environment: pass the store along.
        os.environ["LINKSCOPE_STORE"] = settings.store
        uvicorn.run(
            "api.main:create_app", factory=True, host=host, port=port, workers=workers,
            log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )  # fmt: skip
        return
    from api.main import create_app

    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )  # fmt: skip


def _keys(store: str | None) -> KeyStore:
    from api.keys import KeyStore

    return KeyStore(Path(settings_for(store).keys_file))


def demo_keys(store: str | None) -> None:
    """One new key per role, printed for the demo (names say so; revoke with `keys revoke`)."""
    from api.keys import ROLES

    keys = _keys(store)
    table = Table("role", "key (shown once)", title="demo API keys: Authorization: Bearer <key>")
    for role in ROLES:
        _, plain = keys.create(role, f"demo {role}")
        table.add_row(role, plain)
    show(table)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="enforcement, investigator, analyst or admin.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
    store: StoreOpt = None,
) -> None:
    """Create a key; the plain key is printed once and never stored."""
    keys = _keys(store)
    try:
        key_id, plain = keys.create(role, name)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    console.print(f"created key {key_id} ({role}); store it now, it is not shown again:")
    out.print(plain, soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (the part after lsk_).")],
    store: StoreOpt = None,
) -> None:
    """Revoke a key; calls with it get 401 from then on."""
    keys = _keys(store)
    try:
        keys.revoke(key_id)
    except LinkscopeError as exc:
        raise fail(exc) from exc
    out.print(f"revoked {key_id}")


@keys_app.command("list")
def keys_list(store: StoreOpt = None) -> None:
    """List keys (ids, roles, names, dates; never the keys)."""
    keys = _keys(store)
    table = Table("key id", "role", "name", "created_at", "revoked_at")
    for k in keys.list():
        table.add_row(
            k["key_id"], k["role"], k["name"], str(k["created_at"]), str(k["revoked_at"] or "")
        )
    show(table)
