"""The pack's pictures, drawn server-side as SVG from the pack's facts: the cluster, the
timeline of members' trades and logins, net positions, the members' share of the symbol's
volume and the order replay."""

from __future__ import annotations

import math
from typing import Any

import igraph as ig

from api.report.gather import Pack
from api.report.svg import Canvas, Scale, colour, legend, num, time_axis, utc, value_axis
from api.schemas import ReplayOut
from events.tables import DAY_MS

KIND_SHAPE = {"ip": "IP", "device": "device", "funding": "funding source", "transfer": "transfer"}
ROLE_FILL = {"controller_candidate": "#b30000", "member": "#e6550d", "counterparty": "#fd8d3c"}
MAX_ROWS = 40  # members drawn as timeline rows / position lines


def cluster(pack: Pack, width: int = 760, height: int = 440) -> Canvas:
    """Members (circles, by role), the identifiers that link them (squares) and their trading
    (arrows seller -> buyer, wider for more volume; red when part of a wash cycle). The layout
    is igraph's Kamada-Kawai started from a circle: the same group gives the same picture."""
    names = pack.member_ids
    idents: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for link in pack.group.evidence.get("links", []):
        value = link.get("identifier") or ""
        if value:
            key = f"{link['kind']}:{value}"
            idents[key] = link["kind"]
            pairs += [(link["a"], key), (link["b"], key)]
        else:
            pairs.append((link["a"], link["b"]))
    nodes = names + sorted(idents)
    index = {n: i for i, n in enumerate(nodes)}
    trading = [(s, b, n, q) for s, b, n, q in pack.trading if s in index and b in index]
    edges = sorted({(index[a], index[b]) for a, b in pairs if a in index and b in index})
    edges += [(index[s], index[b]) for s, b, _, _ in trading]
    graph = ig.Graph(n=len(nodes), edges=edges)
    start = [
        [
            math.cos(2 * math.pi * i / max(len(nodes), 1)),
            math.sin(2 * math.pi * i / max(len(nodes), 1)),
        ]
        for i in range(len(nodes))
    ]
    coords = (
        graph.layout_kamada_kawai(seed=start, maxiter=200 * max(len(nodes), 1)).coords
        if len(nodes) > 1
        else [[0.0, 0.0]]
    )
    xs, ys = [p[0] for p in coords], [p[1] for p in coords]
    x = Scale(min(xs), max(xs), 60, width - 60)
    y = Scale(min(ys), max(ys), 50, height - 60)
    c = Canvas(width, height)
    c.add("defs")
    c.parts[-1] = (
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='12' "
        "markerHeight='12' markerUnits='userSpaceOnUse' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' "
        "fill='#555'/></marker><marker id='arrow-red' viewBox='0 0 10 10' refX='10' refY='5' "
        "markerWidth='12' markerHeight='12' markerUnits='userSpaceOnUse' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L "
        "0 10 z' fill='#c00'/></marker></defs>"
    )
    cycle_edges = {
        (cyc[i], cyc[(i + 1) % len(cyc)])
        for w in pack.group.evidence.get("wash", [])
        for cyc in w.get("cycles", [])
        for i in range(len(cyc))
    }
    for a, b in pairs:
        if a in index and b in index:
            i, j = index[a], index[b]
            c.line(x(xs[i]), y(ys[i]), x(xs[j]), y(ys[j]), stroke="#9ecae1", stroke_width=1.5)
    top = max((q for *_, q in trading), default=1.0) or 1.0
    for s, b, _, q in trading:
        i, j = index[s], index[b]
        x1, y1, x2, y2 = x(xs[i]), y(ys[i]), x(xs[j]), y(ys[j])
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        # stop short of the node so the arrow head shows; bend a little so a -> b and b -> a differ
        ex, ey = x2 - (x2 - x1) * 11 / length, y2 - (y2 - y1) * 11 / length
        mx, my = (x1 + x2) / 2 - (y2 - y1) * 0.12, (y1 + y2) / 2 + (x2 - x1) * 0.12
        red = (s, b) in cycle_edges
        c.add(
            "path",
            d=f"M {num(x1)} {num(y1)} Q {num(mx)} {num(my)} {num(ex)} {num(ey)}",
            fill="none",
            stroke="#c00" if red else "#555",
            stroke_width=num(1 + 4 * q / top),
            marker_end="url(#arrow-red)" if red else "url(#arrow)",
            opacity="0.8",
        )
    flagged = {m.account_id for m in pack.members if m.flags}
    for name in nodes:
        i = index[name]
        px, py = x(xs[i]), y(ys[i])
        if name in idents:
            c.add("rect", x=num(px - 6), y=num(py - 6), width=12, height=12, fill="#3182bd")
            label = f"{KIND_SHAPE.get(idents[name], idents[name])} {name.split(':', 1)[1]}"
            c.text(px + 9, py + 4, label[:40], size=9, fill="#08519c")
        else:
            role = next((m.role for m in pack.members if m.account_id == name), "member")
            c.add(
                "circle", cx=num(px), cy=num(py), r=10 if role == "controller_candidate" else 8,
                fill=ROLE_FILL.get(role, "#fd8d3c"), stroke="#000" if name in flagged else "white",
                stroke_width=2.5 if name in flagged else 1,
            )  # fmt: skip
            right = px > width * 0.7  # labels of nodes near the right edge go to their left
            c.text(px - 12 if right else px + 12, py - 8, name, size=11, font_weight="bold",
                   text_anchor="end" if right else "start")  # fmt: skip
    legend(c, 10, 18, [("controller candidate", ROLE_FILL["controller_candidate"]),
                       ("member", ROLE_FILL["member"]), ("counterparty", ROLE_FILL["counterparty"]),
                       ("shared identifier", "#3182bd"), ("trading (seller → buyer)", "#555"),
                       ("wash cycle", "#c00")])  # fmt: skip
    c.text(
        10,
        height - 10,
        "Black ring: member with a flag of its own. Arrow width: quote volume.",
        size=10,
        fill="#555",
    )
    return c


