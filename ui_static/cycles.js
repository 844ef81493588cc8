// Temporal cycle search: loops of fills and transfers that leave an account (or any account of
// a set) and come back, most unusual first. The account page, the group page and the Cypher
// console each add a card from here; the results render into the card.
//
// Opening a loop as a case: the "Open as case" button dispatches a `linkscope:open-case` event
// on `document` whose detail is the loop's `case_hook` (accounts, trade_ids, transfer_ids, since,
// until) plus `score` and `start`. Nothing listens yet; the case pages subscribe to it.
import { api, can, card, fill, fmtNum, fmtTs, h, link, path, row, showError, table } from "./core.js";

const pct = (x) => (x === null || x === undefined ? "" : `${(100 * x).toFixed(1)}%`);

function query(window, maxLength) { return `window=${encodeURIComponent(window)}&max_length=${encodeURIComponent(maxLength)}`; }

export async function showCycles(holder, request) {
  fill(holder, h("p", { class: "muted" }, "Searching loops…"));
  let found;
  try { found = await request(); } catch (err) { showError(holder, err); return; }
  const summary = `${found.sequences} loop(s) from ${found.seeds.length} account(s) in ${fmtTs(found.since)} – ${fmtTs(found.until)}, ${found.expansions} expansions, ${Math.round(found.elapsed_ms)} ms`;
  fill(holder,
    h("p", { id: "cycles-summary", class: found.complete ? "muted" : "warning" },
      found.complete ? summary : `${summary}: stopped at its ${found.stopped}; more loops may exist.`),
    found.loops.length ? found.loops.map((loop, n) => loopCard(loop, n)) : h("p", { class: "muted" }, "No loop returns in the window."));
}

function openCase(loop) {
  document.dispatchEvent(new CustomEvent("linkscope:open-case", { detail: { ...loop.case_hook, start: loop.start, score: loop.score } }));
}

function loopCard(loop, n) {
  const hops = loop.hops.map((hop) => row(link("account", hop.sender), link("account", hop.receiver), hop.kind, hop.ref, hop.unit,
    fmtTs(hop.ts), fmtNum(hop.amount), pct(hop.retained)));
  const open = h("button", { type: "button", class: "open-case" }, "Open as case");
  open.addEventListener("click", () => openCase(loop));
  return h("details", { class: "cycle", dataset: { testid: "cycle", accounts: loop.accounts.join(" ") }, open: n === 0 },
    h("summary", {}, `#${n + 1} · score ${loop.score.toFixed(2)} · ${loop.accounts.length} hops · `,
      [...loop.accounts, loop.start].join(" → "), ` · ${(loop.span_ms / 86400000).toFixed(1)} days · retained ${pct(loop.retained)}`),
    table(["From", "To", "Kind", "Id", "Symbol/asset", "Time", "Amount", "Retained"], hops),
    h("p", { class: "muted" }, `Evidence: ${loop.case_hook.trade_ids.length} fill(s), ${loop.case_hook.transfer_ids.length} transfer(s); `,
      `follow-through ${loop.follow.toFixed(2)}, structure ${loop.structure.toFixed(2)}. `, open));
}

// A card with the window and length choices and a search button; `request(window, maxLength)`
// returns the API's answer.
function cyclesCard(title, request, note) {
  const holder = h("div", { id: "cycles" });
  const windowSelect = h("select", { id: "cycles-window" }, ["7d", "30d", "90d"].map((v) => h("option", { selected: v === "30d" }, v)));
  const lengthSelect = h("select", { id: "cycles-length" }, ["3", "4", "5", "6", "8"].map((v) => h("option", { selected: v === "6" }, v)));
  const button = h("button", { id: "cycles-search", type: "button" }, "Find loops");
  button.addEventListener("click", () => showCycles(holder, () => request(windowSelect.value, lengthSelect.value)));
  return card(h("h2", {}, title), note ? h("p", { class: "muted" }, note) : null,
    h("div", { class: "filters" }, h("div", {}, h("label", { for: "cycles-window" }, "Window"), windowSelect),
      h("div", {}, h("label", { for: "cycles-length" }, "Max hops"), lengthSelect), button),
    holder);
}

export function accountCyclesCard(accountId) {
  return cyclesCard("Temporal cycles", (w, n) => api(`${path("accounts", accountId, "cycles")}?${query(w, n)}`),
    "Fills (seller → buyer) and internal transfers that leave this account and come back, each hop later than the last.");
}

export function groupCyclesCard(groupId) {
  if (!can("investigator", "analyst")) return null;
  return cyclesCard("Temporal cycles through members", (w, n) => api(`${path("groups", groupId, "cycles")}?${query(w, n)}`));
}

// For a Cypher result: the account ids it holds (account nodes or id strings in an
// `account_id` column) at the time the button is pressed.
export function listCyclesCard(accountIds) {
  return cyclesCard("Temporal cycles through the result's accounts", (w, n) => {
    const accounts = accountIds();
    if (!accounts.length) return Promise.reject(new Error("the result holds no accounts"));
    return api("/v1/cycles", { method: "POST", body: JSON.stringify({ accounts: accounts.slice(0, 500), window: w, max_length: Number(n) }) });
  });
}

// The account ids in a Cypher result: Account nodes anywhere in it (also inside paths and
// lists), and the values of columns named account_id or account.
export function accountIdsOf(result) {
  if (!result) return [];
  const ids = new Set();
  const visit = (v) => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!v || typeof v !== "object") return;
    if (v._kind === "node" && (v._labels || []).includes("Account") && v.properties?.account_id !== undefined) ids.add(String(v.properties.account_id));
    else if (v._kind === "path") visit(v.nodes);
  };
  const named = result.columns.map((c, i) => (/(^|\.)(account_id|account)$/.test(c) ? i : -1)).filter((i) => i >= 0);
  for (const r of result.rows) {
    visit(r);
    for (const i of named) if (typeof r[i] === "string") ids.add(r[i]);
  }
  return [...ids];
}
