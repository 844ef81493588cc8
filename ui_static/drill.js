// Drill-down to the facts: what links two accounts (transfers with amounts, identifiers with
// when each account used them), a trade with both sides and its orders, the fills of a
// synchronized episode, and an account's trades, transfers, logins and orders.
import {
  api, card, fill, fmtNum, fmtTs, h, kv, link, path, row, showError, table, view,
} from "./core.js";

const amount = (value, asset) => [fmtNum(value), asset ? ` ${asset}` : ""];
const tradeLink = (id) => link("trade", id);

// The records behind one linkage row: loads when opened.
export function linkDetail(a, b) {
  const where = h("div", { class: "drill", dataset: { testid: "link-detail" } }, h("p", { class: "muted" }, "Loading…"));
  api(`/v1/links?${new URLSearchParams({ a, b })}`).then((d) => fill(where,
    h("h3", {}, `Transfers between ${a} and ${b}`),
    table(["Time (UTC)", "From", "To", "Amount", "Method", "Event"], d.transfers.map((t) => row(fmtTs(t.ts), t.source, t.target,
      h("td", { class: "num" }, amount(t.amount, t.asset)), t.method || "", h("td", { class: "id" }, t.event_id))), "No transfers between them."),
    d.transfers_truncated ? h("p", { class: "muted" }, `First ${d.transfers.length} transfers shown.`) : null,
    h("h3", {}, "Identifiers both used"),
    d.identifiers.length ? table(["Identifier", "Account", "How", "Uses", "First (UTC)", "Last (UTC)", "Amount"],
      d.identifiers.flatMap((i) => i.uses.map((u, n) => row(n ? "" : `${i.kind} ${i.value}`, u.account, u.relationship.toLowerCase().replace("_", " "),
        String(u.count), fmtTs(u.first), fmtTs(u.last), u.amount === null ? "" : amount(u.amount, u.asset))))) :
      h("p", { class: "muted" }, "No identifier in common."),
  )).catch((err) => showError(where, err));
  return where;
}

// Both fills of a synchronized episode: each account's fill in that symbol at its time.
export function episodeFills(pair, x) {
  const where = h("div", { class: "drill" }, h("p", { class: "muted" }, "Loading…"));
  const fillOf = (account, ts) => api(`${path("accounts", account, "trades")}?${new URLSearchParams({ symbol: x.symbol, since: ts, until: ts + 1, limit: 5 })}`)
    .then((page) => page.items.map((f) => ({ account, ...f })));
  Promise.all([fillOf(pair.a, x.ts_a), fillOf(pair.b, x.ts_b)]).then(([fa, fb]) => fill(where,
    table(["Account", "Time (UTC)", "Side", "Price", "Size", "Counterparty", "Trade"], [...fa, ...fb].map((f) => {
      const bought = f.buyer_id === f.account;
      return row(f.account, fmtTs(f.ts), bought ? "buy" : "sell", fmtNum(f.price), fmtNum(f.qty), bought ? f.seller_id : f.buyer_id, tradeLink(f.trade_id));
    }), "The fills are not in the event store."))).catch((err) => showError(where, err));
  return where;
}

// "#/trade/<id>": one fill, both sides, the orders behind it.
export async function renderTrade(tradeId) {
  fill(view, h("p", { class: "muted" }, `Loading trade ${tradeId}…`));
  let d;
  try { d = await api(path("trades", tradeId)); } catch (err) { showError(view, err); return; }
  const t = d.trade;
  const base = t.symbol.split("_")[0], quote = t.symbol.split("_")[1] || "";
  fill(view, h("h1", {}, `Trade ${t.trade_id}`), card(h("h2", {}, "Fill"), kv([
    ["Time", fmtTs(t.ts)], ["Symbol", `${t.symbol} (${t.market || "spot"})`], ["Price", amount(t.price, quote)], ["Size", amount(t.qty, base)],
    ["Value", amount(t.price * t.qty, quote)], ["Buyer", link("account", t.buyer_id)], ["Seller", link("account", t.seller_id)],
    ["Taker", t.taker_side || "not reported"], ["Self-trade", t.buyer_id === t.seller_id ? "yes" : "no"]])),
  card(h("h2", {}, "Orders behind it"), table(["Order", "Account", "Side", "Type", "Price", "Size", "Filled", "Placed (UTC)", "Ended (UTC)", "Status", "Channel"],
    d.orders.map((o) => row(h("td", { class: "id" }, o.order_id), link("account", o.account_id), o.side, o.type, o.price === null ? "" : fmtNum(o.price),
      fmtNum(o.qty), o.filled_qty === null ? "" : fmtNum(o.filled_qty), fmtTs(o.placed_at), fmtTs(o.ended_at), o.final_status, o.channel || "")),
    t.buy_order_id || t.sell_order_id ? "The orders are not in the event store." : "The trade names no orders.")));
}

