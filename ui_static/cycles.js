// Temporal cycle search results: loops of fills and transfers that leave an account (or a set)
// and come back, most unusual first. Rendered into a holder the calling page owns.
import { api, card, fill, fmtNum, fmtTs, h, link, path, showError, table, row } from "./core.js";

const pct = (x) => (x === null || x === undefined ? "" : `${(100 * x).toFixed(1)}%`);

export async function showCycles(holder, accountId, { window = "30d", maxLength = 6, minAmount = 0 } = {}) {
  fill(holder, h("p", { class: "muted" }, "Searching loops…"));
  let found;
  try {
    found = await api(`${path("accounts", accountId, "cycles")}?window=${encodeURIComponent(window)}&max_length=${maxLength}&min_amount=${minAmount}`);
  } catch (err) { showError(holder, err); return; }
  const summary = `${found.sequences} loop(s) in ${fmtTs(found.since)} – ${fmtTs(found.until)}, ${found.expansions} expansions, ${Math.round(found.elapsed_ms)} ms`;
  fill(holder,
    h("p", { id: "cycles-summary", class: found.complete ? "muted" : "error" },
      found.complete ? summary : `${summary}: stopped at its ${found.stopped}; more loops may exist.`),
    found.loops.length ? found.loops.map((loop, n) => loopCard(loop, n)) : h("p", { class: "muted" }, "No loop returns to this account in the window."));
}

function loopCard(loop, n) {
  const hops = loop.hops.map((hop) => row(link("account", hop.sender), link("account", hop.receiver), hop.kind, hop.ref, hop.unit,
    fmtTs(hop.ts), fmtNum(hop.amount), pct(hop.retained)));
  return h("details", { class: "cycle", dataset: { testid: "cycle", accounts: loop.accounts.join(" ") }, open: n === 0 },
    h("summary", {}, `#${n + 1} · score ${loop.score.toFixed(2)} · ${loop.accounts.length} hops · `,
      [...loop.accounts, loop.start].join(" → "), ` · ${(loop.span_ms / 86400000).toFixed(1)} days · retained ${pct(loop.retained)}`),
    table(["From", "To", "Kind", "Id", "Symbol/asset", "Time", "Amount", "Retained"], hops),
    // Opening the loop as a case: the accounts and evidence ids a case needs (cases are built elsewhere).
    h("p", { class: "muted" }, `Case evidence: ${loop.case_hook.trade_ids.length} fill(s), ${loop.case_hook.transfer_ids.length} transfer(s); follow ${loop.follow.toFixed(2)}, structure ${loop.structure.toFixed(2)}.`));
}

export function cyclesCard(accountId) {
  const holder = h("div", { id: "cycles" });
  const windowSelect = h("select", { id: "cycles-window" }, ["7d", "30d", "90d"].map((v) => h("option", { selected: v === "30d" }, v)));
  const lengthSelect = h("select", { id: "cycles-length" }, ["3", "4", "5", "6", "8"].map((v) => h("option", { selected: v === "6" }, v)));
  const button = h("button", { id: "cycles-search", type: "button" }, "Find loops");
  button.addEventListener("click", () => showCycles(holder, accountId, { window: windowSelect.value, maxLength: lengthSelect.value }));
  return card(h("h2", {}, "Temporal cycles"),
    h("div", { class: "filters" }, h("div", {}, h("label", { for: "cycles-window" }, "Window"), windowSelect),
      h("div", {}, h("label", { for: "cycles-length" }, "Max hops"), lengthSelect), button),
    holder);
}
