// linkscope investigator UI: a small hash-routed page over the /v1 API. No build step.
// The API key lives in sessionStorage only; every call sends it as a Bearer token.
// The DOM is built with elements, properties and text nodes (h() below), never from HTML text
// holding data, so an id or note cannot become markup whatever characters it has. The page's
// Content-Security-Policy forbids inline handlers and inline style attributes: styles are
// classes, or set through element.style.

const view = document.getElementById("view");
const KEY = "linkscope.key";
let me = null;

// ---------------------------------------------------------------- helpers
function h(tag, props = {}, ...children) {
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
function add(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
function fill(el, ...children) { el.replaceChildren(); return add(el, children); }
// "#/group/<id>": the id as one encoded segment, whatever it holds ("/", "?", "#", "%").
function link(page, id, ...text) { return h("a", { href: `#/${page}/${encodeURIComponent(id)}` }, text.length ? text : String(id)); }
function path(resource, id, ...rest) { return ["/v1", resource, encodeURIComponent(id), ...rest].join("/"); }
function join(items, separator) { return items.flatMap((item, i) => (i ? [separator(), item] : [item])); }
function fmtTs(ms) { return ms ? new Date(Number(ms)).toISOString().replace("T", " ").slice(0, 19) : ""; }
function fmtNum(x) { return Number(x || 0).toLocaleString("en-US", { maximumFractionDigits: 2 }); }
function fixed(x, digits) { return Number(x || 0).toFixed(digits); }
function badge(verdict) { return h("span", { class: `badge ${verdict}` }, verdict); }
function chips(items) { return (items || []).map((c) => h("span", { class: "chip" }, c)); }
function can(...roles) { return me && (me.role === "admin" || roles.includes(me.role)); }
function row(...cells) { return h("tr", {}, cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : h("td", {}, c)))); }
function table(head, rows, empty) {
  return h("table", {}, head ? h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))) : null,
    h("tbody", {}, rows.length ? rows : empty ? h("tr", {}, h("td", { colspan: (head || [1]).length, class: "muted" }, empty)) : null));
}
function kv(pairs) { return h("div", { class: "kv" }, pairs.flatMap(([k, v]) => [h("span", {}, k), h("span", {}, v)])); }
function card(...children) { return h("div", { class: "card" }, children); }
function options(values, selected) { return values.map((v) => (Array.isArray(v) ? h("option", { value: v[0] }, v[1]) : h("option", { selected: v === selected }, v))); }
function dot(kind, text) { return [h("b", { class: `dot ${kind}` }, text), " "]; }

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(url, options = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = { Authorization: `Bearer ${key}`, ...(options.body ? { "Content-Type": "application/json" } : {}) };
  const response = await fetch(url, { ...options, headers });
  if (response.status === 401) { signOut("Your key was not accepted; sign in again."); throw new ApiError(401, "unauthenticated", "signed out"); }
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    const body = type.includes("json") ? await response.json() : { error: { code: "http_error", message: await response.text() } };
    throw new ApiError(response.status, body.error?.code, body.error?.message || response.statusText);
  }
  return type.includes("json") ? response.json() : response.text();
}

function showError(where, err) {
  const message = h("p", { class: "error", role: "alert" }, err.message, err.code ? ` (${err.code})` : "");
  fill(where, where.tagName === "TBODY" ? h("tr", {}, h("td", { colspan: 8 }, message)) : message);
}

// A cluster view: the pyvis-built page in a sandboxed frame; it talks back with postMessage.
function mountGraph(container, html, handlers = {}) {
  const frame = h("iframe", { class: "graph", title: "cluster graph", sandbox: "allow-scripts" });
  frame.srcdoc = html;
  container.replaceChildren(frame);
  const listener = (event) => {
    if (event.source !== frame.contentWindow) return;
    const data = event.data || {};
    if (data.type === "linkscope:stabilized") { container.dataset.nodes = data.nodes; container.dataset.stabilizedMs = data.ms; }
    if (data.type === "linkscope:added") container.dataset.nodes = data.nodes;
    handlers[data.type]?.(data);
  };
  window.addEventListener("message", listener);
  const previous = window.__graphListener;
  if (previous) window.removeEventListener("message", previous);
  window.__graphListener = listener;
  return { add(nodes, edges) { frame.contentWindow.postMessage({ type: "linkscope:add", nodes, edges }, "*"); } };
}

