// The group page: the cluster picture, linkage evidence, findings, assessment and decisions.
import {
  api, badge, card, chips, dot, fill, fixed, fmtNum, fmtTs, h, join, kv, link, mountGraph, options, path, row, session, showError, table, view,
} from "./core.js";

export function washCard(w) {
  return card(h("h2", {}, `Wash trading in ${w.symbol}`),
    kv([["Members", w.members.join(", ")],
      ["Fills / quote volume", `${w.trades} / ${fmtNum(w.quote)} (${fixed(w.symbol_share * 100, 3)}% of the symbol)`],
      ["Completed cycles", String(w.cycle_completions)],
      ["Net position ratio", Object.entries(w.net_position_ratio).map(([a, r]) => `${a}: ${r}`).join(", ")]]),
    h("h2", {}, "Cycles"), table(null, w.cycles.map((c) => row([...c, c[0]].join(" → ")))),
    h("h2", {}, "Trades in the cycles"), h("p", { class: "chips" }, chips(w.trade_ids)));
}

export function syncCard(pairs) {
  return card(h("h2", {}, "Synchronized trading"), table(["Pair", "Episodes", "Expected by chance", "Examples"],
    pairs.map((p) => row(`${p.a} – ${p.b}`, String(p.episodes), fixed(p.expected, 3),
      join(p.examples.slice(0, 3).map((x) => `${x.symbol} ${x.side} ${fmtTs(x.ts_a)} / +${fixed((x.ts_b - x.ts_a) / 1000, 1)}s`), () => h("br"))))));
}

export async function renderGroup(groupId) {
  fill(view, h("p", { class: "muted" }, `Loading ${groupId}…`));
  let group;
  try { group = await api(path("groups", groupId)); } catch (err) { showError(view, err); return; }
  const ev = group.evidence || {};
  const legend = h("p", { class: "legend" }, "Accounts: ", dot(group.verdict, "●"), `${group.verdict} member, `, dot("flagged", "●"),
    "flagged member (bigger: controller candidate) · ", h("b", {}, "▲"), " IP ", h("b", {}, "■"), " device ", h("b", {}, "◆"),
    " funding source (bigger: more specific) · arrows: seller → buyer, width by volume, ", dot("cycle", "red"), ": wash cycle · ",
    dot("sync", "orange dots"), ": synchronized trading · teal dashes: internal transfers. Click an account to open it.");
  const assessment = h("div", { class: "card", dataset: { testid: "assessment" } }, h("h2", {}, "Assessment"),
    kv([["Verdict", badge(group.verdict)], ["Score", fixed(group.score, 2)], ["Clauses", group.clauses.length ? chips(group.clauses) : "none"],
      ["Recommended action", h("b", {}, group.recommended_action)], ["Lineage", `${group.lineage} ${(group.parents || []).join(", ")}`], ["Run", group.run_id]]),
    h("ul", {}, group.reasons.map((r) => h("li", {}, r))),
    (ev.history || []).length ? [h("h2", {}, "Enforcement history"),
      h("ul", {}, ev.history.map((x) => h("li", {}, `${x.account}: ${x.action} ${x.clause} (${fmtTs(x.ts)}, ${x.via})`)))] : null);
  fill(view, h("h1", {}, `Group ${group.group_id} `, badge(group.verdict)),
    h("div", { class: "grid" },
      h("div", {},
        card(h("div", { id: "group-graph", dataset: { testid: "group-graph" } }), legend),
        card(h("h2", {}, "Timeline of trades among members and logins"), h("div", { id: "timeline" })),
        card(h("h2", {}, "Linkage evidence"), h("div", { class: "scroll" }, table(["Accounts", "Kind", "Identifier", "Weight", "Why it counts"],
          (ev.links || []).map((l) => row(`${l.a} – ${l.b}`, l.kind, l.identifier || "", fixed(l.weight, 2), l.why)), "Linked by trading only."))),
        (ev.wash || []).map(washCard),
        (ev.synchronized || []).length ? syncCard(ev.synchronized) : null),
      h("div", {},
        assessment,
        card(h("h2", {}, "Decision"), h("div", { id: "decision-form" }), h("h2", {}, "Decision history"),
          h("table", { id: "decisions", dataset: { testid: "decisions" } }, h("tbody"))),
        card(h("h2", {}, "Members"), table(["Account", "Role", "Type", "Flags"],
          group.members.map((m) => row(link("account", m.account_id), m.role, m.account_type, chips(m.flags))))),
        (ev.member_flags || []).length ? card(h("h2", {}, "Member flags"),
          h("ul", {}, ev.member_flags.map((f) => h("li", {}, `${f.account}: ${f.clause} (${fixed(f.score, 2)})`)))) : null)));
  renderDecisions(group);
  api(path("groups", groupId, "graph")).then((html) => {
    mountGraph(document.getElementById("group-graph"), html, {
      "linkscope:node": (data) => { if (data.kind === "Account") location.hash = `#/account/${encodeURIComponent(data.key)}`; },
    });
  }).catch((err) => showError(document.getElementById("group-graph"), err));
  api(`${path("groups", groupId, "timeline")}?limit=400`).then((events) => renderTimeline(document.getElementById("timeline"), events))
    .catch((err) => showError(document.getElementById("timeline"), err));
}

