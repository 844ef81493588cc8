"""Cluster views: pyvis builds the network (nodes, edges, options); the page carries vis-network
inline, so it works offline and loads nothing from anywhere.

pyvis' own template links Bootstrap from a CDN, so the page is rendered here from pyvis' data
with a small template. Node and edge lists are filled directly: ``Network.add_node`` scans the
whole list on every call (quadratic: 20k nodes take minutes).
Styles live in vis ``groups`` (one per node kind), so nodes added later by the UI (expanding an
account, Cypher results) look the same without styling code in the browser.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyvis
from pyvis.network import Network

from api.cluster_edges import (
    IDENTIFIER_COLOR,
    REL_WORDS,
    PairPart,
    merged_edges,
    shown,
)
from api.schemas import GroupDetail, Neighborhood
from api.services.drill import transfers
from graph import api_statements as q
from graph import drill_statements as q_drill
from graph.backend import GraphBackend

GROUP_STYLES: dict[str, dict[str, Any]] = {
    "violation": {"shape": "dot", "color": {"background": "#d64545", "border": "#8a1f1f"}},
    "suspected": {"shape": "dot", "color": {"background": "#e8a33d", "border": "#99621a"}},
    "cleared": {"shape": "dot", "color": {"background": "#4f9d69", "border": "#2c5e3c"}},
    "account": {"shape": "dot", "color": {"background": "#6b8fd6", "border": "#34518c"}},
    "flagged": {"shape": "dot", "color": {"background": "#b05fd1", "border": "#5d2b73"}},
    "ip": {"shape": "triangle", "color": {"background": "#9aa5b1", "border": "#52606d"}},
    "device": {"shape": "square", "color": {"background": "#c9b458", "border": "#7a6a22"}},
    "funding": {"shape": "diamond", "color": {"background": "#5fb3b3", "border": "#2f6b6b"}},
    "group": {"shape": "hexagon", "color": {"background": "#333", "border": "#000"}},
    "grouped": {"shape": "dot", "borderWidth": 4, "color": {"background": "#fff", "border": "#52606d"}},
    "other": {"shape": "box", "color": {"background": "#e4e7eb", "border": "#9aa5b1"}},
}
TRANSFER_CAP = 20_000  # transfer records read for one group's picture
LABEL_GROUP = {"IP": "ip", "Device": "device", "FundingSource": "funding", "Group": "group"}
VERDICT_BORDER = {"violation": "#d64545", "suspected": "#e8a33d", "cleared": "#4f9d69"}


def options(n_nodes: int) -> dict[str, Any]:
    """Physics that settles fast, then is switched off by the page (stays usable at 2k nodes)."""
    return {
        "groups": GROUP_STYLES,
        "nodes": {"font": {"size": 12}, "borderWidth": 2},
        "edges": {"smooth": False, "color": {"inherit": False, "color": "#9aa5b1"}},
        "layout": {"improvedLayout": n_nodes <= 150, "randomSeed": 7},
        "physics": {
            "solver": "barnesHut",
            # avoidOverlap keeps identifier nodes (many around few accounts) apart.
            "barnesHut": {"gravitationalConstant": -3000, "springLength": 110, "damping": 0.35,
                          "avoidOverlap": 0.6},
            "stabilization": {
                "enabled": True,
                "iterations": 250 if n_nodes <= 500 else 120,
                "fit": True,
            },
            "minVelocity": 1.5,
        },
        "interaction": {
            "hover": True,
            "tooltipDelay": 120,
            "navigationButtons": False,
            "keyboard": True,
        },
    }


def build(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> Network:
    net = Network(height="100%", width="100%", directed=True, cdn_resources="in_line")
    net.nodes = nodes
    net.edges = edges
    net.node_ids = [n["id"] for n in nodes]
    net.node_map = {n["id"]: n for n in nodes}
    net.options = options(len(nodes))
    return net


@lru_cache(maxsize=4)
def _template(name: str) -> str:
    """The page's own parts, package data beside this module: the HTML shell, its style and
    its fixed start-up script (whose hash is in the CSP; messages come from the embedding page
    only)."""
    return (files("api") / "templates" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _vis_assets() -> tuple[str, str]:
    lib = Path(pyvis.__file__).resolve().parent / "lib" / "vis-9.1.2"
    return (lib / "vis-network.min.js").read_text(encoding="utf-8"), (
        lib / "vis-network.css"
    ).read_text(encoding="utf-8")


def _json(value: Any) -> str:
    """JSON that stays data inside a ``<script>`` element: no ``</script>`` or ``<!--`` can end
    or change the element, and U+2028/U+2029 (line ends to old JavaScript parsers) are escaped."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for char, escaped in _JSON_ESCAPES:
        text = text.replace(char, escaped)
    return text


