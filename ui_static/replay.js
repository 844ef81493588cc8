// The order replay page: an account's (or a group's members') orders, fills and the market's
// trades in one symbol and time range, drawn as hand-built SVG (nothing to load, works offline).
// Route: #/replay/<account|group>/<encoded id>?symbol=S&since=MS&until=MS (all optional: the
// API picks the symbol they filled most in and the day of their last fill).
// Zoom with the wheel or the buttons, drag to pan; hovering an order or a fill shows its ids.
import { api, card, fill, fmtTs, h, link, path, showError, view } from "./core.js";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
const W = 960, H = 420, LEFT = 70, RIGHT = 16, TOP = 16, BOTTOM = 36;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// The route's own part of the hash, parsed here: the router decodes the whole argument, which
// would let an id holding "?" or "/" split it.
export function replayTarget(hash) {
  const rest = hash.replace(/^#\/replay\//, "");
  const [where, query = ""] = rest.split("?", 2);
  const cut = where.indexOf("/");
  const kind = where.slice(0, cut) === "group" ? "group" : "account";
  let id = where.slice(cut + 1);
  try { id = decodeURIComponent(id); } catch { /* a hand-typed "%" stays text */ }
  return { kind, id, params: new URLSearchParams(query) };
}

export function replayHref(kind, id, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")).toString();
  return `#/replay/${kind}/${encodeURIComponent(id)}${q ? `?${q}` : ""}`;
}

export async function renderReplay() {
  const { kind, id, params } = replayTarget(location.hash);
  fill(view, h("p", { class: "muted" }, `Loading the replay of ${id}…`));
  const query = new URLSearchParams();
  for (const k of ["symbol", "since", "until"]) if (params.get(k)) query.set(k, params.get(k));
  let data;
  try {
    data = await api(`${path(kind === "group" ? "groups" : "accounts", id, "replay")}${query.size ? `?${query}` : ""}`);
  } catch (err) { const box = h("div"); fill(view, h("h1", {}, `Order replay: ${id}`), box); showError(box, err); return; }
  const symbol = h("input", { id: "replay-symbol", value: data.symbol, maxlength: 64 });
  const since = h("input", { id: "replay-since", value: new Date(data.since).toISOString().slice(0, 16), type: "datetime-local" });
  const hours = h("input", { id: "replay-hours", value: String(Math.round((data.until - data.since) / 3.6e6)), type: "number", min: 1, max: 744 });
  const controls = h("form", { id: "replay-form", class: "filters" },
    h("div", {}, h("label", { for: "replay-symbol" }, "Symbol"), symbol),
    h("div", {}, h("label", { for: "replay-since" }, "From (UTC)"), since),
    h("div", {}, h("label", { for: "replay-hours" }, "Hours"), hours),
    h("div", {}, h("button", { type: "submit" }, "Show")));
  controls.addEventListener("submit", (event) => {
    event.preventDefault();
    const start = Date.parse(`${since.value}:00Z`);
    location.hash = replayHref(kind, id, { symbol: symbol.value.trim(), since: start, until: start + Number(hours.value) * 3.6e6 });
  });
  const hover = h("p", { id: "replay-hover", class: "legend", "aria-live": "polite" }, "Hover an order or a fill for its ids.");
  const chart = h("div", { id: "replay-chart", dataset: { testid: "replay-chart" } });
  const zoomIn = h("button", { type: "button", class: "secondary", id: "replay-zoom-in" }, "Zoom in");
  const zoomOut = h("button", { type: "button", class: "secondary", id: "replay-zoom-out" }, "Zoom out");
  const reset = h("button", { type: "button", class: "secondary", id: "replay-reset" }, "Reset");
  const t = data.totals;
  const counts = h("p", { id: "replay-counts", class: "legend" },
    `${data.orders.length} orders, ${data.fills.length} fills, ${data.market.length} market trades`,
    data.capped ? ` — capped at ${data.cap} per list (in the range: ${t.orders} orders, ${t.fills} fills, ${t.market} trades)` : "");
  fill(view, h("h1", {}, "Order replay: ", link(kind, id), ` · ${data.symbol}`),
    card(controls),
    card(h("div", { class: "filters" }, zoomIn, zoomOut, reset, h("span", { class: "muted" }, "Wheel: zoom · drag: pan")), chart, counts, hover,
      h("p", { class: "legend" }, "▲ buy order · ▼ sell order (line: how long it rested; dashed: cancelled; thick: sent through the API) · ● own fill · grey dot: market trade",
        kind === "group" ? " · colour: member" : " · green: buy, red: sell")));
  const state = { t0: data.since, t1: data.until };
  const draw = () => drawChart(chart, hover, data, kind, state);
  const zoom = (factor, centre = (state.t0 + state.t1) / 2) => {
    const span = Math.max((state.t1 - state.t0) * factor, 1000);
    const left = (centre - state.t0) / (state.t1 - state.t0);
    state.t0 = centre - span * left; state.t1 = state.t0 + span; draw();
  };
  zoomIn.addEventListener("click", () => zoom(0.5));
  zoomOut.addEventListener("click", () => zoom(2));
  reset.addEventListener("click", () => { state.t0 = data.since; state.t1 = data.until; draw(); });
  chart.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = chart.firstChild.getBoundingClientRect();
    const at = state.t0 + ((event.clientX - box.left) / box.width * W - LEFT) / (W - LEFT - RIGHT) * (state.t1 - state.t0);
    zoom(event.deltaY < 0 ? 0.8 : 1.25, at);
  }, { passive: false });
  let drag = null;
  chart.addEventListener("pointerdown", (event) => { drag = { x: event.clientX, t0: state.t0, t1: state.t1 }; });
  window.addEventListener("pointerup", () => { drag = null; }, { once: false });
  chart.addEventListener("pointermove", (event) => {
    if (!drag || !event.buttons) return;
    const box = chart.firstChild.getBoundingClientRect();
    const shift = (drag.x - event.clientX) / box.width * W / (W - LEFT - RIGHT) * (drag.t1 - drag.t0);
    state.t0 = drag.t0 + shift; state.t1 = drag.t1 + shift; draw();
  });
  draw();
}

