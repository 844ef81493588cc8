// The group queue: current groups with filters, newest run first.
import {
  api, badge, card, chips, fill, fixed, fmtNum, h, link, options, row, showError, table, view,
} from "./core.js";

export const queueState = { verdict: "", clause: "", decision: "" };
export const CLAUSES = ["wash_trading", "coordinated_trading", "self_matching", "spoofing", "unauthorized_bot", "limit_breach"];

export async function renderQueue() {
  const filter = (id, label, values, field) => {
    const select = h("select", { id }, options(values));
    select.value = queueState[field];
    select.addEventListener("change", () => { queueState[field] = select.value; loadQueue(); });
    return h("div", {}, h("label", { for: id }, label), select);
  };
  fill(view, h("h1", {}, "Group queue"),
    h("div", { class: "card filters", role: "search" },
      filter("f-verdict", "Verdict", [["", "any"], "violation", "suspected", "cleared"], "verdict"),
      filter("f-clause", "Clause", [["", "any"], ...CLAUSES], "clause"),
      filter("f-decision", "Decision", [["", "any"], ["none", "none yet"], "confirm", "dismiss", "escalate", "action_taken"], "decision"),
      h("div", { class: "muted", id: "queue-count" })),
    card(h("table", { id: "queue" }, h("thead", {}, h("tr", {}, ["Score", "Verdict", "Group", "Members", "Clauses",
      "Volume among members", "Recommended action", "Decision"].map((t) => h("th", {}, t)))), h("tbody"))));
  await loadQueue();
}

export async function loadQueue() {
  const body = document.querySelector("#queue tbody");
  const params = new URLSearchParams({ limit: "500" });
  if (queueState.verdict) params.set("verdict", queueState.verdict);
  if (queueState.clause) params.set("clause", queueState.clause);
  try {
    const page = await api(`/v1/groups?${params}`);
    const items = page.items.filter((g) => !queueState.decision || (queueState.decision === "none" ? !g.decision : g.decision === queueState.decision));
    fill(body, items.length ? items.map((g) => {
      const tr = row(fixed(g.score, 2), badge(g.verdict), link("group", g.group_id),
        `${g.member_count}: ${g.members_preview.slice(0, 5).join(", ")}${g.member_count > 5 ? ", …" : ""}`,
        chips(g.clauses), fmtNum(g.quote_volume), g.recommended_action, g.decision || "");
      tr.dataset.group = g.group_id;
      return tr;
    }) : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No groups match.")));
    document.getElementById("queue-count").textContent = `${items.length} groups (run ${page.run_id || "none"})`;
  } catch (err) { showError(body, err); }
}