_JSON_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))  # fmt: skip


def render(net: Network, title: str) -> str:
    """The page: vis-network and a fixed start-up script inline (so their hashes can be allowed
    by the Content-Security-Policy), the graph as a JSON data block the script reads."""
    js, css = _vis_assets()
    nodes, edges, _, _, _, opts = net.get_network_data()
    data = {"nodes": nodes, "edges": edges,
            "options": json.loads(opts) if isinstance(opts, str) else opts}  # fmt: skip
    return _template("cluster.html").format(
        title=html.escape(title, quote=True),
        style=css + _template("cluster.css"),
        js=js,
        boot=_template("cluster.js"),
        data=_json(data),
    )


def inline_hashes() -> dict[str, list[str]]:
    """CSP source expressions of the page's inline script and style elements."""
    js, css = _vis_assets()
    boot, style = _template("cluster.js"), css + _template("cluster.css")
    return {"script": [_sha256(js), _sha256(boot)], "style": [_sha256(style)]}


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def account_node(account_id: str, group: str, title: str, size: float = 18) -> dict[str, Any]:
    return {"id": f"Account:{account_id}", "label": account_id, "group": group, "title": title,
            "size": size, "key": account_id, "kind": "Account"}  # fmt: skip


def identifier_node(
    label: str, key: str, shared_by: int, weight: float, why: str
) -> dict[str, Any]:
    """An identifier the run cited, sized and labelled by the weight the run gave it."""
    short = key if len(key) <= 22 else key[:20] + "…"
    return {
        "id": f"{label}:{key}",
        "label": short,
        "group": LABEL_GROUP.get(label, "other"),
        "size": 8 + 22 * weight,
        "title": f"{label} {key}\nshared by {shared_by} accounts, evidence weight {weight:.2f}\n{why}",
        "key": key,
        "kind": label,
    }


