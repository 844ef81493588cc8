// The group page: the cluster picture, linkage evidence, findings, assessment and decisions.
import {
  api, badge, can, card, chips, dot, fill, fixed, fmtNum, fmtTs, h, kv, link, mountGraph, options, path, row, session, showError, table, view,
} from "./core.js";
import { groupCaseCard } from "./cases.js";
import { episodeFills, linkDetail } from "./drill.js";
import { packLinks } from "./pack.js";
import { replayHref } from "./replay.js";
import { suppression } from "./suppressions.js";
import { renderTimeline } from "./timeline.js";
import { groupCyclesCard } from "./cycles.js";

// A button that opens (and closes) a drill-down row under the row it sits in.
function drillButton(label, columns, build) {
  const button = h("button", { type: "button", class: "secondary small", "aria-expanded": "false" }, label);
  let opened = null;
  button.addEventListener("click", () => {
    if (opened) { opened.remove(); opened = null; button.setAttribute("aria-expanded", "false"); return; }
    opened = h("tr", { class: "drill-row" }, h("td", { colspan: columns }, build()));
    button.closest("tr").after(opened);
    button.setAttribute("aria-expanded", "true");
  });
  return button;
}

export function washCard(w) {
  return card(h("h2", {}, `Wash trading in ${w.symbol}`),
    kv([["Members", w.members.join(", ")],
      ["Fills / quote volume", `${w.trades} / ${fmtNum(w.quote)} ${w.symbol.split("_")[1] || ""} (${fixed(w.symbol_share * 100, 3)}% of the symbol)`],
      ["Completed cycles", String(w.cycle_completions)],
      ["Net position ratio", Object.entries(w.net_position_ratio).map(([a, r]) => `${a}: ${r}`).join(", ")]]),
    h("h2", {}, "Cycles"), table(null, w.cycles.map((c) => row([...c, c[0]].join(" → ")))),
    h("h2", {}, "Trades in the cycles"),
    h("p", { class: "chips" }, (w.trade_ids || []).map((id) => (can("investigator", "analyst") ? h("a", { class: "chip", href: `#/trade/${encodeURIComponent(id)}` }, id) : h("span", { class: "chip" }, id)))));
}

// "±4.4 s": how far apart the two fills of an episode were, whichever came first.
export function gap(x) { return `±${fixed(Math.abs(x.ts_b - x.ts_a) / 1000, 1)} s`; }

export function syncCard(pairs) {
  const drill = can("investigator", "analyst");
  return card(h("h2", {}, "Synchronized trading"), h("div", { class: "scroll-x" }, table(["Pair", "Episodes", "Expected by chance", "Examples"],
    pairs.map((p) => row(`${p.a} – ${p.b}`, String(p.episodes), fixed(p.expected, 3),
      p.examples.slice(0, 3).map((x) => h("div", { class: "example" }, `${x.symbol} ${x.side} ${fmtTs(x.ts_a)} ${gap(x)} `,
        drill ? drillButton("both fills", 4, () => episodeFills(p, x)) : null)))))),
    h("p", { class: "legend" }, "An episode: both accounts trade the same symbol on the same side within seconds. ",
      h("b", {}, "Expected by chance"), " is how many episodes the pair would have if each traded at its own pace with no link to the other: ",
      "for each of one account's trades, the market's trades around it times the other account's share of the market's activity then. ",
      "Many more episodes than expected is the finding."));
}

function linkageCard(group, ev) {
  const drill = can("investigator", "analyst");
  return card(h("h2", {}, "Linkage evidence"), h("div", { class: "scroll scroll-x" }, table(["Accounts", "Kind", "Identifier", "Weight", "Why it counts", ""],
    (ev.links || []).map((l) => row(`${l.a} – ${l.b}`, l.kind, h("td", { class: "id" }, l.identifier || (l.kind === "transfer" ? "(direct)" : "")),
      fixed(l.weight, 2), l.why, drill ? drillButton("details", 6, () => linkDetail(l.a, l.b)) : "")), "Linked by trading only.")));
}

