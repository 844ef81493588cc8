// The account page: profile, identifiers, flags and an ego network expanded by clicks.
import {
  api, badge, can, card, fill, fixed, fmtTs, h, kv, link, mountGraph, options, path, row, showError, table, view,
} from "./core.js";

export async function renderAccount(accountId) {
  fill(view, h("p", { class: "muted" }, `Loading ${accountId}…`));
  if (!can("investigator", "analyst")) {
    try {
      const group = await api(path("accounts", accountId, "group"));
      fill(view, h("h1", {}, `Account ${accountId}`), h("p", {}, "In group ", link("group", group.group_id), " ", badge(group.verdict), "."));
    } catch (err) { showError(view, err); }
    return;
  }
  let profile;
  try { profile = await api(path("accounts", accountId)); } catch (err) { showError(view, err); return; }
  const depthSelect = h("select", { id: "ego-depth" }, options(["1", "2", "3"]));
  const limitSelect = h("select", { id: "ego-limit" }, options(["50", "150", "500", "1000"], "150"));
  const selected = h("p", { id: "ego-selected", class: "legend" });
  fill(view, h("h1", {}, `Account ${accountId}`), h("div", { class: "grid" },
    h("div", {}, card(h("div", { class: "filters" }, h("div", {}, h("label", { for: "ego-depth" }, "Depth"), depthSelect),
      h("div", {}, h("label", { for: "ego-limit" }, "Node cap"), limitSelect), h("div", { class: "muted" }, "Click an account to expand its neighbours.")),
    h("div", { id: "ego-graph", dataset: { testid: "ego-graph" } }), selected)),
    h("div", {},
      card(h("h2", {}, "Profile"), kv([...Object.entries(profile.properties).map(([k, v]) => [k, k.endsWith("_at") ? fmtTs(v) : String(v ?? "")]),
        ["Group", profile.group_id ? link("group", profile.group_id) : "none"]])),
      card(h("h2", {}, "Identifiers"), table(["Kind", "Value", "Uses", "Shared by", "Specificity"],
        profile.identifiers.map((i) => row(i.kind, i.value, String(i.uses), String(i.shared_by), fixed(i.specificity, 2))))),
      card(h("h2", {}, "Flags"), profile.flags.length ? profile.flags.map((f) => h("details", {}, h("summary", {}, `${f.clause} (${fixed(f.score, 2)})`),
        h("pre", {}, JSON.stringify(f.evidence, null, 2)))) : h("p", { class: "muted" }, "None.")))));
  const load = () => {
    const depth = depthSelect.value, limit = limitSelect.value;
    api(`${path("accounts", accountId, "graph")}?depth=${depth}&limit=${limit}`).then((html) => {
      const graph = mountGraph(document.getElementById("ego-graph"), html, {
        "linkscope:node": async (data) => {
          if (data.kind !== "Account") return;
          fill(selected, "Selected ", link("account", data.key), " (open) · expanding…");
          try {
            const items = await api(`${path("accounts", data.key, "neighborhood", "view")}?limit=${limit}`);
            graph.add(items.nodes, items.edges);
            fill(selected, "Selected ", link("account", data.key), ` (open) · expanded ${items.nodes.length} neighbours`);
          } catch (err) { showError(selected, err); }
        },
      });
    }).catch((err) => showError(document.getElementById("ego-graph"), err));
  };
  depthSelect.addEventListener("change", load);
  limitSelect.addEventListener("change", load);
  load();
}