// ---------------------------------------------------------------- sign-in
function signOut(message) {
  sessionStorage.removeItem(KEY);
  me = null;
  location.hash = "#/signin";
  render().then(() => { if (message) document.getElementById("signin-error").textContent = message; });
}

function renderSignin() {
  const key = h("input", { id: "key", name: "key", type: "password", autocomplete: "off", required: true, placeholder: "lsk_…" });
  const error = h("p", { id: "signin-error", class: "error", role: "alert" });
  const form = h("form", { id: "signin-form" }, h("label", { for: "key" }, "API key"), key,
    h("button", { type: "submit" }, "Sign in"), error);
  fill(view, h("section", { id: "signin", class: "card narrow" }, h("h1", {}, "Sign in"),
    h("p", {}, "Paste your API key. It is kept in this browser tab's session only."), form));
  key.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, key.value.trim());
    try {
      me = await api("/v1/me");
      if (location.hash === "#/queue") render(); else location.hash = "#/queue";
    } catch (err) {
      sessionStorage.removeItem(KEY);
      error.textContent = err.status === 401 ? "That key is not valid." : err.message;
    }
  });
}

// ---------------------------------------------------------------- queue
const queueState = { verdict: "", clause: "", decision: "" };
const CLAUSES = ["wash_trading", "coordinated_trading", "self_matching", "spoofing", "unauthorized_bot", "limit_breach"];

async function renderQueue() {
  const filter = (id, label, values, field) => {
    const select = h("select", { id }, options(values));
    select.value = queueState[field];
    select.addEventListener("change", () => { queueState[field] = select.value; loadQueue(); });
    return h("div", {}, h("label", { for: id }, label), select);
  };
  fill(view, h("h1", {}, "Group queue"),
    h("div", { class: "card filters", role: "search" },
      filter("f-verdict", "Verdict", [["", "any"], "violation", "suspected", "cleared"], "verdict"),
      filter("f-clause", "Clause", [["", "any"], ...CLAUSES], "clause"),
      filter("f-decision", "Decision", [["", "any"], ["none", "none yet"], "confirm", "dismiss", "escalate", "action_taken"], "decision"),
      h("div", { class: "muted", id: "queue-count" })),
    card(h("table", { id: "queue" }, h("thead", {}, h("tr", {}, ["Score", "Verdict", "Group", "Members", "Clauses",
      "Volume among members", "Recommended action", "Decision"].map((t) => h("th", {}, t)))), h("tbody"))));
  await loadQueue();
}