def _span(times: list[int]) -> tuple[int, int]:
    return (min(times), max(times)) if times else (0, 1)


def timeline(pack: Pack, width: int = 760) -> Canvas:
    """One row per member: its fills (green: bought, red: sold; black outline: with another
    member) and its logins (blue), on one UTC time axis."""
    members = pack.member_ids[:MAX_ROWS]
    row = {m: i for i, m in enumerate(members)}
    height = 60 + 18 * len(members) + 40
    times = [int(f["ts"]) for f in pack.fills] + [t for t, _, _ in pack.logins]
    lo, hi = _span(times)
    x = Scale(lo, hi, 120, width - 20)
    c = Canvas(width, height)
    legend(c, 10, 16, [("bought", "#2ca02c"), ("sold", "#d62728"), ("login", "#1f77b4")])
    c.text(width - 10, 16, f"{len(pack.fills)} of {pack.fills_total} fills, {len(pack.logins)} logins",
           size=10, text_anchor="end", fill="#555")  # fmt: skip
    top = 40
    for m, i in row.items():
        yy = top + 18 * i + 9
        c.text(115, yy + 4, m, size=10, text_anchor="end")
        c.line(x.p0, yy, x.p1, yy, stroke="#eee")
    inside = set(pack.member_ids)
    for f in pack.fills:
        among = f["seller_id"] in inside and f["buyer_id"] in inside
        for who, fill in ((f["buyer_id"], "#2ca02c"), (f["seller_id"], "#d62728")):
            if who in row:
                yy = top + 18 * row[who] + 9
                px = x(int(f["ts"]))
                c.line(
                    px,
                    yy - 6,
                    px,
                    yy + 6,
                    stroke="#000" if among else fill,
                    stroke_width=2 if among else 1.2,
                )
                if among:
                    c.line(px, yy - 4, px, yy + 4, stroke=fill, stroke_width=1)
    for ts, a, _ in pack.logins:
        if a in row:
            c.add("circle", cx=num(x(ts)), cy=num(top + 18 * row[a] + 9), r=2.5, fill="#1f77b4")
    time_axis(c, x, top + 18 * len(members) + 4)
    return c


