"""The pack as one self-contained HTML document: inline CSS, pictures as ``data:`` URIs, no
script, no link to anything outside the file (it is attached to a case and opened offline,
years later). Every value is escaped for HTML. Tables carry ``data-*`` ids so a test (or a
reader's tool) can trace each row back to the event store."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from api.report import charts
from api.report.clauses import ACTIONS, text, title
from api.report.gather import Pack
from api.report.narrative import narrative
from api.report.svg import Canvas, utc

CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: Helvetica, Arial, sans-serif; font-size: 10.5pt; color: #111; margin: 0 auto;
  max-width: 190mm; }
h1 { font-size: 18pt; margin: 0 0 4pt; } h2 { font-size: 13pt; margin: 16pt 0 6pt;
  border-bottom: 1px solid #999; break-after: avoid; } h3 { font-size: 11pt; margin: 10pt 0 4pt;
  break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; font-size: 8.5pt; }
th, td { border: 1px solid #ccc; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } tr { break-inside: avoid; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1pt 6pt; border-radius: 8pt; color: white;
  font-weight: bold; } .violation { background: #b30000; } .suspected { background: #e6550d; }
.cleared { background: #31a354; }
.muted { color: #666; } .kv { display: grid; grid-template-columns: 40mm 1fr; gap: 2pt 8pt; }
.kv > span:nth-child(odd) { color: #555; }
figure { margin: 6pt 0; break-inside: avoid; } figure img { width: 100%; height: auto;
  border: 1px solid #ddd; } figcaption { font-size: 8.5pt; color: #555; }
.clause { margin: 2pt 0 6pt; } .clause b { font-size: 10.5pt; }
.narrative p { margin: 4pt 0; text-align: justify; }
code { font-size: 8.5pt; }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def number(x: Any) -> str:
    """Full precision as stored (a pack must match the event store to the digit)."""
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x + 0.0)  # shortest text that reads back as the same float; no "-0.0"
    return str(x)


def table(
    head: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ident: str = "",
    keys: Sequence[str] | None = None,
    numeric: Sequence[int] = (),
) -> str:
    """An HTML table; ``keys`` (one per row) become ``data-key`` for tracing."""
    body = []
    for i, r in enumerate(rows):
        key = f" data-key='{esc(keys[i])}'" if keys is not None else ""
        cells = "".join(
            f"<td class='n'>{esc(c)}</td>" if j in numeric else f"<td>{esc(c)}</td>"
            for j, c in enumerate(r)
        )
        body.append(f"<tr{key}>{cells}</tr>")
    if not body:
        body.append(f"<tr><td colspan='{len(head)}' class='muted'>none</td></tr>")
    ident_attr = f" id='{esc(ident)}'" if ident else ""
    return (
        f"<table{ident_attr}><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def figure(canvas: Canvas, caption: str, ident: str) -> str:
    return (
        f"<figure id='{esc(ident)}'><img alt='{esc(caption)}' src='{canvas.data_uri()}'>"
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


FILL_HEAD = ["Trade id", "Time (UTC)", "Symbol", "Seller", "Buyer", "Price", "Qty", "Quote",
             "Sell order", "Buy order"]  # fmt: skip
ORDER_HEAD = ["Order id", "Account", "Side", "Type", "Price", "Qty", "Placed (UTC)",
              "Ended (UTC)", "Status", "Filled", "Channel"]  # fmt: skip


def utc_ms(ms: Any) -> str:
    return (
        ""
        if ms is None
        else f"{utc(int(ms), True)}:{int(ms) // 1000 % 60:02d}.{int(ms) % 1000:03d}"
    )


def fills_table(fills: list[dict[str, Any]], ident: str) -> str:
    return table(
        FILL_HEAD,
        [
            [f["trade_id"], utc_ms(f["ts"]), f["symbol"], f["seller_id"], f["buyer_id"],
             number(f["price"]), number(f["qty"]), number(round(f["price"] * f["qty"], 8)),
             f.get("sell_order_id") or "", f.get("buy_order_id") or ""]
            for f in fills
        ],
        ident=ident, keys=[f["trade_id"] for f in fills], numeric=(5, 6, 7),
    )  # fmt: skip


def orders_table(orders: list[dict[str, Any]], ident: str) -> str:
    return table(
        ORDER_HEAD,
        [
            [o["order_id"], o["account_id"], o["side"], o["type"], number(o["price"]),
             number(o["qty"]), utc_ms(o["placed_at"]), utc_ms(o["ended_at"]), o["final_status"],
             number(o["filled_qty"]), o.get("channel") or ""]
            for o in orders
        ],
        ident=ident, keys=[o["order_id"] for o in orders], numeric=(4, 5, 9),
    )  # fmt: skip


def _assessment(pack: Pack) -> str:
    g = pack.group
    parts = g.evidence.get("score_parts", {})
    clauses = (
        "".join(
            f"<div class='clause' data-clause='{esc(c)}'><b>{esc(title(c))}</b> "
            f"<code>{esc(c)}</code> — score {esc(number(parts.get(c)))}<br>"
            f"<span class='muted'>{esc(text(c))}</span></div>"
            for c in g.clauses
        )
        or "<p>No clause applies (cleared).</p>"
    )
    reasons = "".join(f"<li>{esc(r)}</li>" for r in g.reasons)
    history = g.evidence.get("history", [])
    return (
        "<h2>Assessment</h2><div class='kv' id='assessment'>"
        f"<span>Verdict</span><span><span class='badge {esc(g.verdict)}'>{esc(g.verdict)}</span></span>"
        f"<span>Score</span><span>{esc(number(g.score))}</span>"
        f"<span>Recommended action</span><span><b id='action'>{esc(g.recommended_action)}</b> "
        f"({esc(ACTIONS.get(g.recommended_action, ''))})</span>"
        f"<span>Analysis run</span><span>{esc(g.run_id)}</span>"
        f"<span>Lineage</span><span>{esc(g.lineage)} {esc(', '.join(g.parents))}</span></div>"
        f"<h3>Policy clauses</h3><div id='clauses'>{clauses}</div>"
        f"<h3>Reasons</h3><ul>{reasons}</ul>"
        + (
            "<h3>Earlier enforcement</h3>"
            + table(
                ["Account", "Action", "Clause", "When (UTC)", "Via"],
                [
                    [h["account"], h["action"], h["clause"], utc_ms(h["ts"]), h["via"]]
                    for h in history
                ],
            )
            if history
            else ""
        )
    )


def _members(pack: Pack) -> str:
    rows = [
        [m.account_id, m.role, m.account_type, m.status, ", ".join(m.flags),
         "; ".join(f"{i.kind} {i.value} (shared by {i.shared_by})" for i in m.identifiers)]
        for m in pack.members
    ]  # fmt: skip
    return "<h2>Members</h2>" + table(
        ["Account", "Role", "Type", "Status", "Flags", "Identifiers (kind, value, accounts using it)"],
        rows, ident="members", keys=pack.member_ids,
    )  # fmt: skip


def _links(pack: Pack) -> str:
    links = pack.group.evidence.get("links", [])
    return "<h2>Linkage evidence</h2><p class='muted'>Why each link counts, strongest first.</p>" + table(
        ["Accounts", "Kind", "Identifier", "Shared by", "Weight", "Why it counts"],
        [[f"{x['a']} – {x['b']}", x["kind"], x.get("identifier") or "", x.get("shared_by", ""),
          number(x["weight"]), x["why"]] for x in links],
        ident="links", numeric=(3, 4),
    )  # fmt: skip


def _wash(pack: Pack) -> str:
    out = []
    for n, w in enumerate(pack.group.evidence.get("wash", [])):
        fills = [pack.wash_fills[t] for t in w.get("trade_ids", []) if t in pack.wash_fills]
        orders = sorted(
            {o for f in fills for o in (f.get("sell_order_id"), f.get("buy_order_id")) if o}
        )
        cycles = "<br>".join(esc(" → ".join([*c, c[0]])) for c in w.get("cycles", []))
        ratio = ", ".join(f"{a}: {number(r)}" for a, r in w["net_position_ratio"].items())
        out.append(
            f"<h3>Wash set {n + 1}: {esc(w['symbol'])}</h3><div class='kv' data-wash='{n}'>"
            f"<span>Members</span><span>{esc(', '.join(w['members']))}</span>"
            f"<span>Fills in the set</span><span class='wash-trades'>{esc(w['trades'])}</span>"
            f"<span>Quote volume</span><span class='wash-quote'>{esc(number(w['quote']))} "
            f"({esc(number(100 * w['symbol_share']))}% of the symbol)</span>"
            f"<span>Completed cycles</span><span>{esc(w['cycle_completions'])}</span>"
            f"<span>Cycles</span><span>{cycles}</span>"
            f"<span>Net position ratio</span><span>{esc(ratio)}</span>"
            f"<span>Fills cited</span><span>{esc(w.get('cited', 'cycle_completions'))}: "
            f"{len(w.get('trade_ids', []))}</span></div>"
            + fills_table(fills, f"wash-fills-{n}")
            + (
                "<p class='muted'>Orders behind these fills:</p>"
                + orders_table(
                    [pack.orders[o] for o in orders if o in pack.orders], f"wash-orders-{n}"
                )
                if orders
                else ""
            )
        )
    return "".join(out)


def _sync(pack: Pack) -> str:
    out = []
    for n, p in enumerate(pack.group.evidence.get("synchronized", [])):
        rows = []
        for e in p["examples"]:
            fa, fb = (
                pack.wash_fills.get(e.get("trade_a", "")),
                pack.wash_fills.get(e.get("trade_b", "")),
            )
            rows.append([e["symbol"], e["side"], utc_ms(e["ts_a"]), e.get("trade_a", ""),
                         number(fa["price"]) if fa else "", number(fa["qty"]) if fa else "",
                         utc_ms(e["ts_b"]), e.get("trade_b", ""), number(fb["price"]) if fb else "",
                         number(fb["qty"]) if fb else "", number((e["ts_b"] - e["ts_a"]) / 1000)])  # fmt: skip
        out.append(
            f"<h3>Synchronized pair {esc(p['a'])} – {esc(p['b'])}</h3>"
            f"<p>{esc(p['episodes'])} episodes within "
            f"{esc(number(pack.config.trading.sync_window_ms / 1000))} s; expected by chance "
            f"{esc(number(p['expected']))}.</p>"
            + table(
                [
                    "Symbol",
                    "Side",
                    f"{p['a']} at",
                    "Fill",
                    "Price",
                    "Qty",
                    f"{p['b']} at",
                    "Fill",
                    "Price",
                    "Qty",
                    "Δ s",
                ],
                rows,
                ident=f"sync-{n}",
                numeric=(4, 5, 8, 9, 10),
            )
            + "<p class='muted'>The cited fills in full:</p>"
            + fills_table(
                [pack.wash_fills[t] for t in p.get("trade_ids", []) if t in pack.wash_fills],
                f"sync-fills-{n}",
            )
        )
    return "".join(out)


def _flags(pack: Pack) -> str:
    out = []
    for n, f in enumerate(pack.flags):
        facts = {k: v for k, v in f.evidence.items() if k not in ("trade_ids", "order_ids", "days")}
        summary = "; ".join(f"{k}: {v}" for k, v in facts.items() if not isinstance(v, list | dict))
        days = f.evidence.get("days", [])
        out.append(
            f"<h3 data-flag='{esc(f.clause)}'>{esc(title(f.clause))} (<code>{esc(f.clause)}</code>): "
            f"{esc(f.account)}, score {esc(number(f.score))}</h3>"
            + (f"<p>{esc(summary)}</p>" if summary else "")
            + (
                table(
                    sorted({k for d in days for k in d}),
                    [
                        [number(d.get(k)) for k in sorted({k for d in days for k in d})]
                        for d in days[:20]
                    ],
                )
                if days and isinstance(days[0], dict)
                else ""
            )
            + (fills_table(f.fills, f"flag-fills-{n}") if f.fills else "")
            + (orders_table(f.orders, f"flag-orders-{n}") if f.orders else "")
        )
    return ("<h3>Members' own findings</h3>" + "".join(out)) if out else ""


def _relations(pack: Pack) -> str:
    rel = pack.group.evidence.get("relations", [])
    if not rel:
        return ""
    return "<h3>Concentrated trading relations</h3>" + table(
        ["Accounts", "Fills", "Quote", "Share of first", "Share of second"],
        [[f"{r['a']} – {r['b']}", r["trades"], number(r["quote"]), number(r["share_of_a"]),
          number(r["share_of_b"])] for r in rel],
        ident="relations", numeric=(1, 2, 3, 4),
    )  # fmt: skip


def _plots(pack: Pack) -> str:
    out = [
        "<h2>Activity</h2>",
        figure(charts.timeline(pack), "Members' fills and logins over time (UTC).", "timeline"),
    ]
    if pack.symbol is None:
        return "".join(out)
    out.append(
        figure(
            charts.positions(pack),
            f"Running net position in {pack.symbol} per member (bought − sold).",
            "positions",
        )
    )
    out.append(table(["Account", f"Net position in {pack.symbol} at the end"],
                     [[a, number(round(v, 8) + 0.0)] for a, v in sorted(pack.final_positions.items())],
                     ident="net-positions", keys=sorted(pack.final_positions), numeric=(1,)))  # fmt: skip
    out.append(
        figure(
            charts.share(pack),
            f"Members' share of {pack.symbol} quote volume per UTC day.",
            "share",
        )
    )
    out.append(table(
        ["Day (UTC)", "Symbol fills", "Symbol quote", "Members' fills", "Members' quote", "Share"],
        [[utc(d["day"] * 86_400_000)[:10], d["fills"], number(round(d["quote"], 6)), d["member_fills"],
          number(round(d["member_quote"], 6)), f"{100 * d['member_quote'] / d['quote']:.2f}%" if d["quote"] else ""]
         for d in pack.share],
        ident="volume-share", keys=[str(d["day"]) for d in pack.share], numeric=(1, 2, 3, 4, 5),
    ))  # fmt: skip
    if pack.replay is not None:
        r = pack.replay
        out.append(
            "<h2>Order replay</h2>"
            + figure(
                charts.replay(r),
                f"Members' orders and fills in {r.symbol}, {utc(r.since)} – {utc(r.until)} UTC, "
                "against the market's trades.",
                "replay",
            )
            + f"<p class='muted' id='replay-counts'>{r.totals['orders']} orders, {r.totals['fills']} fills, "
            f"{r.totals['market']} market trades in the range"
            + (f" (drawn: first {r.cap} of each)" if r.capped else "")
            + ".</p>"
        )
    return "".join(out)


def _decisions(pack: Pack) -> str:
    d = pack.group.decisions
    return "<h2>Decision history</h2>" + table(
        ["When (UTC)", "Decision", "Action", "By", "Verdict then", "Run", "Note"],
        [[utc_ms(x.at), x.decision, x.action or "", f"{x.by_role} {x.by_key}", x.verdict, x.run_id, x.note] for x in d],
        ident="decisions", keys=[x.decision_id for x in d],
    )  # fmt: skip


def render(pack: Pack) -> str:
    g = pack.group
    findings = _wash(pack) + _sync(pack) + _relations(pack) + _flags(pack)
    story = "".join(f"<p>{esc(s)}</p>" for s in narrative(pack))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Evidence pack: group {esc(g.group_id)}</title><style>{CSS}</style></head><body>"
        f"<h1>Evidence pack: group <span id='group-id'>{esc(g.group_id)}</span> "
        f"<span class='badge {esc(g.verdict)}'>{esc(g.verdict)}</span></h1>"
        f"<p class='muted'>Generated {esc(utc(pack.generated_at))} UTC by linkscope from the graph "
        f"store (assessment, links, identifiers, decisions) and the event store (fills, orders). "
        f"{g.member_count} members; clauses: {esc(', '.join(g.clauses) or 'none')}.</p>"
        + _assessment(pack)
        + "<h2>Cluster</h2>"
        + figure(
            charts.cluster(pack),
            "Members, the identifiers they share and their trading with each other.",
            "cluster",
        )
        + _members(pack)
        + _links(pack)
        + "<h2>Findings</h2>"
        + (findings or "<p>No trading findings.</p>")
        + _plots(pack)
        + _decisions(pack)
        + f"<h2>Draft suspicious-activity narrative</h2><div class='narrative' id='narrative'>{story}</div>"
        + "</body></html>"
    )