// ``where``: the page, or the case page's group area (``inCase``: the case is shown around it).
export async function renderGroup(groupId, where = view, { inCase = false } = {}) {
  fill(where, h("p", { class: "muted" }, `Loading ${groupId}…`));
  let group;
  try { group = await api(path("groups", groupId)); } catch (err) { showError(where, err); return; }
  const ev = group.evidence || {};
  const legend = h("p", { class: "legend" }, "Accounts: ", dot(group.verdict, "●"), `${group.verdict} member, `, dot("flagged", "●"),
    "flagged member (bigger: controller candidate) · ", h("b", {}, "▲"), " IP ", h("b", {}, "■"), " device ", h("b", {}, "◆"),
    " funding source (bigger: more specific); ", dot("ident", "grey dashes"), ": account used the identifier · one line per pair of accounts, ",
    "its colour the strongest link: ", dot("cycle", "red"), ": wash cycle, ", dot("trade", "dark grey"), ": trades (arrows: seller → buyer, width by volume), ",
    dot("sync", "orange dots"), ": synchronized trading, ", dot("transfer", "teal dashes"), ": internal transfers. Hover a line for its counts and amounts; click an account to open it.");
  const assessment = h("div", { class: "card", dataset: { testid: "assessment" } }, h("h2", {}, "Assessment"),
    kv([["Verdict", badge(group.verdict)], ["Priority", fixed(group.priority, 1)], ["Score (confidence)", fixed(group.score, 2)], ["Clauses", group.clauses.length ? chips(group.clauses) : "none"],
      ["Recommended action", h("b", {}, group.recommended_action)]]));
  const reasons = card(h("h2", {}, "Why"), h("ul", {}, group.reasons.map((r) => h("li", {}, r))),
    h("p", { dataset: { testid: "priority-reasons" } }, `Priority ${fixed(group.priority, 1)}: ${(group.priority_reasons || []).join("; ")}`),
    kv([["Lineage", `${group.lineage} ${(group.parents || []).join(", ")}`], ["Run", group.run_id]]),
    (ev.suppressions || []).length ? [h("h2", {}, "Suppressions applied"),
      h("ul", { dataset: { testid: "suppressions" } }, ev.suppressions.map((x) => h("li", {}, `${x.suppression_id} (${x.reason}): ${x.effect}`)))] : null,
    (ev.history || []).length ? [h("h2", {}, "Enforcement history"),
      h("ul", {}, ev.history.map((x) => h("li", {}, `${x.account}: ${x.action} ${x.clause} (${fmtTs(x.ts)}, ${x.via})`)))] : null);
  // The right column leads with what the investigator acts on: assessment and decision, then why.
  fill(where, h(inCase ? "h2" : "h1", {}, `Group ${group.group_id} `, badge(group.verdict)),
    h("p", { class: "filters" }, can("investigator", "analyst") ? h("a", { href: replayHref("group", group.group_id), id: "replay-link", class: "button secondary" }, "Order replay") : null,
      packLinks(group.group_id)),
    h("div", { class: "grid" },
      h("div", { class: "main-col" },
        card(h("div", { id: "group-graph", dataset: { testid: "group-graph" } }), legend),
        card(h("h2", {}, "Timeline"), h("div", { id: "timeline", dataset: { testid: "timeline" } })),
        linkageCard(group, ev),
        (ev.wash || []).map(washCard),
        (ev.synchronized || []).length ? syncCard(ev.synchronized) : null,
        groupCyclesCard(group.group_id)),
      h("div", { class: "side-col" },
        assessment,
        card(h("h2", {}, "Decision"), h("div", { id: "decision-form" })),
        inCase ? null : h("div", { class: "card", id: "group-case", dataset: { testid: "group-case" } }),
        reasons,
        card(h("h2", {}, "Decision history"), h("div", { class: "scroll-x" },
          h("table", { id: "decisions", dataset: { testid: "decisions" } }, h("tbody")))),
        card(h("h2", {}, "Members"), h("div", { class: "scroll-x" }, table(["Account", "Role", "Type", "Flags"],
          group.members.map((m) => row(link("account", m.account_id), m.role.replaceAll("_", " "), m.account_type.replaceAll("_", " "), chips(m.flags)))))),
        (ev.member_flags || []).length ? card(h("h2", {}, "Member flags"),
          h("ul", {}, ev.member_flags.map((f) => h("li", {}, `${f.account}: ${f.clause} (${fixed(f.score, 2)})`)))) : null)));
  renderDecisions(group);
  if (!inCase) groupCaseCard(document.getElementById("group-case"), group.group_id);
  let graph = null;
  // Kept, not looked up when the answers arrive: the page may have changed by then.
  const graphBox = document.getElementById("group-graph"), timelineBox = document.getElementById("timeline");
  api(path("groups", groupId, "graph")).then((html) => {
    graph = mountGraph(graphBox, html, {
      "linkscope:node": (data) => { if (data.kind === "Account") location.hash = `#/account/${encodeURIComponent(data.key)}`; },
    });
  }).catch((err) => showError(graphBox, err));
  api(`${path("groups", groupId, "timeline")}?limit=2000`).then((events) => renderTimeline(timelineBox, events, {
    members: group.members.map((m) => m.account_id),
    onSpan: (pairs) => graph?.post({ type: "linkscope:highlight", pairs: pairs || [] }),
    loadOrders: can("investigator", "analyst") ? () => membersOrders(group.members.map((m) => m.account_id)) : null,
  })).catch((err) => showError(timelineBox, err));
}