def positions(pack: Pack, width: int = 760, height: int = 300) -> Canvas:
    """Each member's running net position in the focus symbol (bought minus sold)."""
    series = {a: p for a, p in pack.positions.items() if p}
    c = Canvas(width, height)
    times = [t for p in series.values() for t, _ in p]
    values = [v for p in series.values() for _, v in p] + [0.0]
    x = Scale(*_span(times), 80, width - 20)
    y = Scale(min(values), max(values), height - 40, 30)
    value_axis(c, y, x.p0)
    c.line(x.p0, y(0), x.p1, y(0), stroke="#999", stroke_dasharray="4 3")
    for i, (_, points) in enumerate(sorted(series.items())[:MAX_ROWS]):
        d = f"M {num(x(points[0][0]))} {num(y(0))}"
        for t, v in points:
            d += f" H {num(x(t))} V {num(y(v))}"
        c.add("path", d=d, fill="none", stroke=colour(i), stroke_width=1.6)
    time_axis(c, x, height - 36)
    legend(c, 10, 16, [(a, colour(i)) for i, a in enumerate(sorted(series)[:MAX_ROWS])])
    return c


def share(pack: Pack, width: int = 760, height: int = 240) -> Canvas:
    """Per UTC day, the members' fills' quote volume as a share of the symbol's."""
    days = pack.share
    c = Canvas(width, height)
    y = Scale(0, 100, height - 40, 30)
    value_axis(c, y, 60, fmt="{:.0f}%")
    if not days:
        return c
    slot = (width - 80) / len(days)
    for i, d in enumerate(days):
        pct = 100 * d["member_quote"] / d["quote"] if d["quote"] else 0.0
        px = 64 + i * slot
        c.add(
            "rect",
            x=num(px),
            y=num(y(pct)),
            width=num(max(slot - 2, 1)),
            height=num(y(0) - y(pct)),
            fill="#6baed6",
        )
        if len(days) <= 31:
            day = DAY_MS * d["day"]
            c.text(px + slot / 2, height - 24, utc(day)[5:10], size=9, text_anchor="middle")
    c.text(10, 16, f"Members' share of {pack.symbol} quote volume per UTC day", size=11)
    return c


def replay(r: ReplayOut, width: int = 760, height: int = 360) -> Canvas:
    """Orders as bars from placement to end at their price (green buy, red sell; dashed:
    cancelled; thick: sent through the API), the accounts' fills as black dots, the market's
    trades as grey dots."""
    c = Canvas(width, height)
    prices = [o.price for o in r.orders if o.price is not None] + [f.price for f in r.fills]
    prices += [m.price for m in r.market]
    x = Scale(r.since, r.until, 80, width - 20)
    y = Scale(min(prices, default=0.0), max(prices, default=1.0), height - 40, 30)
    value_axis(c, y, x.p0)
    for m in r.market:
        c.add("circle", cx=num(x(m.ts)), cy=num(y(m.price)), r=1.5, fill="#bbb")
    for o in r.orders:
        if o.price is None:
            continue
        end = o.ended_at if o.ended_at is not None else r.until
        x1, x2 = x(max(o.placed_at, r.since)), x(min(end, r.until))
        kw: dict[str, Any] = {"stroke": "#2ca02c" if o.side == "buy" else "#d62728",
                              "stroke_width": 3 if o.channel == "api" else 1.5}  # fmt: skip
        if o.final_status == "cancelled":
            kw["stroke_dasharray"] = "3 2"
        py = y(o.price)
        c.line(x1, py, max(x2, x1 + 1), py, **kw)
        # a triangle where it was placed: up for a buy, down for a sell (short-lived orders
        # would otherwise be a pixel)
        tip = -5 if o.side == "buy" else 5
        c.add("path", d=f"M {num(x1 - 3.5)} {num(py - tip / 2)} L {num(x1 + 3.5)} {num(py - tip / 2)} "
              f"L {num(x1)} {num(py + tip / 2)} z", fill=kw["stroke"], opacity="0.8")  # fmt: skip
    for f in r.fills:
        c.add("circle", cx=num(x(f.ts)), cy=num(y(f.price)), r=3, fill="black")
    time_axis(c, x, height - 36)
    capped = " (capped)" if r.capped else ""
    legend(
        c,
        10,
        16,
        [
            ("buy order", "#2ca02c"),
            ("sell order", "#d62728"),
            ("fill", "black"),
            ("market trade", "#bbb"),
        ],
    )
    c.text(width - 10, height - 6, f"{r.symbol}: {len(r.orders)} orders, {len(r.fills)} fills, "
           f"{len(r.market)} market trades{capped}; dashed: cancelled; thick: API", size=10,
           text_anchor="end", fill="#555")  # fmt: skip
    return c