async function loadQueue() {
  const body = document.querySelector("#queue tbody");
  const params = new URLSearchParams({ limit: "500" });
  if (queueState.verdict) params.set("verdict", queueState.verdict);
  if (queueState.clause) params.set("clause", queueState.clause);
  try {
    const page = await api(`/v1/groups?${params}`);
    const items = page.items.filter((g) => !queueState.decision || (queueState.decision === "none" ? !g.decision : g.decision === queueState.decision));
    fill(body, items.length ? items.map((g) => {
      const tr = row(fixed(g.score, 2), badge(g.verdict), link("group", g.group_id),
        `${g.member_count}: ${g.members_preview.slice(0, 5).join(", ")}${g.member_count > 5 ? ", …" : ""}`,
        chips(g.clauses), fmtNum(g.quote_volume), g.recommended_action, g.decision || "");
      tr.dataset.group = g.group_id;
      return tr;
    }) : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No groups match.")));
    document.getElementById("queue-count").textContent = `${items.length} groups (run ${page.run_id || "none"})`;
  } catch (err) { showError(body, err); }
}

// ---------------------------------------------------------------- group page
function washCard(w) {
  return card(h("h2", {}, `Wash trading in ${w.symbol}`),
    kv([["Members", w.members.join(", ")],
      ["Fills / quote volume", `${w.trades} / ${fmtNum(w.quote)} (${fixed(w.symbol_share * 100, 3)}% of the symbol)`],
      ["Completed cycles", String(w.cycle_completions)],
      ["Net position ratio", Object.entries(w.net_position_ratio).map(([a, r]) => `${a}: ${r}`).join(", ")]]),
    h("h2", {}, "Cycles"), table(null, w.cycles.map((c) => row([...c, c[0]].join(" → ")))),
    h("h2", {}, "Trades in the cycles"), h("p", { class: "chips" }, chips(w.trade_ids)));
}

function syncCard(pairs) {
  return card(h("h2", {}, "Synchronized trading"), table(["Pair", "Episodes", "Expected by chance", "Examples"],
    pairs.map((p) => row(`${p.a} – ${p.b}`, String(p.episodes), fixed(p.expected, 3),
      join(p.examples.slice(0, 3).map((x) => `${x.symbol} ${x.side} ${fmtTs(x.ts_a)} / +${fixed((x.ts_b - x.ts_a) / 1000, 1)}s`), () => h("br"))))));
}

async function renderGroup(groupId) {
  fill(view, h("p", { class: "muted" }, `Loading ${groupId}…`));
  let group;
  try { group = await api(path("groups", groupId)); } catch (err) { showError(view, err); return; }
  const ev = group.evidence || {};
  const legend = h("p", { class: "legend" }, "Accounts: ", dot(group.verdict, "●"), `${group.verdict} member, `, dot("flagged", "●"),
    "flagged member (bigger: controller candidate) · ", h("b", {}, "▲"), " IP ", h("b", {}, "■"), " device ", h("b", {}, "◆"),
    " funding source (bigger: more specific) · arrows: seller → buyer, width by volume, ", dot("cycle", "red"), ": wash cycle · ",
    dot("sync", "orange dots"), ": synchronized trading · teal dashes: internal transfers. Click an account to open it.");
  const assessment = h("div", { class: "card", dataset: { testid: "assessment" } }, h("h2", {}, "Assessment"),
    kv([["Verdict", badge(group.verdict)], ["Score", fixed(group.score, 2)], ["Clauses", group.clauses.length ? chips(group.clauses) : "none"],
      ["Recommended action", h("b", {}, group.recommended_action)], ["Lineage", `${group.lineage} ${(group.parents || []).join(", ")}`], ["Run", group.run_id]]),
    h("ul", {}, group.reasons.map((r) => h("li", {}, r))),
    (ev.history || []).length ? [h("h2", {}, "Enforcement history"),
      h("ul", {}, ev.history.map((x) => h("li", {}, `${x.account}: ${x.action} ${x.clause} (${fmtTs(x.ts)}, ${x.via})`)))] : null);
  fill(view, h("h1", {}, `Group ${group.group_id} `, badge(group.verdict)),
    h("div", { class: "grid" },
      h("div", {},
        card(h("div", { id: "group-graph", dataset: { testid: "group-graph" } }), legend),
        card(h("h2", {}, "Timeline of trades among members and logins"), h("div", { id: "timeline" })),
        card(h("h2", {}, "Linkage evidence"), h("div", { class: "scroll" }, table(["Accounts", "Kind", "Identifier", "Weight", "Why it counts"],
          (ev.links || []).map((l) => row(`${l.a} – ${l.b}`, l.kind, l.identifier || "", fixed(l.weight, 2), l.why)), "Linked by trading only."))),
        (ev.wash || []).map(washCard),
        (ev.synchronized || []).length ? syncCard(ev.synchronized) : null),
      h("div", {},
        assessment,
        card(h("h2", {}, "Decision"), h("div", { id: "decision-form" }), h("h2", {}, "Decision history"),
          h("table", { id: "decisions", dataset: { testid: "decisions" } }, h("tbody"))),
        card(h("h2", {}, "Members"), table(["Account", "Role", "Type", "Flags"],
          group.members.map((m) => row(link("account", m.account_id), m.role, m.account_type, chips(m.flags))))),
        (ev.member_flags || []).length ? card(h("h2", {}, "Member flags"),
          h("ul", {}, ev.member_flags.map((f) => h("li", {}, `${f.account}: ${f.clause} (${fixed(f.score, 2)})`)))) : null)));
  renderDecisions(group);
  api(path("groups", groupId, "graph")).then((html) => {
    mountGraph(document.getElementById("group-graph"), html, {
      "linkscope:node": (data) => { if (data.kind === "Account") location.hash = `#/account/${encodeURIComponent(data.key)}`; },
    });
  }).catch((err) => showError(document.getElementById("group-graph"), err));
  api(`${path("groups", groupId, "timeline")}?limit=400`).then((events) => renderTimeline(document.getElementById("timeline"), events))
    .catch((err) => showError(document.getElementById("timeline"), err));
}

function renderTimeline(where, events) {
  if (!events.length) { fill(where, h("p", { class: "muted" }, "No trades among members or logins.")); return; }
  const first = events[0].ts, last = events[events.length - 1].ts, span = Math.max(last - first, 1);
  fill(where,
    h("div", { class: "timeline", "aria-hidden": "true" }, events.map((e) => h("span", {
      class: `tick ${e.kind}`, title: `${fmtTs(e.ts)} ${e.detail}`, style: { left: `${(((e.ts - first) / span) * 99).toFixed(2)}%` } }))),
    h("p", { class: "legend" }, `${fmtTs(first)} … ${fmtTs(last)} · `, dot("trade", "|"), "trade among members ", dot("login", "|"), "login"),
    h("div", { class: "scroll" }, table(null, events.map((e) => row(fmtTs(e.ts), e.kind, e.detail)))));
}

function renderDecisions(group) {
  const form = document.getElementById("decision-form");
  const kinds = me.role === "enforcement" ? ["action_taken"] : me.role === "investigator" ? ["confirm", "dismiss", "escalate"] : me.role === "admin" ? ["confirm", "dismiss", "escalate", "action_taken"] : [];
  if (!kinds.length) fill(form, h("p", { class: "muted" }, `Your role (${me.role}) reads decisions but does not record them.`));
  else {
    const kind = h("select", { id: "d-kind" }, options(kinds));
    const action = h("select", { id: "d-action" }, options([["", "—"], "request_report", "freeze_pending_review", "restrict_new_positions", "permanent_restriction"]));
    const note = h("textarea", { id: "d-note", rows: 3, maxlength: 4000 });
    const error = h("p", { id: "d-error", class: "error", role: "alert" });
    const decide = h("form", { id: "decide" }, h("label", { for: "d-kind" }, "Decision"), kind,
      h("label", { for: "d-action" }, "Action taken (enforcement)"), action, h("label", { for: "d-note" }, "Note"), note,
      h("p", {}, h("button", { type: "submit" }, "Record decision")), error);
    fill(form, decide);
    decide.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(path("groups", group.group_id, "decisions"), { method: "POST",
          body: JSON.stringify({ decision: kind.value, action: action.value || null, note: note.value }) });
        note.value = "";
        error.textContent = "";
        await loadDecisions(group.group_id);
      } catch (err) { error.textContent = err.message; }
    });
  }
  fillDecisions(group.decisions);
}

