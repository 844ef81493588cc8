// The console's query library: example investigations (GET /v1/cypher/examples) and the signed-in
// key's saved queries (GET/PUT/DELETE /v1/cypher/saved). Loading one puts its query and
// parameters into the console's editor.
import { api, card, fill, h, showError } from "./core.js";

export function libraryCard({ getQuery, getParams, load }) {
  const examples = h("select", { id: "cypher-examples" }, h("option", { value: "" }, "Example investigations…"));
  const saved = h("select", { id: "cypher-saved" }, h("option", { value: "" }, "My saved queries…"));
  const name = h("input", { id: "cypher-save-name", type: "text", maxlength: 100, placeholder: "name", autocomplete: "off" });
  const status = h("span", { id: "cypher-library-status", class: "muted", "aria-live": "polite" });
  const about = h("p", { id: "cypher-example-about", class: "muted" });
  const save = h("button", { id: "cypher-save", type: "button" }, "Save");
  const remove = h("button", { id: "cypher-delete", type: "button" }, "Delete");
  const byName = { examples: new Map(), saved: new Map() };

  async function refreshSaved(selected = "") {
    try {
      const items = await api("/v1/cypher/saved");
      byName.saved = new Map(items.map((s) => [s.name, s]));
      fill(saved, h("option", { value: "" }, "My saved queries…"), items.map((s) => h("option", { value: s.name, selected: s.name === selected }, s.name)));
    } catch (err) { showError(status, err); }
  }
  api("/v1/cypher/examples").then((items) => {
    byName.examples = new Map(items.map((e) => [e.name, e]));
    examples.append(...items.map((e) => h("option", { value: e.name }, e.name)));
  }).catch((err) => showError(status, err));
  refreshSaved();

  examples.addEventListener("change", () => {
    const item = byName.examples.get(examples.value);
    if (!item) return;
    load(item.query, item.params);
    about.textContent = `${item.description} Fill in the parameters, then run.`;
  });
  saved.addEventListener("change", () => {
    const item = byName.saved.get(saved.value);
    if (!item) return;
    load(item.query, item.params);
    name.value = item.name;
    about.textContent = "";
  });
  save.addEventListener("click", async () => {
    const text = name.value.trim();
    if (!text) { status.textContent = "give the query a name"; return; }
    let params;
    try { params = JSON.parse(getParams() || "{}"); } catch (err) { status.textContent = `parameters are not JSON: ${err.message}`; return; }
    try {
      await api(`/v1/cypher/saved/${encodeURIComponent(text)}`, { method: "PUT", body: JSON.stringify({ query: getQuery(), params }) });
      status.textContent = `saved “${text}”`;
      await refreshSaved(text);
    } catch (err) { showError(status, err); }
  });
  remove.addEventListener("click", async () => {
    if (!saved.value) { status.textContent = "choose a saved query to delete"; return; }
    try {
      await api(`/v1/cypher/saved/${encodeURIComponent(saved.value)}`, { method: "DELETE" });
      status.textContent = `deleted “${saved.value}”`;
      await refreshSaved();
    } catch (err) { showError(status, err); }
  });
  return card(h("div", { class: "filters" }, h("div", {}, h("label", { for: "cypher-examples" }, "Examples"), examples),
    h("div", {}, h("label", { for: "cypher-saved" }, "Saved"), saved, " ", remove),
    h("div", {}, h("label", { for: "cypher-save-name" }, "Save as"), name, " ", save), status), about);
}
