// Cases: "My cases" and "Unassigned" lists, and the case page (due date, assignment, thread,
// status changes, the four-eyes sanction panel) around the group page of the case's group.
import {
  api, badge, can, card, fill, fmtTs, h, kv, link, options, path, row, session, showError, table, view,
} from "./core.js";
import { renderGroup } from "./group.js";

const SANCTIONS = ["freeze_pending_review", "restrict_new_positions", "permanent_restriction"];
const VIEWS = {
  mine: { title: "My cases", params: { mine: "true", status: "active" } },
  unassigned: { title: "Unassigned cases", params: { unassigned: "true", status: "active" } },
  approvals: { title: "Sanctions waiting for approval", params: { status: "pending_approval" } },
};
export const casesState = { verdict: "", overdue: false };

export function statusBadge(status) { return h("span", { class: `badge status ${status}` }, status.replace("_", " ")); }
export function dueText(c) {
  return c.overdue ? h("span", { class: "overdue", dataset: { testid: "overdue" } }, `overdue since ${fmtTs(c.due_at)}`) : fmtTs(c.due_at);
}
function who(key, name) { return key ? (name && name !== key ? `${name} (${key})` : key) : "unassigned"; }

export async function renderCases(which) {
  const spec = VIEWS[which] || VIEWS.mine;
  const verdict = h("select", { id: "c-verdict" }, options([["", "any"], "violation", "suspected", "cleared"]));
  verdict.value = casesState.verdict;
  const overdue = h("input", { id: "c-overdue", type: "checkbox", checked: casesState.overdue });
  const more = h("button", { id: "cases-more", type: "button", class: "secondary", hidden: true }, "More");
  fill(view, h("h1", {}, spec.title),
    h("div", { class: "card filters", role: "search" },
      h("div", {}, h("label", { for: "c-verdict" }, "Verdict"), verdict),
      h("div", {}, h("label", { for: "c-overdue" }, "Overdue only"), overdue),
      h("div", { class: "muted", id: "cases-count" })),
    card(h("table", { id: "cases" }, h("thead", {}, h("tr", {}, ["Due", "Case", "Status", "Verdict", "Group", "Assignee", "Title"]
      .map((t) => h("th", {}, t)))), h("tbody")), h("p", {}, more)));
  const body = document.querySelector("#cases tbody");
  let cursor = null, shown = 0;
  const load = async (append) => {
    const params = new URLSearchParams({ ...spec.params, limit: "100" });
    if (casesState.verdict) params.set("verdict", casesState.verdict);
    if (casesState.overdue) params.set("overdue", "true");
    if (append && cursor) params.set("cursor", cursor);
    try {
      const page = await api(`/v1/cases?${params}`);
      const rows = page.items.map((c) => {
        const tr = row(dueText(c), link("case", c.case_id), statusBadge(c.status), c.verdict ? badge(c.verdict) : "",
          c.group_id ? link("group", c.group_id) : `${c.account_ids.length} accounts`, who(c.assignee, c.assignee_name), c.title);
        tr.dataset.case = c.case_id;
        return tr;
      });
      shown = append ? shown + rows.length : rows.length;
      if (append) rows.forEach((r) => body.append(r));
      else fill(body, rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No cases here.")));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      document.getElementById("cases-count").textContent = `${shown} cases${cursor ? " (more)" : ""}`;
    } catch (err) { showError(body, err); }
  };
  verdict.addEventListener("change", () => { casesState.verdict = verdict.value; load(false); });
  overdue.addEventListener("change", () => { casesState.overdue = overdue.checked; load(false); });
  more.addEventListener("click", () => load(true));
  await load(false);
}

export async function renderCase(caseId) {
  fill(view, h("p", { class: "muted" }, `Loading case ${caseId}…`));
  let c;
  try { c = await api(path("cases", caseId)); } catch (err) { showError(view, err); return; }
  const error = h("p", { id: "case-error", class: "error", role: "alert" });
  const panel = h("div", { id: "case-panel" });
  const groupArea = h("div", { id: "case-group" });
  fill(view, panel, groupArea);
  fillCase(panel, error, c);
  if (c.group_id) await renderGroup(c.group_id, groupArea, { inCase: true });
  else fill(groupArea, card(h("h2", {}, "Accounts"), h("ul", {}, c.account_ids.map((a) => h("li", {}, link("account", a))))));
}

// Every change answers with the case as it now is: redraw the panel from it.
function act(panel, error, request) {
  return async (event) => {
    event?.preventDefault?.();
    try { fillCase(panel, error, await request()); error.textContent = ""; } catch (err) { error.textContent = `${err.message}${err.code ? ` (${err.code})` : ""}`; }
  };
}
function post(c, tail, body) { return api(`${path("cases", c.case_id)}/${tail}`, { method: "POST", body: JSON.stringify(body || {}) }); }

function fillCase(panel, error, c) {
  const me = session.me;
  const mine = c.assignee === me.key_id;
  const open = c.status !== "closed";
  const work = open && (mine || me.role === "admin");
  const summary = card(h("h2", {}, "Case"), kv([
    ["Status", h("span", { id: "case-status" }, c.status)],
    ["Group", c.group_id ? [link("group", c.group_id), c.detected ? "" : h("span", { class: "overdue" }, ` no longer detected (last run ${c.last_run_id || "none"})`)] : "accounts"],
    ["Assignee", h("span", { id: "case-assignee" }, who(c.assignee, c.assignee_name))],
    ["Due", h("span", { id: "case-due" }, dueText(c))],
    ["Opened", `${fmtTs(c.opened_at)} by ${c.opened_by} (${c.origin})`],
    ["Disposition", c.disposition ? `${c.disposition}${c.disposition_reason ? `: ${c.disposition_reason}` : ""}` : "—"],
  ]), c.links.length ? [h("h2", {}, "Related cases"), h("ul", {}, c.links.map((l) => h("li", {}, `${l.kind.replace("_", " ")} `, link("case", l.case_id), ` (${l.status}) ${l.why}`)))] : null);

  const controls = [];
  if (open && !c.assignee && can("investigator")) controls.push(h("button", { id: "claim", type: "button", onclick: act(panel, error, () => post(c, "claim")) }, "Claim"));
  if (work && c.status === "open") controls.push(h("button", { id: "start-review", type: "button", class: "secondary", onclick: act(panel, error, () => post(c, "status", { status: "in_review" })) }, "Start review"));
  if (!open && me.role === "admin") controls.push(h("button", { id: "reopen", type: "button", class: "secondary", onclick: act(panel, error, () => post(c, "status", { status: "in_review" })) }, "Re-open"));
  let assignForm = null, closeForm = null;
  if (work && can("investigator")) {
    const to = h("select", { id: "assign-to", required: true }, h("option", { value: "" }, "…"));
    api("/v1/cases/assignees").then((people) => fill(to, h("option", { value: "" }, "choose"),
      people.filter((p) => p.key_id !== c.assignee).map((p) => h("option", { value: p.key_id }, `${p.name} (${p.role})`))))
      .catch((err) => { error.textContent = err.message; });
    assignForm = h("form", { id: "assign" }, h("label", { for: "assign-to" }, "Reassign to"), to, h("p", {}, h("button", { type: "submit", class: "secondary" }, "Assign")));
    assignForm.addEventListener("submit", act(panel, error, () => post(c, "assign", { assignee: to.value.trim() })));
    const disposition = h("select", { id: "close-disposition" }, options(["confirmed", "dismissed", "escalated"]));
    const reason = h("textarea", { id: "close-reason", rows: 2, maxlength: 4000 });
    const pending = c.proposals.some((p) => p.status === "proposed");
    closeForm = pending ? h("p", { class: "muted" }, "A sanction proposal is waiting for approval; close the case after it is decided.") : h("form", { id: "close" }, h("label", { for: "close-disposition" }, "Close as"), disposition,
      h("label", { for: "close-reason" }, "Reason (required to dismiss)"), reason, h("p", {}, h("button", { type: "submit" }, "Close case")));
    if (!pending) closeForm.addEventListener("submit", act(panel, error, () => post(c, "status", { status: "closed", disposition: disposition.value, reason: reason.value })));
  }
  const work_card = card(h("h2", {}, "Work"), controls.length ? h("p", {}, controls.flatMap((b) => [b, " "])) : null, assignForm, closeForm,
    !controls.length && !assignForm ? h("p", { class: "muted" }, open ? "Claimed by someone else, or not for your role." : "Closed.") : null);

  const sanctions = card(h("h2", {}, "Sanctions (four eyes)"), sanctionTable(panel, error, c), proposeForm(panel, error, c));

  const text = h("textarea", { id: "note-text", rows: 3, maxlength: 4000, required: true });
  const noteForm = can("investigator", "enforcement") ? h("form", { id: "add-note" }, h("label", { for: "note-text" }, "Add to the thread"), text,
    h("p", {}, h("button", { type: "submit" }, "Add note"))) : null;
  noteForm?.addEventListener("submit", act(panel, error, () => post(c, "notes", { text: text.value })));
  const thread = card(h("h2", {}, "Thread"), h("ol", { id: "thread", class: "thread" }, c.notes.map((n) => h("li", { class: `note ${n.kind}`, dataset: { kind: n.kind } },
    h("span", { class: "muted" }, `${fmtTs(n.at)} · ${who(n.by_key, n.by_name)} · ${n.by_role}${n.case_id !== c.case_id ? ` · from ${n.case_id}` : ""}`), h("div", {}, n.text)))), noteForm);
  // The heading is redrawn with the panel (its status changes); the error line is kept.
  fill(panel, h("h1", {}, `Case ${c.case_id} `, statusBadge(c.status), " ", c.verdict ? badge(c.verdict) : "", " ", h("span", { class: "muted" }, c.title)),
    error, h("div", { class: "grid" }, h("div", {}, thread, sanctions), h("div", {}, summary, work_card)));
}

function sanctionTable(panel, error, c) {
  const me = session.me;
  const rows = c.proposals.map((p) => {
    const buttons = [];
    if (p.status === "proposed" && can("enforcement") && p.proposed_by !== me.key_id) {
      const base = `proposals/${encodeURIComponent(p.proposal_id)}`;
      buttons.push(h("button", { type: "button", class: "approve", onclick: act(panel, error, () => post(c, `${base}/approve`)) }, "Approve"), " ",
        h("button", { type: "button", class: "secondary reject", onclick: act(panel, error, () => post(c, `${base}/reject`)) }, "Reject"));
    } else if (p.status === "proposed" && p.proposed_by === me.key_id) buttons.push(h("span", { class: "muted" }, "waiting for a second person"));
    const tr = row(h("b", {}, p.action), p.status, `${who(p.proposed_by, p.proposed_name)} ${fmtTs(p.proposed_at)}`,
      p.decided_by ? `${who(p.decided_by, p.decided_name)} ${fmtTs(p.decided_at)}` : "", p.note, buttons);
    tr.dataset.proposal = p.proposal_id;
    tr.dataset.status = p.status;
    return tr;
  });
  return h("div", { id: "proposals" }, table(["Action", "Status", "Proposed", "Decided", "Note", ""], rows, "No sanction proposed."));
}

function proposeForm(panel, error, c) {
  const me = session.me;
  const allowed = ["open", "in_review"].includes(c.status) && (can("enforcement") || (me.role === "investigator" && c.assignee === me.key_id));
  if (!allowed) return null;
  const action = h("select", { id: "propose-action" }, options(SANCTIONS));
  const note = h("textarea", { id: "propose-note", rows: 2, maxlength: 4000 });
  const form = h("form", { id: "propose" }, h("label", { for: "propose-action" }, "Propose a sanction"), action,
    h("label", { for: "propose-note" }, "Why"), note, h("p", {}, h("button", { type: "submit" }, "Propose")));
  form.addEventListener("submit", act(panel, error, () => post(c, "proposals", { action: action.value, note: note.value })));
  return form;
}

// The group page's case card: the group's case with a link, or a button to open one.
export async function groupCaseCard(where, groupId) {
  try {
    const page = await api(`/v1/cases?${new URLSearchParams({ group_id: groupId, limit: "5" })}`);
    const active = page.items.filter((c) => c.status !== "closed");
    const shown = active.length ? active : page.items;
    const items = shown.map((c) => h("li", { dataset: { case: c.case_id } }, link("case", c.case_id), " ", statusBadge(c.status), ` ${who(c.assignee, c.assignee_name)} · due `, dueText(c)));
    const openButton = !active.length && can("investigator") ? h("button", { id: "open-case", type: "button", class: "secondary", onclick: async () => {
      try { const c = await api("/v1/cases", { method: "POST", body: JSON.stringify({ group_id: groupId }) }); location.hash = `#/case/${encodeURIComponent(c.case_id)}`; } catch (err) { showError(where, err); }
    } }, "Open a case") : null;
    fill(where, h("h2", {}, "Case"), items.length ? h("ul", { id: "group-cases" }, items) : h("p", { class: "muted" }, "No case on this group."), openButton);
  } catch (err) { showError(where, err); }
}