async function loadDecisions(groupId) { fillDecisions(await api(path("groups", groupId, "decisions"))); }

function fillDecisions(decisions) {
  fill(document.querySelector("#decisions tbody"), decisions.length ? decisions.map((d) => row(fmtTs(d.at),
    [h("b", {}, d.decision), d.action ? ` (${d.action})` : ""], `${d.by_role} ${d.by_key}`, d.note,
    h("td", { class: "muted" }, `on ${d.verdict}, run ${d.run_id}`))) : h("tr", {}, h("td", { class: "muted" }, "No decisions yet.")));
}

// ---------------------------------------------------------------- account page
async function renderAccount(accountId) {
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

// ---------------------------------------------------------------- Cypher console
const EXAMPLE = "MATCH (a:Account)-[m:MEMBER_OF]->(g:Group {current: true, verdict: 'violation'}) RETURN a, m, g LIMIT 25";

function renderCypher() {
  if (!can("analyst")) { fill(view, h("p", { class: "error" }, "The Cypher console is for analysts.")); return; }
  const query = h("textarea", { id: "cypher-query", rows: 6, spellcheck: "false" });
  query.value = EXAMPLE;
  const params = h("textarea", { id: "cypher-params", rows: 2, spellcheck: "false" });
  params.value = "{}";
  const status = h("span", { id: "cypher-status", class: "muted", "aria-live": "polite" });
  const form = h("form", { id: "cypher-form" }, h("label", { for: "cypher-query" }, "Query (read-only; Ctrl+Enter runs it)"), query,
    h("label", { for: "cypher-params" }, "Parameters (JSON)"), params, h("p", {}, h("button", { type: "submit" }, "Run"), " ", status));
  const head = h("thead"), body = h("tbody");
  fill(view, h("h1", {}, "Cypher console"), card(form), card(h("div", { id: "cypher-graph" })),
    h("div", { class: "card scroll" }, h("table", { id: "cypher-result", dataset: { testid: "cypher-result" } }, head, body)));
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let values;
    try { values = JSON.parse(params.value || "{}"); } catch (err) { status.textContent = `parameters are not JSON: ${err.message}`; return; }
    status.textContent = "running…";
    try {
      const result = await api("/v1/cypher", { method: "POST", body: JSON.stringify({ query: query.value, params: values }) });
      status.textContent = `${result.rows.length} row(s) in ${result.elapsed_ms} ms${result.truncated ? " (truncated)" : ""}`;
      fill(head, h("tr", {}, result.columns.map((c) => h("th", {}, c))));
      fill(body, result.rows.map((r) => row(...r.map((v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v ?? ""))))));
      await showResultGraph(result);
    } catch (err) {
      status.textContent = "";
      showError(body, err);
    }
  });
}

