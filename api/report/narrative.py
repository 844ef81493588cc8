"""A draft narrative for a suspicious-activity report, sentence by sentence from the pack's
evidence: who, what, when, how much, and under which clause. A draft for an investigator to
edit: it states only what the evidence holds."""

from __future__ import annotations

from typing import Any

from api.report.clauses import ACTIONS, title
from api.report.gather import Pack
from api.report.svg import utc


def _list(items: list[str], most: int = 8) -> str:
    shown = items[:most] + ([f"{len(items) - most} more"] if len(items) > most else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _when(fills: list[dict[str, Any]]) -> str:
    times = sorted(int(f["ts"]) for f in fills)
    if not times:
        return ""
    return f"between {utc(times[0])} and {utc(times[-1])} UTC"


def narrative(pack: Pack) -> list[str]:
    g = pack.group
    ev = g.evidence
    roles = {m.account_id: m.role for m in pack.members}
    controller = [a for a, r in roles.items() if r == "controller_candidate"]
    out = [
        f"linkscope's analysis run {g.run_id} assessed group {g.group_id} of {g.member_count} "
        f"accounts ({_list(pack.member_ids)}) as '{g.verdict}' with score {g.score:.2f}"
        + (
            f"; {controller[0]} is the most strongly linked member (controller candidate)."
            if controller
            else "."
        )
    ]
    links = ev.get("links", [])
    if links:
        kinds = sorted({str(link["kind"]) for link in links})
        strongest = links[0]
        out.append(
            f"The accounts are linked by {_list(kinds)} ({len(links)} link(s)); the strongest: "
            f"{strongest['a']} and {strongest['b']}, {strongest['why']}"
            + (f" ({strongest['identifier']})" if strongest.get("identifier") else "")
            + "."
        )
    for w in ev.get("wash", []):
        fills = [pack.wash_fills[t] for t in w.get("trade_ids", []) if t in pack.wash_fills]
        cycle = " → ".join([*w["cycles"][0], w["cycles"][0][0]]) if w.get("cycles") else ""
        out.append(
            f"{title('wash_trading')} (wash_trading): {_list(w['members'])} traded {w['symbol']} "
            f"with each other in {w['trades']} fills {_when(fills)}, quote volume "
            f"{w['quote']:,.2f} ({100 * w['symbol_share']:.3f}% of the symbol's volume), "
            f"with {w['cycle_completions']} completed cycle(s)"
            + (f" such as {cycle}" if cycle else "")
            + "; each member's net position returned to within "
            f"{100 * max(w['net_position_ratio'].values(), default=0):.1f}% of the quantity it "
            f"traded. Cited fills: {_list(w.get('trade_ids', []), 12)}."
        )
    for p in ev.get("synchronized", []):
        fills = [pack.wash_fills[t] for t in p.get("trade_ids", []) if t in pack.wash_fills]
        symbols = sorted({str(f["symbol"]) for f in fills})
        quote = sum(float(f["price"]) * float(f["qty"]) for f in fills)
        out.append(
            f"{title('coordinated_trading')} (coordinated_trading): {p['a']} and {p['b']} traded "
            f"the same symbol on the same side within "
            f"{pack.config.trading.sync_window_ms / 1000:g} s of each other {p['episodes']} times, "
            f"where chance explains {p['expected']:.3f}"
            + (
                f"; the {len(fills)} cited fills in {_list(symbols)}, {_when(fills)}, come to "
                f"{quote:,.2f} in quote volume"
                if fills
                else ""
            )
            + f". Cited fills: {_list(p.get('trade_ids', []), 12)}."
        )
    for f in pack.flags:
        cited = []
        if f.evidence.get("trade_ids"):
            cited.append(f"fills {_list(f.evidence['trade_ids'], 6)}")
        if f.evidence.get("order_ids"):
            cited.append(f"orders {_list(f.evidence['order_ids'], 6)}")
        out.append(
            f"{title(f.clause)} ({f.clause}): account {f.account} scored {f.score:.2f}"
            + (f"; cited {' and '.join(cited)}" if cited else "")
            + "."
        )
    for h in ev.get("history", []):
        out.append(
            f"Earlier enforcement: {h['action']} on {h['account']} ({h['via']}) on "
            f"{utc(h['ts'])} UTC under {h['clause'] or 'an unnamed clause'}."
        )
    if g.clauses:
        named = _list([f"{title(c)} ({c})" for c in g.clauses])
        out.append(
            f"This activity falls under {named}. Recommended action: {g.recommended_action} "
            f"({ACTIONS.get(g.recommended_action, g.recommended_action)})."
        )
    else:
        out.append("No clause applies: the links are explained as benign; no action recommended.")
    return out