export { renderTimeline };

// The members' orders as timeline events: the first page (500) of each member's orders.
async function membersOrders(members) {
  const pages = await Promise.all(members.map((m) => api(`${path("accounts", m, "orders")}?limit=500`)));
  return pages.flatMap((page) => page.items.map((o) => ({ ts: o.placed_at, kind: "order", account: o.account_id, counterparty: null, ref: o.order_id,
    detail: `${o.account_id} placed ${o.side} ${o.type} ${fmtNum(o.qty)} ${o.symbol}${o.price === null ? "" : ` at ${fmtNum(o.price)}`}: ${o.final_status.replace("_", " ")}` })));
}

export function renderDecisions(group) {
  const form = document.getElementById("decision-form");
  const kinds = session.me.role === "enforcement" ? ["action_taken"] : session.me.role === "investigator" ? ["confirm", "dismiss", "escalate"] : session.me.role === "admin" ? ["confirm", "dismiss", "escalate", "action_taken"] : [];
  if (!kinds.length) fill(form, h("p", { class: "muted" }, `Your role (${session.me.role}) reads decisions but does not record them.`));
  else {
    const kind = h("select", { id: "d-kind" }, options(kinds));
    const action = h("select", { id: "d-action" }, options([["", "—"], "request_report", "freeze_pending_review", "restrict_new_positions", "permanent_restriction"]));
    // The action taken is enforcement's field: shown only with the "action_taken" decision.
    const actionField = h("div", { id: "d-action-field" }, h("label", { for: "d-action" }, "Action taken"), action);
    const showAction = () => { actionField.hidden = kind.value !== "action_taken"; if (actionField.hidden) action.value = ""; };
    kind.addEventListener("change", showAction);
    const note = h("textarea", { id: "d-note", rows: 3, maxlength: 4000 });
    const error = h("p", { id: "d-error", class: "error", role: "alert" });
    // A dismissal's reason the analysis can use becomes a suppression for the next runs.
    const reason = h("select", { id: "d-suppress" }, options([["", "— (none)"], ["office_ip", "IP is our office"], ["stock_device", "device id is a stock fingerprint"],
      ["household", "accounts are one household"], ["market_maker_pair", "pair is a known market-maker arrangement"]]));
    const what = h("input", { id: "d-suppress-what", placeholder: "IP / device id, or account ids separated by commas" });
    const suppressField = h("div", { id: "d-suppress-field" }, h("label", { for: "d-suppress" }, "Dismissal reason the next runs should use"), reason,
      h("label", { for: "d-suppress-what" }, "Identifier or accounts it concerns"), what);
    const showSuppress = () => { suppressField.hidden = kind.value !== "dismiss"; };
    kind.addEventListener("change", showSuppress);
    const decide = h("form", { id: "decide" }, h("label", { for: "d-kind" }, "Decision"), kind,
      actionField, h("label", { for: "d-note" }, "Note"), note,
      kinds.includes("dismiss") ? suppressField : null,
      h("p", {}, h("button", { type: "submit" }, "Record decision")), error);
    fill(form, decide);
    showAction();
    showSuppress();
    decide.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(path("groups", group.group_id, "decisions"), { method: "POST",
          body: JSON.stringify({ decision: kind.value, action: action.value || null, note: note.value,
            suppress: kind.value === "dismiss" && reason.value ? suppression(reason.value, what.value, note.value) : null }) });
        note.value = "";
        error.textContent = "";
        await loadDecisions(group.group_id);
      } catch (err) { error.textContent = err.message; }
    });
  }
  fillDecisions(group.decisions);
}

export async function loadDecisions(groupId) { fillDecisions(await api(path("groups", groupId, "decisions"))); }

// One decision per row: who decided what and when on one line, the note under it (a table of
// five columns overflowed the side column with a long note or run id).
export function fillDecisions(decisions) {
  fill(document.querySelector("#decisions tbody"), decisions.length ? decisions.map((d) => h("tr", {}, h("td", { class: "decision" },
    h("div", {}, h("span", { class: "nowrap" }, fmtTs(d.at)), " · ", h("b", {}, d.decision), d.action ? ` (${d.action})` : "", " · ",
      h("span", { title: `key ${d.by_key}` }, `${d.by_name || `key ${d.by_key}`} (${d.by_role})`)),
    d.note ? h("div", { class: "note" }, d.note) : null,
    h("div", { class: "muted small" }, `on ${d.verdict}, run ${d.run_id}`)))) : h("tr", {}, h("td", { class: "muted" }, "No decisions yet.")));
}