const LABEL_GROUP = { IP: "ip", Device: "device", FundingSource: "funding", Group: "group", Account: "account" };
async function showResultGraph(result) {
  const nodes = new Map(), edges = [];
  const visit = (v) => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!v || typeof v !== "object") return;
    if (v._kind === "node") {
      const label = (v._labels || [])[0] || "node";
      const props = v.properties || {};
      const key = props.account_id ?? props.ip ?? props.device_id ?? props.key ?? props.group_id ?? props.trade_id ?? v._id;
      nodes.set(v._id, { id: v._id, label: String(key).slice(0, 22), group: LABEL_GROUP[label] || "other", kind: label, key: String(key), title: `${label} ${key}` });
    } else if (v._kind === "relationship") {
      edges.push({ id: `rel:${v._id}`, from: v._start, to: v._end, arrows: "to", title: v._type });
    } else if (v._kind === "path") { visit(v.nodes); visit(v.relationships); }
  };
  result.rows.forEach(visit);
  const holder = document.getElementById("cypher-graph");
  if (!nodes.size) { fill(holder, h("p", { class: "muted" }, "No nodes in this result to draw.")); return; }
  const known = new Set(nodes.keys());
  const html = await api("/v1/graph/blank");
  const graph = mountGraph(holder, html, {
    "linkscope:ready": () => graph.add([...nodes.values()], edges.filter((e) => known.has(e.from) && known.has(e.to))),
    "linkscope:node": (data) => { if (data.kind === "Account") location.hash = `#/account/${encodeURIComponent(data.key)}`; },
  });
}

// ---------------------------------------------------------------- routing
function decoded(text) {
  try { return decodeURIComponent(text); } catch { return text; }  // a hand-typed "%" is text
}

async function render() {
  const hash = location.hash || "#/queue";
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  document.getElementById("signout").hidden = !signedIn;
  if (!signedIn || hash === "#/signin") { document.getElementById("who").textContent = ""; renderSignin(); return; }
  if (!me) {
    try { me = await api("/v1/me"); } catch (err) { return; }
  }
  document.getElementById("who").textContent = `${me.name || me.key_id} · ${me.role}`;
  document.querySelectorAll("[data-role]").forEach((el) => { el.hidden = !can(...el.dataset.role.split(" ")); });
  // The id is everything after "#/page/": encoded, so its own "/" or "#" cannot split it.
  const [, page, arg] = hash.match(/^#\/([^/]+)\/?(.*)$/s) || [null, "queue", ""];
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === page));
  const id = decoded(arg || "");
  if (page === "group") await renderGroup(id);
  else if (page === "account") await renderAccount(id);
  else if (page === "cypher") renderCypher();
  else await renderQueue();
  view.focus({ preventScroll: true });
}

document.getElementById("signout").addEventListener("click", () => signOut(""));
window.addEventListener("hashchange", render);
render();