export function renderTimeline(where, events) {
  if (!events.length) { fill(where, h("p", { class: "muted" }, "No trades among members or logins.")); return; }
  const first = events[0].ts, last = events[events.length - 1].ts, span = Math.max(last - first, 1);
  fill(where,
    h("div", { class: "timeline", "aria-hidden": "true" }, events.map((e) => h("span", {
      class: `tick ${e.kind}`, title: `${fmtTs(e.ts)} ${e.detail}`, style: { left: `${(((e.ts - first) / span) * 99).toFixed(2)}%` } }))),
    h("p", { class: "legend" }, `${fmtTs(first)} … ${fmtTs(last)} · `, dot("trade", "|"), "trade among members ", dot("login", "|"), "login"),
    h("div", { class: "scroll" }, table(null, events.map((e) => row(fmtTs(e.ts), e.kind, e.detail)))));
}

export function renderDecisions(group) {
  const form = document.getElementById("decision-form");
  const kinds = session.me.role === "enforcement" ? ["action_taken"] : session.me.role === "investigator" ? ["confirm", "dismiss", "escalate"] : session.me.role === "admin" ? ["confirm", "dismiss", "escalate", "action_taken"] : [];
  if (!kinds.length) fill(form, h("p", { class: "muted" }, `Your role (${session.me.role}) reads decisions but does not record them.`));
  else {
    const kind = h("select", { id: "d-kind" }, options(kinds));
    const action = h("select", { id: "d-action" }, options([["", "—"], "request_report", "freeze_pending_review", "restrict_new_positions", "permanent_restriction"]));
    const note = h("textarea", { id: "d-note", rows: 3, maxlength: 4000 });
    const error = h("p", { id: "d-error", class: "error", role: "alert" });
    const decide = h("form", { id: "decide" }, h("label", { for: "d-kind" }, "Decision"), kind,
      h("label", { for: "d-action" }, "Action taken (enforcement)"), action, h("label", { for: "d-note" }, "Note"), note,
      h("p", {}, h("button", { type: "submit" }, "Record decision")), error);
    fill(form, decide);
    decide.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(path("groups", group.group_id, "decisions"), { method: "POST",
          body: JSON.stringify({ decision: kind.value, action: action.value || null, note: note.value }) });
        note.value = "";
        error.textContent = "";
        await loadDecisions(group.group_id);
      } catch (err) { error.textContent = err.message; }
    });
  }
  fillDecisions(group.decisions);
}

export async function loadDecisions(groupId) { fillDecisions(await api(path("groups", groupId, "decisions"))); }

export function fillDecisions(decisions) {
  fill(document.querySelector("#decisions tbody"), decisions.length ? decisions.map((d) => row(fmtTs(d.at),
    [h("b", {}, d.decision), d.action ? ` (${d.action})` : ""], `${d.by_role} ${d.by_key}`, d.note,
    h("td", { class: "muted" }, `on ${d.verdict}, run ${d.run_id}`))) : h("tr", {}, h("td", { class: "muted" }, "No decisions yet.")));
}
