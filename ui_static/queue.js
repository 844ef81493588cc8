// The group queue: current groups with filters, sortable, newest run first. Filters and order
// live in the URL ("#/queue/verdict=violation&sort=volume"), so a view can be saved,
// shared and reloaded.
import {
  api, badge, card, chips, fill, fixed, fmtNum, fmtTs, h, join, link, options, row, showError, view,
} from "./core.js";
import { age, sortableHead, sortBy } from "./tables.js";

export const queueState = { verdict: "", clause: "", decision: "", sort: "priority", desc: true };
export const CLAUSES = ["wash_trading", "coordinated_trading", "self_matching", "spoofing", "unauthorized_bot", "limit_breach"];
const FIELDS = ["verdict", "clause", "decision", "sort"];
export const QUEUE_COLUMNS = [["Priority", "priority"], ["Score", "score"], ["Verdict", "verdict"], ["Group", "group_id"], ["Members", "member_count"],
  ["Clauses", null], ["Volume involved", "volume"], ["Recommended action", "recommended_action"],
  ["Decision", "decision"], ["Age", "changed_at"]];
let loaded = { items: [], run_id: null, quote_assets: [] };

// The state as the URL carries it, and back.
export function readQueueState(arg) {
  const params = new URLSearchParams(arg || "");
  for (const field of FIELDS) queueState[field] = params.get(field) ?? (field === "sort" ? "priority" : "");
  if (!QUEUE_COLUMNS.some(([, key]) => key === queueState.sort)) queueState.sort = "priority";
  queueState.desc = params.get("order") !== "asc";
}
function saveQueueState() {
  const params = new URLSearchParams();
  for (const field of FIELDS) if (queueState[field] && !(field === "sort" && queueState.sort === "priority")) params.set(field, queueState[field]);
  if (!queueState.desc) params.set("order", "asc");
  const text = params.toString();
  // replaceState: no hashchange, so no second render of the page being changed.
  history.replaceState(null, "", `#/queue${text ? `/${text}` : ""}`);
}

export async function renderQueue(arg = "") {
  readQueueState(arg);
  const filter = (id, label, values, field) => {
    const select = h("select", { id }, options(values));
    select.value = queueState[field];
    select.addEventListener("change", () => { queueState[field] = select.value; saveQueueState(); loadQueue(); });
    return h("div", {}, h("label", { for: id }, label), select);
  };
  fill(view, h("h1", {}, "Group queue"),
    h("div", { class: "card filters", role: "search" },
      filter("f-verdict", "Verdict", [["", "any"], "violation", "suspected", "cleared"], "verdict"),
      filter("f-clause", "Clause", [["", "any"], ...CLAUSES], "clause"),
      filter("f-decision", "Decision", [["", "any"], ["none", "none yet"], "confirm", "dismiss", "escalate", "action_taken"], "decision"),
      h("div", { class: "muted", id: "queue-count" })),
    h("div", { class: "card scroll-x" }, h("table", { id: "queue" }, h("thead"), h("tbody"))));
  drawHead();
  await loadQueue();
}

function drawHead() {
  const table = document.getElementById("queue");
  table.tHead.replaceWith(sortableHead(QUEUE_COLUMNS, queueState, (key, desc) => {
    queueState.sort = key;
    queueState.desc = desc;
    saveQueueState();
    drawHead();
    drawQueue();
  }));
}

export async function loadQueue() {
  const body = document.querySelector("#queue tbody");
  const params = new URLSearchParams({ limit: "500" });
  if (queueState.verdict) params.set("verdict", queueState.verdict);
  if (queueState.clause) params.set("clause", queueState.clause);
  try {
    loaded = await api(`/v1/groups?${params}`);
    drawQueue();
  } catch (err) { showError(body, err); }
}

// Ids are atoms: never broken across lines (a wrapped id reads as two).
const ident = (text) => h("span", { class: "id" }, text);

function drawQueue() {
  const body = document.querySelector("#queue tbody");
  const wanted = loaded.items.filter((g) => !queueState.decision || (queueState.decision === "none" ? !g.decision : g.decision === queueState.decision));
  const items = sortBy(wanted, queueState.sort, queueState.desc);
  // The volume's unit: the quote asset when every traded symbol has the same one.
  const unit = loaded.quote_assets?.length === 1 ? ` ${loaded.quote_assets[0]}` : "";
  fill(body, items.length ? items.map((g) => {
    const tr = row(priorityCell(g), fixed(g.score, 2), badge(g.verdict), link("group", g.group_id),
      [`${g.member_count}: `, join(g.members_preview.slice(0, 5).map(ident), () => ", "), g.member_count > 5 ? ", …" : ""],
      chips(g.clauses), h("td", { class: "num" }, fmtNum(g.volume ?? g.quote_volume), h("span", { class: "unit" }, unit)),
      g.recommended_action, g.decision || "", h("td", { title: fmtTs(g.changed_at), class: "nowrap" }, age(g.changed_at)));
    tr.dataset.group = g.group_id;
    return tr;
  }) : h("tr", {}, h("td", { colspan: QUEUE_COLUMNS.length, class: "muted" }, "No groups match.")));
  const mixed = (loaded.quote_assets || []).length > 1 ? ` · volumes in mixed quote assets (${loaded.quote_assets.join(", ")})` : "";
  document.getElementById("queue-count").textContent = `${items.length} groups (run ${loaded.run_id || "none"})${mixed}`;
}

// The priority and, under it, why: the reasons the analysis gave (volume, share, repeat, …).
function priorityCell(g) {
  return h("td", { class: "priority" }, h("b", {}, fixed(g.priority, 1)),
    h("div", { class: "muted why" }, (g.priority_reasons || []).slice(0, 3).join("; ")));
}
