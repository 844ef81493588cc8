// Analysis runs and what-if runs: start a dry run with other settings (admin), compare a shadow
// run with the current run, promote or discard it.
import { api, badge, can, card, chips, fill, fmtTs, h, link, path, row, showError, table, view } from "./core.js";
// can() with no role: admins only.

export async function renderRuns(runId) {
  if (!can("analyst")) { fill(view, h("p", { class: "error" }, "Runs are for analysts and admins.")); return; }
  if (runId) { await renderComparison(runId); return; }
  const list = h("div", { id: "runs-list" });
  fill(view, h("h1", {}, "Analysis runs"), can() ? dryRunForm() : null, card(list));
  try {
    const runs = await api("/v1/runs?limit=50");
    fill(list, table(["Run", "Status", "Started", "Groups", ""], runs.map((r) => row(
      r.status === "shadow" ? link("runs", r.run_id) : r.run_id, r.status, fmtTs(r.started_at), r.groups ?? "",
      r.status === "shadow" ? link("runs", r.run_id, "compare") : ""))), "No runs yet.");
  } catch (err) { showError(list, err); }
}

function dryRunForm() {
  const config = h("textarea", { id: "dry-config", rows: 4, spellcheck: "false" });
  config.value = '{"trading": {"sync_min_episodes": 8}}';
  const status = h("p", { id: "dry-status", class: "muted", role: "status" });
  const form = h("form", { id: "dry-run-form" }, h("h2", {}, "What-if run"),
    h("label", { for: "dry-config" }, "Settings to try (JSON, as in analyze --config; the rest as the current run's defaults)"), config,
    h("p", {}, h("button", { type: "submit" }, "Start dry run")), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let settings;
    try { settings = JSON.parse(config.value || "{}"); } catch (err) { status.textContent = `not JSON: ${err.message}`; return; }
    try {
      await api("/v1/runs", { method: "POST", body: JSON.stringify({ dry_run: true, config: settings }) });
      status.textContent = "dry run started; it appears below as a shadow run when done";
      setTimeout(() => renderRuns(""), 3000);
    } catch (err) { status.textContent = err.message; }
  });
  return card(form);
}

const describe = (a) => (a ? [badge(a.verdict), " ", chips(a.clauses), " ", a.recommended_action] : "—");

async function renderComparison(runId) {
  fill(view, h("h1", {}, `Shadow run ${runId}`), h("div", { id: "comparison" }, "loading…"));
  const where = document.getElementById("comparison");
  try {
    const c = await api(path("runs", runId, "comparison"));
    const n = c.counts;
    const message = h("p", { id: "run-action-status", role: "status" });
    const act = async (what) => {
      try {
        const done = await api(path("runs", runId, what), { method: "POST" });
        fill(message, `run ${done.run_id}: ${done.status}`);
      } catch (err) { fill(message, h("span", { class: "error" }, err.message)); }
    };
    fill(where, card(
      h("p", { id: "comparison-summary" }, `Against current run ${c.current_run} (made against ${c.base_run}): ${n.groups_shadow} groups (current ${n.groups_current}); `,
        `${n.appears} appear, ${n.disappears} disappear, ${n.verdict} change verdict, ${n.clauses} change clauses, ${n.action} change action.`),
      c.status === "shadow" && can() ? h("p", {}, h("button", { type: "button", id: "promote", onclick: () => act("promote") }, "Promote to current"), " ",
        h("button", { type: "button", id: "discard", class: "secondary", onclick: () => act("discard") }, "Discard")) : null, message),
    card(h("table", { id: "comparison-table" }, h("thead", {}, h("tr", {}, ["Group", "Change", "Current run", "Shadow run"].map((t) => h("th", {}, t)))),
      h("tbody", {}, c.changes.length ? c.changes.map((x) => row(x.change === "appears" ? x.group_id : link("group", x.group_id), x.change, describe(x.before), describe(x.after)))
        : h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No group changes."))))));
  } catch (err) { showError(where, err); }
}
