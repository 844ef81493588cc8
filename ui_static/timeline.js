// The group timeline: events in lanes by kind over a time axis (UTC) that zooms (wheel, + and -)
// and pans (arrows, keyboard); filters by account and kind; dragging across it selects a span,
// whose links (trades, transfers, synchronized episodes) the cluster view highlights.
import { fill, fmtTs, h, link } from "./core.js";

export const KINDS = [["trade", "trades among members"], ["transfer", "internal transfers"], ["sync", "synchronized trading"], ["login", "logins"]];
const STEPS = [1e3, 5e3, 15e3, 6e4, 3e5, 9e5, 36e5, 3 * 36e5, 6 * 36e5, 12 * 36e5, 864e5, 2 * 864e5, 7 * 864e5, 30 * 864e5, 91 * 864e5, 365 * 864e5];

// Axis ticks: round times at a step giving about `target` labels inside [t0, t1].
export function ticks(t0, t1, target = 6) {
  const step = STEPS.find((s) => (t1 - t0) / s <= target) || STEPS[STEPS.length - 1];
  const out = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return { step, ticks: out };
}
// A label as precise as the step needs: dates for days, minutes for hours, seconds below.
export function tickLabel(t, step) {
  const iso = new Date(t).toISOString();
  return step >= 864e5 ? iso.slice(0, 10) : step >= 6e4 ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
}

