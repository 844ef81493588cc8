"""CLI commands over the event store: an account's fills and orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import StoreOpt, app, console, emit, fail, settings_for
from linkscope.errors import LinkscopeError

if TYPE_CHECKING:
    from events.queries import Page
    from events.store import EventStore

Fmt = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]
Since = Annotated[str | None, typer.Option(help="From this time (ISO 8601 or epoch ms).")]
Until = Annotated[str | None, typer.Option(help="Before this time (ISO 8601 or epoch ms).")]
Limit = Annotated[int, typer.Option(help="Rows at most.")]
Symbol = Annotated[str | None, typer.Option(help="Only this symbol.")]


@app.command()
def trades(
    account: Annotated[str, typer.Argument(help="Account id.")],
    counterparty: Annotated[str | None, typer.Option(help="Only fills with this account.")] = None,
    symbol: Symbol = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    fmt: Fmt = "table",
    store: StoreOpt = None,
) -> None:
    """An account's fills from the event store, oldest first."""
    from events.queries import account_trades

    _show_page(
        "trades", account_trades, account, store, fmt, since, until,
        counterparty=counterparty, symbol=symbol, limit=limit,
    )  # fmt: skip


@app.command()
def orders(
    account: Annotated[str, typer.Argument(help="Account id.")],
    symbol: Symbol = None,
    status: Annotated[str | None, typer.Option(help="Only this final_status.")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    fmt: Fmt = "table",
    store: StoreOpt = None,
) -> None:
    """An account's orders from the event store, by placement time."""
    from events.queries import account_orders

    _show_page(
        "orders", account_orders, account, store, fmt, since, until,
        symbol=symbol, status=status, limit=limit,
    )  # fmt: skip


def _show_page(
    table: str,
    query: Callable[..., Page],
    account: str,
    store: str | None,
    fmt: str,
    since: str | None,
    until: str | None,
    **filters: Any,
) -> None:
    """Run one of ``events.queries``' account queries against the store's event store and
    print its rows."""
    from analytics.window import parse_time
    from events.location import events_for
    from events.tables import TABLES
    from graph import open_store

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    settings = settings_for(store)
    try:
        with open_store(settings=settings) as graph:
            events: EventStore = events_for(graph, settings)
            page = query(
                events, account,
                since=parse_time(since) if since else None,
                until=parse_time(until) if until else None, **filters,
            )  # fmt: skip
    except LinkscopeError as exc:
        raise fail(exc) from exc
    columns = TABLES[table].columns
    emit(columns, [[r[c] for c in columns] for r in page.rows], fmt)
    if page.next_after is not None:
        console.print(
            f"more rows follow; narrow the time range or raise --limit ({len(page.rows)} shown)"
        )
