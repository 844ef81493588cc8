// The investigator UI's shared helpers: element building, the API client, the signed-in user
// and the sandboxed cluster-graph frame. Every page module imports from here; nothing here
// imports a page. The DOM is built with elements, properties and text nodes (h() below), never
// from HTML text holding data, so an id or note cannot become markup whatever characters it
// has. The page's Content-Security-Policy forbids inline handlers and inline style attributes:
// styles are classes, or set through element.style.

export const view = document.getElementById("view");
export const KEY = "linkscope.key";
// The signed-in key's identity (GET /v1/me), and what to do when the API refuses the key:
// app.js sets both, so that this module needs no import of the router.
export const session = { me: null, signOut: (message) => {} };

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "style") Object.assign(el.style, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  add(el, children);
  return el;
}
export function add(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
export function fill(el, ...children) { el.replaceChildren(); return add(el, children); }
// "#/group/<id>": the id as one encoded segment, whatever it holds ("/", "?", "#", "%").
export function link(page, id, ...text) { return h("a", { href: `#/${page}/${encodeURIComponent(id)}` }, text.length ? text : String(id)); }
export function path(resource, id, ...rest) { return ["/v1", resource, encodeURIComponent(id), ...rest].join("/"); }
export function join(items, separator) { return items.flatMap((item, i) => (i ? [separator(), item] : [item])); }
// Times are shown in ISO 8601, in UTC, saying so: the data is UTC and investigators compare
// times across offices.
export function fmtTs(ms) { return ms || ms === 0 ? `${new Date(Number(ms)).toISOString().slice(0, 19)}Z` : ""; }
export function fmtBool(value) { return value === true ? "yes" : value === false ? "no" : String(value ?? ""); }
// A value as a person reads it: times (by the *_at / ts name) in ISO, booleans as words.
export function fmtValue(name, value) {
  if (typeof value === "boolean") return fmtBool(value);
  if (typeof value === "number" && (name.endsWith("_at") || name === "ts") && value > 0) return fmtTs(value);
  return String(value ?? "");
}
export function fmtNum(x) { return Number(x || 0).toLocaleString("en-US", { maximumFractionDigits: 2 }); }
export function fixed(x, digits) { return Number(x || 0).toFixed(digits); }
export function badge(verdict) { return h("span", { class: `badge ${verdict}` }, verdict); }
export function chips(items) { return (items || []).map((c) => h("span", { class: "chip" }, c)); }
export function can(...roles) { const me = session.me; return me && (me.role === "admin" || roles.includes(me.role)); }
export function row(...cells) { return h("tr", {}, cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : h("td", {}, c)))); }
export function table(head, rows, empty) {
  return h("table", {}, head ? h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))) : null,
    h("tbody", {}, rows.length ? rows : empty ? h("tr", {}, h("td", { colspan: (head || [1]).length, class: "muted" }, empty)) : null));
}
export function kv(pairs) { return h("div", { class: "kv" }, pairs.flatMap(([k, v]) => [h("span", {}, k), h("span", {}, v)])); }
export function card(...children) { return h("div", { class: "card" }, children); }
export function options(values, selected) { return values.map((v) => (Array.isArray(v) ? h("option", { value: v[0] }, v[1]) : h("option", { selected: v === selected }, v))); }
export function dot(kind, text) { return [h("b", { class: `dot ${kind}` }, text), " "]; }

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export async function api(url, options = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = { Authorization: `Bearer ${key}`, ...(options.body ? { "Content-Type": "application/json" } : {}) };
  const response = await fetch(url, { ...options, headers });
  // Sign-in checks a key itself: a refused key there is a message, not a sign-out.
  if (response.status === 401 && !options.signingIn) { session.signOut("Your key was not accepted; sign in again."); throw new ApiError(401, "unauthenticated", "signed out"); }
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    const body = type.includes("json") ? await response.json() : { error: { code: "http_error", message: await response.text() } };
    throw new ApiError(response.status, body.error?.code, body.error?.message || response.statusText);
  }
  return type.includes("json") ? response.json() : response.text();
}

export function showError(where, err) {
  const message = h("p", { class: "error", role: "alert" }, err.message, err.code ? ` (${err.code})` : "");
  fill(where, where.tagName === "TBODY" ? h("tr", {}, h("td", { colspan: 8 }, message)) : message);
}

// The frame's picture (a PNG data URL the frame sent) copied onto the page's print canvas.
function drawSnapshot(canvas, url) {
  if (typeof url !== "string" || !url.startsWith("data:image/png;base64,")) return;
  const image = new Image();
  image.onload = () => {
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    canvas.getContext("2d").drawImage(image, 0, 0);
    canvas.dataset.drawn = String(Date.now());
  };
  image.src = url;
}

// A cluster view: the pyvis-built page in a sandboxed frame; it talks back with postMessage.
export function mountGraph(container, html, handlers = {}) {
  const frame = h("iframe", { class: "graph", title: "cluster graph", sandbox: "allow-scripts" });
  // What prints: the picture as it was last drawn (a frame's canvas does not print reliably).
  // A canvas, not an img: the page holds no image element that data could have put there.
  const picture = h("canvas", { class: "graph-print", role: "img", "aria-label": "cluster graph as shown on screen" });
  frame.srcdoc = html;
  container.replaceChildren(frame, picture);
  const post = (message) => frame.contentWindow?.postMessage(message, "*");
  const listener = (event) => {
    if (event.source !== frame.contentWindow) return;
    const data = event.data || {};
    if (data.type === "linkscope:stabilized") { container.dataset.nodes = data.nodes; container.dataset.stabilizedMs = data.ms; }
    if (["linkscope:added", "linkscope:undone", "linkscope:filtered"].includes(data.type)) {
      container.dataset.nodes = data.nodes;
      container.dataset.expansions = data.expansions;
    }
    if (data.type === "linkscope:highlighted") container.dataset.highlighted = data.edges;
    if (data.type === "linkscope:snapshot") drawSnapshot(picture, data.url);
    else if (data.nodes !== undefined) post({ type: "linkscope:snapshot" });
    handlers[data.type]?.(data);
  };
  window.addEventListener("message", listener);
  const previous = window.__graphListener;
  if (previous) window.removeEventListener("message", previous);
  window.__graphListener = listener;
  return {
    add(nodes, edges, around) { post({ type: "linkscope:add", nodes, edges, around }); },
    post,
  };
}
