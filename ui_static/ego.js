// The account page's ego network: depth and node cap, relationship-type filter, expand on click
// (new nodes ringed around the node expanded), undo of the last expansion, a legend, and a
// counter that is what is drawn. A depth or cap change shows progress, and an answer to an
// older request is dropped: the graph always matches the controls.
import { api, dot, fill, h, link, mountGraph, options, path, showError } from "./core.js";

export const RELS = [["USED_IP", "IP"], ["USED_DEVICE", "device"], ["DEPOSIT_FROM", "deposit"], ["WITHDRAW_TO", "withdrawal"],
  ["TRANSFER", "transfer"], ["TRADES_WITH", "trades"], ["MEMBER_OF", "group"], ["HAS_FLAG", "flag"], ["SANCTIONED", "sanction"]];

export function egoLegend() {
  return h("p", { class: "legend", id: "ego-legend" }, "Accounts: ", h("b", { class: "dot subject" }, "◉"), " this account (larger, dark ring) · ",
    dot("violation", "●"), dot("suspected", "●"), dot("cleared", "●"), "member of its group, by verdict · ",
    h("b", { class: "dot ringed" }, "○"), " member of another group (ring in that group's verdict colour) · ",
    dot("login", "●"), "in no group · ", h("b", {}, "▲"), " IP ", h("b", {}, "■"), " device ", h("b", {}, "◆"), " funding source ",
    h("b", {}, "⬢"), " group. Arrows: relationship direction; hover one for its facts. Click an account to expand its neighbours.");
}

export function egoCard(accountId) {
  const depth = h("select", { id: "ego-depth" }, options(["1", "2", "3"]));
  const limit = h("select", { id: "ego-limit" }, options(["50", "150", "500", "1000"], "150"));
  const undo = h("button", { type: "button", id: "ego-undo", class: "secondary", disabled: true }, "Undo expansion");
  const progress = h("span", { id: "ego-progress", class: "muted", "aria-live": "polite" });
  const selected = h("p", { id: "ego-selected", class: "legend" });
  const holder = h("div", { id: "ego-graph", dataset: { testid: "ego-graph" } });
  const boxes = RELS.map(([rel, label]) => {
    const box = h("input", { type: "checkbox", checked: true, id: `rel-${rel}`, dataset: { rel } });
    return h("label", { class: "inline", for: `rel-${rel}` }, box, ` ${label}`);
  });
  const hiddenRels = () => boxes.map((l) => l.querySelector("input")).filter((b) => !b.checked).map((b) => b.dataset.rel);
  let graph = null, generation = 0, controller = null;
  const filter = () => graph?.post({ type: "linkscope:filter", hidden: hiddenRels() });
  boxes.forEach((l) => l.querySelector("input").addEventListener("change", filter));
  undo.addEventListener("click", () => graph?.post({ type: "linkscope:undo" }));

  const load = () => {
    const mine = ++generation;
    controller?.abort();
    controller = new AbortController();
    const wanted = { depth: depth.value, limit: limit.value };
    // The old picture goes at once: a graph that does not match the controls is never shown.
    graph = null;
    undo.disabled = true;
    delete holder.dataset.stabilizedMs;
    delete holder.dataset.nodes;
    holder.dataset.loading = "true";
    fill(holder, h("div", { class: "graph progress" }, h("p", {}, `Loading the network at depth ${wanted.depth}, up to ${wanted.limit} nodes…`), h("progress")));
    fill(progress, "loading…");
    const started = performance.now();
    api(`${path("accounts", accountId, "graph")}?depth=${wanted.depth}&limit=${wanted.limit}`, { signal: controller.signal }).then((html) => {
      if (mine !== generation) return;  // the controls changed since: a newer request is on its way
      fill(progress, "laying out…");
      graph = mountGraph(holder, html, {
        "linkscope:ready": () => { if (hiddenRels().length) filter(); },
        "linkscope:stabilized": (data) => {
          delete holder.dataset.loading;
          holder.dataset.depth = wanted.depth;
          holder.dataset.limit = wanted.limit;
          fill(progress, `depth ${wanted.depth}, cap ${wanted.limit}: ${data.nodes} nodes in ${Math.round(performance.now() - started)} ms`);
        },
        "linkscope:node": (data) => expand(data, mine),
        "linkscope:added": (data) => { undo.disabled = !data.expansions; fill(progress, `${data.nodes} nodes drawn, ${data.expansions} expansion(s)`); },
        "linkscope:undone": (data) => { undo.disabled = !data.expansions; fill(progress, `${data.nodes} nodes drawn, ${data.expansions} expansion(s)`); },
        "linkscope:filtered": (data) => fill(progress, `${data.nodes} nodes drawn (filtered)`),
      });
    }).catch((err) => { if (mine === generation && err.name !== "AbortError") showError(holder, err); });
  };
  const expand = async (data, mine) => {
    if (data.kind !== "Account") return;
    fill(selected, "Selected ", link("account", data.key), " (open) · expanding…");
    try {
      const items = await api(`${path("accounts", data.key, "neighborhood", "view")}?${new URLSearchParams({ limit: limit.value, subject: accountId })}`);
      if (mine !== generation || !graph) return;
      graph.add(items.nodes, items.edges, data.id);
      fill(selected, "Selected ", link("account", data.key), ` (open) · expanded: ${items.nodes.length} neighbours (already drawn ones are not added twice)`);
    } catch (err) { showError(selected, err); }
  };
  depth.addEventListener("change", load);
  limit.addEventListener("change", load);
  const card = h("div", { class: "card" },
    h("div", { class: "filters" }, h("div", {}, h("label", { for: "ego-depth" }, "Depth"), depth),
      h("div", {}, h("label", { for: "ego-limit" }, "Node cap"), limit), h("div", {}, undo), h("div", {}, progress)),
    h("fieldset", { class: "rels" }, h("legend", {}, "Relationship types shown"), boxes),
    holder, egoLegend(), selected);
  load();
  return card;
}
