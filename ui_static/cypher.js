// The Cypher console: read-only queries with a table and a graph of the nodes returned.
import {
  api, can, card, fill, h, mountGraph, row, showError, view,
} from "./core.js";
import { download, toCsv } from "./tables.js";
import { mountEditor } from "./cypher_editor.js";
import { libraryCard } from "./cypher_library.js";
import { accountIdsOf, listCyclesCard } from "./cycles.js";

export const EXAMPLE = "MATCH (a:Account)-[m:MEMBER_OF]->(g:Group {current: true, verdict: 'violation'}) RETURN a, m, g LIMIT 25";

export function renderCypher() {
  if (!can("analyst")) { fill(view, h("p", { class: "error" }, "The Cypher console is for analysts.")); return; }
  const query = h("textarea", { id: "cypher-query", rows: 6, spellcheck: "false" });
  query.value = EXAMPLE;
  const params = h("textarea", { id: "cypher-params", rows: 2, spellcheck: "false" });
  params.value = "{}";
  const status = h("span", { id: "cypher-status", class: "muted", "aria-live": "polite" });
  const form = h("form", { id: "cypher-form" }, h("label", { for: "cypher-query" }, "Query (read-only; Ctrl+Enter runs it)"), query,
    h("label", { for: "cypher-params" }, "Parameters (JSON)"), params, h("p", {}, h("button", { type: "submit" }, "Run"), " ", status));
  const head = h("thead"), body = h("tbody");
  // Errors go above the results, which are cleared: an error under an old table reads as if
  // the old table were the answer.
  const problem = h("div", { id: "cypher-error", role: "alert" });
  const csv = h("button", { type: "button", id: "cypher-csv", class: "secondary", hidden: true }, "Download CSV");
  let last = null;
  csv.addEventListener("click", () => { if (last) download("cypher-result.csv", toCsv(last.columns, last.rows)); });
  let editor = null;
  const load = (text, values) => {
    params.value = JSON.stringify(values || {}, null, 1);
    if (editor) { editor.setValue(text); editor.refreshParams(); } else query.value = text;
  };
  fill(view, h("h1", {}, "Cypher console"), libraryCard({ getQuery: () => query.value, getParams: () => params.value, load }),
    card(form), problem, card(h("div", { id: "cypher-graph" })),
    h("div", { class: "card scroll" }, h("p", {}, csv), h("table", { id: "cypher-result", dataset: { testid: "cypher-result" } }, head, body)),
    listCyclesCard(() => accountIdsOf(lastResult)));
  mountEditor(query, params, () => form.requestSubmit()).then((mounted) => { editor = mounted; })
    .catch((err) => { status.textContent = `plain text editor (the Cypher editor did not load: ${err.message})`; });
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  const clear = () => {
    last = null;
    csv.hidden = true;
    fill(problem);
    fill(head);
    fill(body);
    fill(document.getElementById("cypher-graph"));
    delete document.getElementById("cypher-graph").dataset.nodes;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear();
    let values;
    try { values = JSON.parse(params.value || "{}"); } catch (err) { showError(problem, new Error(`parameters are not JSON: ${err.message}`)); return; }
    status.textContent = "running…";
    try {
      const result = await api("/v1/cypher", { method: "POST", body: JSON.stringify({ query: query.value, params: values }) });
      status.textContent = `${result.rows.length} row(s) in ${result.elapsed_ms} ms${result.truncated ? " (truncated)" : ""}`;
      last = { columns: result.columns, rows: result.rows.map((r) => r.map(cellValue)) };
      csv.hidden = !result.rows.length;
      fill(head, h("tr", {}, result.columns.map((c) => h("th", {}, c))));
      fill(body, last.rows.map((r) => row(...r)));
      await showResultGraph(result);
    } catch (err) {
      status.textContent = "";
      showError(problem, err);
    }
  });
}

// A result value as the table and the CSV show it: nodes, lists and maps as JSON.
export function cellValue(v) { return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v ?? ""); }

export const LABEL_GROUP = { IP: "ip", Device: "device", FundingSource: "funding", Group: "group", Account: "account" };
let lastResult = null;  // what the console's cycle search starts from
export async function showResultGraph(result) {
  lastResult = result;
  const nodes = new Map(), edges = [];
  const visit = (v) => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!v || typeof v !== "object") return;
    if (v._kind === "node") {
      const label = (v._labels || [])[0] || "node";
      const props = v.properties || {};
      const key = props.account_id ?? props.ip ?? props.device_id ?? props.key ?? props.group_id ?? props.trade_id ?? v._id;
      nodes.set(v._id, { id: v._id, label: String(key).slice(0, 22), group: LABEL_GROUP[label] || "other", kind: label, key: String(key), title: `${label} ${key}` });
    } else if (v._kind === "relationship") {
      edges.push({ id: `rel:${v._id}`, from: v._start, to: v._end, arrows: "to", title: v._type });
    } else if (v._kind === "path") { visit(v.nodes); visit(v.relationships); }
  };
  result.rows.forEach(visit);
  const holder = document.getElementById("cypher-graph");
  if (!nodes.size) { fill(holder, h("p", { class: "muted" }, "No nodes in this result to draw.")); return; }
  const known = new Set(nodes.keys());
  const html = await api("/v1/graph/blank");
  const graph = mountGraph(holder, html, {
    "linkscope:ready": () => graph.add([...nodes.values()], edges.filter((e) => known.has(e.from) && known.has(e.to))),
    "linkscope:node": (data) => { if (data.kind === "Account") location.hash = `#/account/${encodeURIComponent(data.key)}`; },
  });
}