// `loadOrders` (when the user may read orders) fetches the members' orders as events: they are
// many, so they load when their kind is first switched on.
export function renderTimeline(where, events, { members = [], onSpan = () => {}, loadOrders = null } = {}) {
  if (!events.length) { fill(where, h("p", { class: "muted" }, "No trades, transfers or logins among members.")); return; }
  const first = events[0].ts, last = events[events.length - 1].ts;
  const pad = Math.max((last - first) * 0.01, 1000);
  const whole = [first - pad, last + pad];
  let [v0, v1] = whole;
  let span = null;  // [t0, t1] selected, or null
  const hidden = new Set();
  const account = h("select", { id: "tl-account" }, h("option", { value: "" }, "all members"), members.map((m) => h("option", { value: m }, m)));
  const kinds = loadOrders ? [...KINDS, ["order", "members' orders"]] : KINDS;
  let ordersLoaded = false;
  hidden.add("order");
  const kindBoxes = kinds.map(([kind, label]) => {
    const box = h("input", { type: "checkbox", id: `tl-kind-${kind}`, checked: kind !== "order", dataset: { kind } });
    box.addEventListener("change", async () => {
      if (box.checked && kind === "order" && !ordersLoaded) {
        ordersLoaded = true;
        fill(status, "loading the members' orders…");
        try {
          events.push(...await loadOrders());
          events.sort((a, b) => a.ts - b.ts);
        } catch (err) { ordersLoaded = false; box.checked = false; fill(status, `orders: ${err.message}`); return; }
        where.dataset.orders = String(events.filter((e) => e.kind === "order").length);
      }
      if (box.checked) hidden.delete(kind); else hidden.add(kind);
      draw();
    });
    return h("label", { class: "inline", for: `tl-kind-${kind}` }, box, " ", h("b", { class: `dot ${kind}` }, "|"), ` ${label}`);
  });
  account.addEventListener("change", () => draw());
  const strip = h("div", { class: "timeline", id: "tl-strip", tabindex: 0, role: "img", "aria-label": "events over time; drag to select a span" });
  const axis = h("div", { class: "axis", id: "tl-axis" });
  const status = h("p", { class: "legend", id: "tl-status", "aria-live": "polite" });
  const body = h("tbody");
  const button = (label, title, action) => h("button", { type: "button", class: "secondary small", title, "aria-label": title, onclick: action }, label);
  const zoom = (factor, at = (v0 + v1) / 2) => {
    const width = Math.max((v1 - v0) * factor, 1000);
    const share = (at - v0) / (v1 - v0);
    v0 = at - width * share; v1 = v0 + width;
    draw();
  };
  const pan = (share) => { const d = (v1 - v0) * share; v0 += d; v1 += d; draw(); };
  const controls = h("div", { class: "tl-controls" },
    button("−", "zoom out", () => zoom(2)), button("+", "zoom in", () => zoom(0.5)),
    button("←", "earlier", () => pan(-0.25)), button("→", "later", () => pan(0.25)),
    button("whole period", "show the whole period", () => { [v0, v1] = whole; draw(); }),
    button("zoom to span", "zoom to the selected span", () => { if (span) { [v0, v1] = span; draw(); } }),
    button("clear span", "clear the selected span", () => { span = null; onSpan(null); draw(); }),
    h("div", {}, h("label", { for: "tl-account" }, "Account"), account), h("div", { class: "kinds" }, kindBoxes));
  const visible = () => events.filter((e) => !hidden.has(e.kind) && (!account.value || e.account === account.value || e.counterparty === account.value));
  const at = (clientX) => { const r = strip.getBoundingClientRect(); return v0 + ((clientX - r.left) / r.width) * (v1 - v0); };
  const pct = (t) => ((t - v0) / (v1 - v0)) * 100;
  const lane = { trade: 6, transfer: 22, sync: 38, login: 54, order: 70 };

  function draw() {
    const shown = visible();
    const inView = shown.filter((e) => e.ts >= v0 && e.ts <= v1);
    fill(strip, inView.map((e) => h("span", { class: `tick ${e.kind}`, title: `${fmtTs(e.ts)} ${e.detail}`,
      style: { left: `${pct(e.ts).toFixed(3)}%`, top: `${lane[e.kind] ?? 6}px` } })),
    span ? h("div", { class: "span", style: { left: `${Math.max(pct(span[0]), 0)}%`, width: `${Math.max(Math.min(pct(span[1]), 100) - Math.max(pct(span[0]), 0), 0.3)}%` } }) : null);
    const { step, ticks: marks } = ticks(v0, v1);
    // Marks keep clear of the end labels (a full time each, about 150 px, and half a mark).
    const clear = (200 / Math.max(strip.clientWidth || 800, 200)) * 100;
    const labels = marks.filter((t) => pct(t) > clear && pct(t) < 100 - clear).map((t) => h("span", { class: "mark", dataset: { ts: t }, style: { left: `${pct(t)}%` } }, tickLabel(t, step)));
    // The ends carry full times: what the axis spans, read without counting ticks.
    fill(axis, h("span", { class: "end start", dataset: { ts: Math.round(v0) } }, fmtTs(v0)), labels,
      h("span", { class: "end stop", dataset: { ts: Math.round(v1) } }, fmtTs(v1)), h("span", { class: "tz" }, "UTC"));
    const chosen = span ? shown.filter((e) => e.ts >= span[0] && e.ts <= span[1]) : inView;
    fill(status, `${inView.length} of ${shown.length} events in view`, span ? ` · ${chosen.length} in the selected span ${fmtTs(span[0])} – ${fmtTs(span[1])}` : " · drag across the timeline to select a span");
    fill(body, chosen.slice(0, 400).map((e) => h("tr", { dataset: { kind: e.kind } }, h("td", { class: "nowrap" }, fmtTs(e.ts)), h("td", {}, e.kind),
      h("td", {}, e.detail, e.kind === "trade" && e.ref ? [" ", link("trade", e.ref, "open trade")] : ""))));
  }
  // Drag selects a span; a click without a drag clears it.
  let dragFrom = null;
  strip.addEventListener("pointerdown", (event) => { dragFrom = at(event.clientX); strip.setPointerCapture(event.pointerId); });
  strip.addEventListener("pointermove", (event) => {
    if (dragFrom === null) return;
    const now = at(event.clientX);
    span = [Math.min(dragFrom, now), Math.max(dragFrom, now)];
    draw();
  });
  strip.addEventListener("pointerup", (event) => {
    if (dragFrom === null) return;
    const now = at(event.clientX);
    const moved = Math.abs(pct(now) - pct(dragFrom)) > 0.5;
    span = moved ? [Math.min(dragFrom, now), Math.max(dragFrom, now)] : null;
    dragFrom = null;
    draw();
    onSpan(span ? pairsIn(visible(), span) : null, span);
  });
  strip.addEventListener("wheel", (event) => { event.preventDefault(); zoom(event.deltaY > 0 ? 1.25 : 0.8, at(event.clientX)); }, { passive: false });
  strip.addEventListener("keydown", (event) => {
    const keys = { ArrowLeft: () => pan(-0.1), ArrowRight: () => pan(0.1), "+": () => zoom(0.5), "-": () => zoom(2) };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
  fill(where, controls, strip, axis, status, h("div", { class: "scroll" }, h("table", { id: "tl-events" }, body)));
  draw();
  return { select(t0, t1) { span = [t0, t1]; draw(); onSpan(pairsIn(visible(), span), span); } };
}

// The pairs of accounts linked by trades, transfers or synchronized episodes in the span.
export function pairsIn(events, [t0, t1]) {
  const pairs = new Map();
  for (const e of events) {
    if (e.ts < t0 || e.ts > t1 || !e.counterparty || e.kind === "login") continue;
    const pair = [e.account, e.counterparty].sort();
    pairs.set(pair.join("\u0000"), pair);
  }
  return [...pairs.values()];
}