// An account's activity, one kind at a time, paged with "More" (keyset cursors of the API).
const KINDS = {
  trades: { label: "Trades", filters: ["symbol", "counterparty"], head: ["Time (UTC)", "Side", "Symbol", "Price", "Size", "Counterparty", "Trade"],
    cells: (f, me) => { const bought = f.buyer_id === me; return [fmtTs(f.ts), bought ? "buy" : "sell", f.symbol, fmtNum(f.price), fmtNum(f.qty), bought ? f.seller_id : f.buyer_id, tradeLink(f.trade_id)]; } },
  transfers: { label: "Transfers", filters: [], head: ["Time (UTC)", "From", "To", "Amount", "Method", "Event"],
    cells: (t) => [fmtTs(t.ts), t.source, t.target, amount(t.amount, t.asset), t.method || "", t.event_id] },
  logins: { label: "Logins", filters: [], head: ["Time (UTC)", "IP"], cells: (l) => [fmtTs(l.ts), l.ip] },
  orders: { label: "Orders", filters: ["symbol", "status"], head: ["Placed (UTC)", "Side", "Type", "Symbol", "Price", "Size", "Filled", "Status", "Order"],
    cells: (o) => [fmtTs(o.placed_at), o.side, o.type, o.symbol, o.price === null ? "" : fmtNum(o.price), fmtNum(o.qty), o.filled_qty === null ? "" : fmtNum(o.filled_qty), o.final_status, o.order_id] },
};

export function activityCard(accountId) {
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const filters = h("form", { class: "filters", id: "activity-filters" });
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", id: "activity-more", hidden: true }, "More");
  const count = h("span", { class: "muted", id: "activity-count" });
  const thead = h("thead");
  let kind = "trades", cursor = null, shown = 0, generation = 0;
  const load = async (reset) => {
    const mine = reset ? ++generation : generation;
    // The section says what it holds only once it holds it: a reload of the same kind must not look loaded while it shows "Loading…".
    const box = body.closest("section");
    if (reset) {
      cursor = null; shown = 0; fill(body, h("tr", {}, h("td", { class: "muted" }, "Loading…")));
      if (box) { delete box.dataset.loaded; box.setAttribute("aria-busy", "true"); }
    }
    const params = new URLSearchParams({ limit: "50" });
    for (const input of filters.querySelectorAll("input, select")) if (input.value) params.set(input.name, input.value);
    if (cursor) params.set("cursor", cursor);
    try {
      const page = await api(`${path("accounts", accountId, kind)}?${params}`);
      if (mine !== generation) return;  // a newer tab or filter asked since
      if (reset) fill(body);
      const spec = KINDS[kind];
      page.items.forEach((item) => body.append(row(...spec.cells(item, accountId))));
      shown += page.items.length;
      if (!shown) fill(body, h("tr", {}, h("td", { colspan: spec.head.length, class: "muted" }, "None.")));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      count.textContent = `${shown} shown${cursor ? ", more available" : ""}`;
      if (box) { box.dataset.loaded = kind; box.setAttribute("aria-busy", "false"); }
    } catch (err) { if (mine === generation) { showError(body, err); box?.setAttribute("aria-busy", "false"); } }
  };
  const choose = (name) => {
    kind = name;
    tabs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.kind === name)));
    fill(thead, h("tr", {}, KINDS[name].head.map((t) => h("th", {}, t))));
    fill(filters, KINDS[name].filters.map((f) => h("div", {}, h("label", { for: `activity-${f}` }, f),
      f === "status" ? h("select", { id: `activity-${f}`, name: f }, ["", "filled", "partially_filled", "cancelled", "open", "rejected"].map((s) => h("option", { value: s }, s || "any")))
        : h("input", { id: `activity-${f}`, name: f, placeholder: f === "symbol" ? "e.g. BTC_USDT" : "account id" }))),
    KINDS[name].filters.length ? h("div", {}, h("button", { type: "submit" }, "Filter")) : null);
    load(true);
  };
  for (const [name, spec] of Object.entries(KINDS)) {
    tabs.append(h("button", { type: "button", role: "tab", class: "tab", dataset: { kind: name }, onclick: () => choose(name) }, spec.label));
  }
  filters.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
  more.addEventListener("click", () => load(false));
  const section = h("section", { class: "card", id: "activity", dataset: { testid: "activity" } }, h("h2", {}, "Activity"), tabs, filters,
    h("div", { class: "scroll" }, h("table", { id: "activity-table" }, thead, body)), h("p", {}, more, " ", count));
  choose("trades");
  return section;
}