def group_graph(
    store: GraphBackend, detail: GroupDetail
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Nodes and edges of a group's cluster view."""
    members = [m.account_id for m in detail.members]
    nodes: list[dict[str, Any]] = []
    for m in detail.members:
        group = "flagged" if m.flags else detail.verdict
        title = f"{m.account_id} ({m.role}, {m.account_type}, {m.status})"
        if m.flags:
            title += "\nflags: " + ", ".join(m.flags)
        size = 26 if m.role == "controller_candidate" else 18
        nodes.append(account_node(m.account_id, group, title, size))
    # The weights and reasons the run stored on its EVIDENCE relationships: the picture shows
    # what the verdict was made of, whatever the settings are today.
    idents: dict[int, str] = {}
    params = {"group_id": detail.group_id, "run_id": detail.run_id}
    for node_id, label, key, weight, why, shared in store.read(q.GROUP_IDENTIFIERS, params).rows:
        node = identifier_node(str(label), str(key), int(shared), float(weight), str(why or ""))
        idents[int(node_id)] = node["id"]
        nodes.append(node)
    edges: list[dict[str, Any]] = []
    if idents:
        for aid, node_id, rel, count in store.read(
            q.MEMBER_IDENTIFIER_LINKS, {"members": members, "identifiers": list(idents)}
        ).rows:
            edges.append({"from": f"Account:{aid}", "to": idents[int(node_id)], "arrows": "",
                          "title": f"{aid} {REL_WORDS.get(str(rel), str(rel))} it {count} time(s)",
                          "dashes": True, "width": 1, "kind": "identifier", "count": int(count),
                          "color": {"color": IDENTIFIER_COLOR}})  # fmt: skip
    cycle_pairs = {
        (c[i], c[(i + 1) % len(c)])
        for w in detail.evidence.get("wash", [])
        for c in w.get("cycles", [])
        for i in range(len(c))
    }
    parts: list[PairPart] = []
    for seller, buyer, trades, quote in store.read(q.MEMBER_TRADES, {"members": members}).rows:
        in_cycle = (seller, buyer) in cycle_pairs
        parts.append(PairPart(str(seller), str(buyer), "cycle" if in_cycle else "trade",
                              int(trades), float(quote or 0),
                              f"{seller} sold to {buyer}: {int(trades)} trades, quote {float(quote or 0):,.2f}"
                              + (" (part of a wash cycle)" if in_cycle else "")))  # fmt: skip
    for pair in detail.evidence.get("synchronized", []):
        parts.append(PairPart(str(pair["a"]), str(pair["b"]), "sync", int(pair["episodes"]), 0.0,
                              f"synchronized trading: {pair['episodes']} episodes "
                              f"(expected by chance: {pair['expected']:.3f})"))  # fmt: skip
    # One transfer is reported by both sides (two records): counted once.
    moved: dict[tuple[str, str], list[float]] = {}
    for t in transfers([[s, d, ts, amt, asset, None, eid, by] for ts, s, d, amt, asset, eid, by in
                        store.read(q_drill.MEMBER_TRANSFER_EVENTS,
                                   {"members": members, "limit": TRANSFER_CAP}).rows]):  # fmt: skip
        moved.setdefault((t.source, t.target), []).append(t.amount)
    for (src, dst), amounts in moved.items():
        parts.append(PairPart(src, dst, "transfer", len(amounts), sum(amounts),
                              f"internal transfers {src} → {dst}: {len(amounts)}, "
                              f"total {sum(amounts):,.2f}"))  # fmt: skip
    edges += merged_edges(parts)
    return nodes, edges


def graph_items(
    hood: Neighborhood, groups: dict[str, tuple[str, str]] | None = None, subject: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Nodes and edges of a neighbourhood for the view. ``groups`` maps an account to its current
    (group id, verdict): members of the subject's group are drawn in their verdict's colour,
    members of other groups ringed in theirs, the rest plain; the subject is ringed and larger."""
    groups = groups or {}
    home = groups.get(subject or "", ("", ""))[0]
    nodes = []
    for n in hood.nodes:
        if n.label == "Account":
            title = "\n".join(f"{k}: {shown(k, v)}" for k, v in sorted(n.properties.items()))
            group_id, verdict = groups.get(n.key, ("", ""))
            if group_id:
                title += f"\ngroup {group_id} ({verdict})"
            style = verdict if group_id and group_id == home else "grouped" if group_id else "account"
            node = account_node(n.key, style, title)
            node["group_id"], node["verdict"] = group_id or None, verdict or None
            if style == "grouped":
                node["color"] = {"background": "#fff", "border": VERDICT_BORDER.get(verdict, "#52606d")}
            if n.key == subject:
                node.update(size=30, borderWidth=6, subject=True,
                            font={"size": 16, "bold": True})  # fmt: skip
                node["color"] = {"border": "#1f2933"}
            nodes.append(node)
        else:
            label = LABEL_GROUP.get(n.label, "other")
            text = n.key if len(n.key) <= 22 else n.key[:20] + "…"
            props = "".join(f"\n{k}: {shown(k, v)}" for k, v in sorted(n.properties.items()))
            nodes.append({"id": n.id, "label": text, "group": label, "title": f"{n.label} {n.key}{props}",
                          "key": n.key, "kind": n.label, "size": 14})  # fmt: skip
    edges = []
    for e in hood.edges:
        words = REL_WORDS.get(e.type, e.type)
        facts = ", ".join(f"{k} {shown(k, v)}" for k, v in sorted(e.properties.items()))
        edges.append({
            "from": e.source, "to": e.target, "arrows": "to", "rel": e.type,
            "title": f"{e.source.partition(':')[2]} {words} {e.target.partition(':')[2]}"
                     + (f"\n{facts}" if facts else ""),
            "hover": e.type.lower().replace("_", " "),
            "id": f"{e.source}|{e.type}|{e.target}",
        })  # fmt: skip
    return nodes, edges
