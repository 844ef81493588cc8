// Suppressions (what the next runs take as explained) with revoke, and the precision of past
// verdicts from their dispositions.
import { api, can, card, fill, fmtTs, h, options, path, row, session, showError, table, view } from "./core.js";

export async function renderSuppressions() {
  const list = h("div", { id: "suppressions-list" }), precision = h("div", { id: "precision" });
  fill(view, h("h1", {}, "Suppressions"), can("investigator") ? createForm() : null, card(list),
    can("investigator", "analyst") ? card(h("h2", {}, "Precision from dispositions"), precision) : null);
  await loadList(list);
  if (can("investigator", "analyst")) {
    try {
      const p = await api("/v1/dispositions");
      const rate = (r) => (r.precision === null ? "—" : r.precision.toFixed(3));
      const rows = (items) => items.map((r) => row(r.key, r.confirmed, r.decided, rate(r)));
      fill(precision, h("h3", {}, "By run (oldest first)"), table(["Run", "Confirmed", "Decided", "Precision"], rows(p.by_run), "No decisions yet."),
        h("h3", {}, "By clause"), table(["Clause", "Confirmed", "Decided", "Precision"], rows(p.by_clause), "No decisions yet."),
        h("p", {}, `Overall: ${p.overall.confirmed} of ${p.overall.decided} confirmed (${rate(p.overall)})`));
    } catch (err) { showError(precision, err); }
  }
}

async function loadList(list) {
  try {
    const items = await api("/v1/suppressions");
    fill(list, table(["Id", "Reason", "What", "Note", "By", "Expires", "State", ""], items.map((s) => {
      const revoke = s.active && (can() || s.by_key === session.me.key_id)
        ? h("button", { type: "button", class: "secondary", onclick: async () => {
          try { await api(path("suppressions", s.suppression_id), { method: "DELETE" }); await loadList(list); } catch (err) { showError(list, err); }
        } }, "Revoke") : "";
      const tr = row(s.suppression_id, s.reason, s.identifier || s.accounts.join(", "), s.note, `${s.by_key} (${s.by_role})`, fmtTs(s.expires_at),
        s.active ? "active" : s.revoked_at ? `revoked ${fmtTs(s.revoked_at)}` : "expired", revoke);
      tr.dataset.suppression = s.suppression_id;
      return tr;
    }), "No suppressions."));
  } catch (err) { showError(list, err); }
}

function createForm() {
  const reason = h("select", { id: "s-reason" }, options([["office_ip", "IP is our office"], ["stock_device", "device id is a stock fingerprint"],
    ["household", "accounts are one household"], ["market_maker_pair", "pair is a known market-maker arrangement"]]));
  const what = h("input", { id: "s-what", required: true, placeholder: "IP / device id, or account ids separated by commas" });
  const note = h("input", { id: "s-note", maxlength: 4000 });
  const days = h("input", { id: "s-days", type: "number", min: 1, value: 90 });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { id: "suppression-form" }, h("h2", {}, "New suppression"), h("label", { for: "s-reason" }, "Reason"), reason,
    h("label", { for: "s-what" }, "Identifier or accounts"), what, h("label", { for: "s-note" }, "Note"), note,
    h("label", { for: "s-days" }, "Expires after (days)"), days, h("p", {}, h("button", { type: "submit" }, "Suppress")), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/v1/suppressions", { method: "POST", body: JSON.stringify(suppression(reason.value, what.value, note.value, Number(days.value))) });
      what.value = ""; note.value = ""; error.textContent = "";
      await loadList(document.getElementById("suppressions-list"));
    } catch (err) { error.textContent = err.message; }
  });
  return card(form);
}

// The body of a suppression from the form's fields (also used by the group page's dismissal).
export function suppression(reason, what, note, days) {
  const ids = what.split(",").map((x) => x.trim()).filter(Boolean);
  const body = reason === "office_ip" || reason === "stock_device" ? { reason, identifier: what.trim() } : { reason, accounts: ids };
  if (note !== undefined) body.note = note;
  if (days) body.expires_at = Date.now() + days * 86_400_000;
  return body;
}