function drawChart(where, hover, data, kind, state) {
  const prices = [...data.orders.map((o) => o.price), ...data.fills.map((f) => f.price), ...data.market.map((m) => m.price)].filter((p) => p !== null);
  let lo = Math.min(...prices), hi = Math.max(...prices);
  if (!prices.length) { lo = 0; hi = 1; }
  if (hi <= lo) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.05; lo -= pad; hi += pad;
  const x = (t) => LEFT + (t - state.t0) / (state.t1 - state.t0) * (W - LEFT - RIGHT);
  const y = (p) => H - BOTTOM - (p - lo) / (hi - lo) * (H - TOP - BOTTOM);
  const colourOf = {};
  data.accounts.forEach((a, i) => { colourOf[a] = PALETTE[i % PALETTE.length]; });
  const colour = (account, side) => (kind === "group" ? colourOf[account] : side === "buy" ? "#2ca02c" : "#d62728");
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": `replay of ${data.symbol}`, class: "replay" });
  svg.append(s("defs", {}, s("clipPath", { id: "replay-plot" }, s("rect", { x: LEFT, y: TOP, width: W - LEFT - RIGHT, height: H - TOP - BOTTOM }))));
  svg.append(s("rect", { x: 0, y: 0, width: W, height: H, fill: "#fff", "pointer-events": "none" }));
  for (let i = 0; i <= 4; i++) {  // axes: price on the left, UTC time below
    const p = lo + (hi - lo) * i / 4, t = state.t0 + (state.t1 - state.t0) * i / 4;
    svg.append(s("line", { x1: LEFT, x2: W - RIGHT, y1: y(p), y2: y(p), stroke: "#eee", "pointer-events": "none" }),
      s("text", { x: LEFT - 6, y: y(p) + 4, "text-anchor": "end", "font-size": 11, fill: "#52606d" }, p.toPrecision(6)),
      s("text", { x: x(t), y: H - BOTTOM + 18, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle", "font-size": 11, fill: "#52606d" }, fmtTs(t).slice(5)));
  }
  const plot = s("g", { "clip-path": "url(#replay-plot)" });
  const market = s("g", { class: "market" });
  for (const m of data.market) market.append(s("circle", { class: "trade", cx: x(m.ts), cy: y(m.price), r: 2, fill: "#bbb" }));
  const orders = s("g", { class: "orders" });
  for (const o of data.orders) {
    if (o.price === null) continue;  // a market order has no price to draw at; its fill shows it
    const c = colour(o.account_id, o.side), py = y(o.price), x1 = x(o.placed_at);
    const x2 = Math.max(x(o.ended_at ?? data.until), x1 + 1), tip = o.side === "buy" ? -6 : 6;
    const g = s("g", { class: "order", "data-order-id": o.order_id, tabindex: 0 },
      s("line", { x1, x2, y1: py, y2: py, stroke: c, "stroke-width": o.channel === "api" ? 3.5 : 1.8, "stroke-dasharray": o.final_status === "cancelled" ? "4 3" : null }),
      s("path", { d: `M ${x1 - 5} ${py - tip / 2} L ${x1 + 5} ${py - tip / 2} L ${x1} ${py + tip / 2} z`, fill: c }),
      s("title", {}, orderText(o)));
    g.addEventListener("mouseenter", () => { hover.textContent = orderText(o); });
    g.addEventListener("focus", () => { hover.textContent = orderText(o); });
    orders.append(g);
  }
  const fills = s("g", { class: "fills" });
  for (const f of data.fills) {
    const el = s("circle", { class: "fill", "data-trade-id": f.trade_id, cx: x(f.ts), cy: y(f.price), r: 4.5, fill: "#000", stroke: "#fff", tabindex: 0 }, s("title", {}, fillText(f)));
    el.addEventListener("mouseenter", () => { hover.textContent = fillText(f); });
    el.addEventListener("focus", () => { hover.textContent = fillText(f); });
    fills.append(el);
  }
  plot.append(market, orders, fills);
  const axis = { stroke: "#52606d", "pointer-events": "none" };
  svg.append(plot, s("line", { x1: LEFT, x2: LEFT, y1: TOP, y2: H - BOTTOM, ...axis }),
    s("line", { x1: LEFT, x2: W - RIGHT, y1: H - BOTTOM, y2: H - BOTTOM, ...axis }));
  if (kind === "group") {
    let lx = LEFT + 8;
    for (const a of data.accounts.slice(0, 10)) {
      svg.append(s("rect", { x: lx, y: TOP + 4, width: 10, height: 10, fill: colourOf[a] }), s("text", { x: lx + 14, y: TOP + 13, "font-size": 11 }, a));
      lx += 24 + 7 * a.length;
    }
  }
  where.replaceChildren(svg);
}

function orderText(o) {
  return `order ${o.order_id} · ${o.account_id} ${o.side} ${o.type} ${o.qty} @ ${o.price ?? "market"} · ${o.final_status}`
    + ` (filled ${o.filled_qty ?? 0}) · ${o.channel || "?"} · placed ${fmtTs(o.placed_at)}${o.ended_at ? `, ended ${fmtTs(o.ended_at)}` : ""}`;
}

function fillText(f) {
  return `fill ${f.trade_id} · ${f.seller_id} sold ${f.qty} @ ${f.price} to ${f.buyer_id} · ${fmtTs(f.ts)}`
    + ` · orders ${f.sell_order_id || "?"} / ${f.buy_order_id || "?"}`;
}
