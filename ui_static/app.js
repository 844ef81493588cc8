// linkscope investigator UI: a small hash-routed page over the /v1 API. No build step.
// The API key lives in sessionStorage only; every call sends it as a Bearer token.

const view = document.getElementById("view");
const KEY = "linkscope.key";
let me = null;

// ---------------------------------------------------------------- helpers
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function fmtTs(ms) { return ms ? new Date(Number(ms)).toISOString().replace("T", " ").slice(0, 19) : ""; }
function fmtNum(x) { return Number(x || 0).toLocaleString("en-US", { maximumFractionDigits: 2 }); }
function badge(verdict) { return `<span class="badge ${esc(verdict)}">${esc(verdict)}</span>`; }
function chips(items) { return (items || []).map((c) => `<span class="chip">${esc(c)}</span>`).join(""); }
function can(...roles) { return me && (me.role === "admin" || roles.includes(me.role)); }

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, options = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = { Authorization: `Bearer ${key}`, ...(options.body ? { "Content-Type": "application/json" } : {}) };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { signOut("Your key was not accepted; sign in again."); throw new ApiError(401, "unauthenticated", "signed out"); }
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    const body = type.includes("json") ? await response.json() : { error: { code: "http_error", message: await response.text() } };
    throw new ApiError(response.status, body.error?.code, body.error?.message || response.statusText);
  }
  return type.includes("json") ? response.json() : response.text();
}

function showError(where, err) {
  where.innerHTML = `<p class="error" role="alert">${esc(err.message)}${err.code ? ` (${esc(err.code)})` : ""}</p>`;
}

// A cluster view: the pyvis-built page in a sandboxed frame; it talks back with postMessage.
function mountGraph(container, html, handlers = {}) {
  const frame = document.createElement("iframe");
  frame.className = "graph";
  frame.title = "cluster graph";
  frame.setAttribute("sandbox", "allow-scripts");
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
  view.innerHTML = `<section id="signin" class="card narrow"><h1>Sign in</h1>
    <p>Paste your API key. It is kept in this browser tab's session only.</p>
    <form id="signin-form"><label for="key">API key</label>
    <input id="key" name="key" type="password" autocomplete="off" required placeholder="lsk_…">
    <button type="submit">Sign in</button><p id="signin-error" class="error" role="alert"></p></form></section>`;
  const form = document.getElementById("signin-form");
  document.getElementById("key").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
    try {
      me = await api("/v1/me");
      if (location.hash === "#/queue") render(); else location.hash = "#/queue";
    } catch (err) {
      sessionStorage.removeItem(KEY);
      document.getElementById("signin-error").textContent = err.status === 401 ? "That key is not valid." : err.message;
    }
  });
}

// ---------------------------------------------------------------- queue
const queueState = { verdict: "", clause: "", decision: "" };

async function renderQueue() {
  view.innerHTML = `<h1>Group queue</h1>
    <div class="card filters" role="search">
      <div><label for="f-verdict">Verdict</label><select id="f-verdict"><option value="">any</option>
        <option>violation</option><option>suspected</option><option>cleared</option></select></div>
      <div><label for="f-clause">Clause</label><select id="f-clause"><option value="">any</option>
        ${["wash_trading", "coordinated_trading", "self_matching", "spoofing", "unauthorized_bot", "limit_breach"].map((c) => `<option>${c}</option>`).join("")}</select></div>
      <div><label for="f-decision">Decision</label><select id="f-decision"><option value="">any</option>
        <option value="none">none yet</option><option>confirm</option><option>dismiss</option><option>escalate</option><option>action_taken</option></select></div>
      <div class="muted" id="queue-count"></div>
    </div>
    <div class="card"><table id="queue"><thead><tr><th>Score</th><th>Verdict</th><th>Group</th><th>Members</th>
      <th>Clauses</th><th>Volume among members</th><th>Recommended action</th><th>Decision</th></tr></thead><tbody></tbody></table></div>`;
  for (const [id, field] of [["f-verdict", "verdict"], ["f-clause", "clause"], ["f-decision", "decision"]]) {
    const select = document.getElementById(id);
    select.value = queueState[field];
    select.addEventListener("change", () => { queueState[field] = select.value; loadQueue(); });
  }
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
    body.innerHTML = items.map((g) => `<tr data-group="${esc(g.group_id)}">
      <td>${g.score.toFixed(2)}</td><td>${badge(g.verdict)}</td>
      <td><a href="#/group/${encodeURIComponent(g.group_id)}">${esc(g.group_id)}</a></td>
      <td>${g.member_count}: ${esc(g.members_preview.slice(0, 5).join(", "))}${g.member_count > 5 ? ", …" : ""}</td>
      <td>${chips(g.clauses)}</td><td>${fmtNum(g.quote_volume)}</td><td>${esc(g.recommended_action)}</td>
      <td>${esc(g.decision || "")}</td></tr>`).join("") || `<tr><td colspan="8" class="muted">No groups match.</td></tr>`;
    document.getElementById("queue-count").textContent = `${items.length} groups (run ${page.run_id || "none"})`;
  } catch (err) { showError(body, err); }
}

// ---------------------------------------------------------------- group page
async function renderGroup(groupId) {
  view.innerHTML = `<p class="muted">Loading ${esc(groupId)}…</p>`;
  let group;
  try { group = await api(`/v1/groups/${encodeURIComponent(groupId)}`); } catch (err) { showError(view, err); return; }
  const ev = group.evidence || {};
  view.innerHTML = `<h1>Group ${esc(group.group_id)} ${badge(group.verdict)}</h1>
  <div class="grid">
    <div>
      <div class="card"><div id="group-graph" data-testid="group-graph"></div>
        <p class="legend">Accounts: <b style="color:#d64545">●</b> ${esc(group.verdict)} member, <b style="color:#b05fd1">●</b> flagged member (bigger: controller candidate) ·
        <b>▲</b> IP <b>■</b> device <b>◆</b> funding source (bigger: more specific) · arrows: seller → buyer, width by volume, <b style="color:#d0021b">red</b>: wash cycle · <b style="color:#e8a33d">orange dots</b>: synchronized trading · teal dashes: internal transfers. Click an account to open it.</p></div>
      <div class="card"><h2>Timeline of trades among members and logins</h2><div id="timeline"></div></div>
      <div class="card"><h2>Linkage evidence</h2><div class="scroll"><table><thead><tr><th>Accounts</th><th>Kind</th><th>Identifier</th><th>Weight</th><th>Why it counts</th></tr></thead><tbody>
        ${(ev.links || []).map((l) => `<tr><td>${esc(l.a)} – ${esc(l.b)}</td><td>${esc(l.kind)}</td><td>${esc(l.identifier || "")}</td><td>${l.weight.toFixed(2)}</td><td>${esc(l.why)}</td></tr>`).join("") || `<tr><td colspan="5" class="muted">Linked by trading only.</td></tr>`}
      </tbody></table></div></div>
      ${(ev.wash || []).map((w) => `<div class="card"><h2>Wash trading in ${esc(w.symbol)}</h2>
        <div class="kv"><span>Members</span><span>${esc(w.members.join(", "))}</span>
        <span>Fills / quote volume</span><span>${w.trades} / ${fmtNum(w.quote)} (${(w.symbol_share * 100).toFixed(3)}% of the symbol)</span>
        <span>Completed cycles</span><span>${w.cycle_completions}</span>
        <span>Net position ratio</span><span>${esc(Object.entries(w.net_position_ratio).map(([a, r]) => `${a}: ${r}`).join(", "))}</span></div>
        <h2>Cycles</h2><table><tbody>${w.cycles.map((c) => `<tr><td>${esc([...c, c[0]].join(" → "))}</td></tr>`).join("")}</tbody></table>
        <h2>Trades in the cycles</h2><p class="chips">${chips(w.trade_ids)}</p></div>`).join("")}
      ${(ev.synchronized || []).length ? `<div class="card"><h2>Synchronized trading</h2><table><thead><tr><th>Pair</th><th>Episodes</th><th>Expected by chance</th><th>Examples</th></tr></thead><tbody>
        ${ev.synchronized.map((p) => `<tr><td>${esc(p.a)} – ${esc(p.b)}</td><td>${p.episodes}</td><td>${p.expected.toFixed(3)}</td>
        <td>${p.examples.slice(0, 3).map((x) => `${esc(x.symbol)} ${esc(x.side)} ${fmtTs(x.ts_a)} / +${((x.ts_b - x.ts_a) / 1000).toFixed(1)}s`).join("<br>")}</td></tr>`).join("")}</tbody></table></div>` : ""}
    </div>
    <div>
      <div class="card" data-testid="assessment"><h2>Assessment</h2><div class="kv">
        <span>Verdict</span><span>${badge(group.verdict)}</span><span>Score</span><span>${group.score.toFixed(2)}</span>
        <span>Clauses</span><span>${chips(group.clauses) || "none"}</span><span>Recommended action</span><span><b>${esc(group.recommended_action)}</b></span>
        <span>Lineage</span><span>${esc(group.lineage)} ${esc((group.parents || []).join(", "))}</span><span>Run</span><span>${esc(group.run_id)}</span></div>
        <ul>${group.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>
        ${(ev.history || []).length ? `<h2>Enforcement history</h2><ul>${ev.history.map((h) => `<li>${esc(h.account)}: ${esc(h.action)} ${esc(h.clause)} (${fmtTs(h.ts)}, ${esc(h.via)})</li>`).join("")}</ul>` : ""}</div>
      <div class="card"><h2>Decision</h2><div id="decision-form"></div>
        <h2>Decision history</h2><table id="decisions" data-testid="decisions"><tbody></tbody></table></div>
      <div class="card"><h2>Members</h2><table><thead><tr><th>Account</th><th>Role</th><th>Type</th><th>Flags</th></tr></thead><tbody>
        ${group.members.map((m) => `<tr><td><a href="#/account/${encodeURIComponent(m.account_id)}">${esc(m.account_id)}</a></td><td>${esc(m.role)}</td><td>${esc(m.account_type)}</td><td>${chips(m.flags)}</td></tr>`).join("")}
      </tbody></table></div>
      ${(ev.member_flags || []).length ? `<div class="card"><h2>Member flags</h2><ul>${ev.member_flags.map((f) => `<li>${esc(f.account)}: ${esc(f.clause)} (${f.score.toFixed(2)})</li>`).join("")}</ul></div>` : ""}
    </div>
  </div>`;
  renderDecisions(group);
  api(`/v1/groups/${encodeURIComponent(groupId)}/graph`).then((html) => {
    mountGraph(document.getElementById("group-graph"), html, {
      "linkscope:node": (data) => { if (data.kind === "Account") location.hash = `#/account/${encodeURIComponent(data.key)}`; },
    });
  }).catch((err) => showError(document.getElementById("group-graph"), err));
  api(`/v1/groups/${encodeURIComponent(groupId)}/timeline?limit=400`).then((events) => renderTimeline(document.getElementById("timeline"), events))
    .catch((err) => showError(document.getElementById("timeline"), err));
}

function renderTimeline(where, events) {
  if (!events.length) { where.innerHTML = `<p class="muted">No trades among members or logins.</p>`; return; }
  const first = events[0].ts, last = events[events.length - 1].ts, span = Math.max(last - first, 1);
  const color = { trade: "#d64545", login: "#6b8fd6", transfer: "#5fb3b3" };
  where.innerHTML = `<div class="timeline" aria-hidden="true">${events.map((e) => `<span title="${esc(fmtTs(e.ts) + " " + e.detail)}" style="left:${(((e.ts - first) / span) * 99).toFixed(2)}%;background:${color[e.kind]}"></span>`).join("")}</div>
    <p class="legend">${fmtTs(first)} … ${fmtTs(last)} · <b style="color:#d64545">|</b> trade among members <b style="color:#6b8fd6">|</b> login</p>
    <div class="scroll"><table><tbody>${events.map((e) => `<tr><td>${fmtTs(e.ts)}</td><td>${esc(e.kind)}</td><td>${esc(e.detail)}</td></tr>`).join("")}</tbody></table></div>`;
}

function renderDecisions(group) {
  const form = document.getElementById("decision-form");
  const kinds = me.role === "enforcement" ? ["action_taken"] : me.role === "investigator" ? ["confirm", "dismiss", "escalate"] : me.role === "admin" ? ["confirm", "dismiss", "escalate", "action_taken"] : [];
  if (!kinds.length) form.innerHTML = `<p class="muted">Your role (${esc(me.role)}) reads decisions but does not record them.</p>`;
  else {
    form.innerHTML = `<form id="decide"><label for="d-kind">Decision</label><select id="d-kind">${kinds.map((k) => `<option>${k}</option>`).join("")}</select>
      <label for="d-action">Action taken (enforcement)</label><select id="d-action"><option value="">—</option>
      ${["request_report", "freeze_pending_review", "restrict_new_positions", "permanent_restriction"].map((a) => `<option>${a}</option>`).join("")}</select>
      <label for="d-note">Note</label><textarea id="d-note" rows="3" maxlength="4000"></textarea>
      <p><button type="submit">Record decision</button></p><p id="d-error" class="error" role="alert"></p></form>`;
    document.getElementById("decide").addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = document.getElementById("d-action").value || null;
      try {
        await api(`/v1/groups/${encodeURIComponent(group.group_id)}/decisions`, { method: "POST",
          body: JSON.stringify({ decision: document.getElementById("d-kind").value, action, note: document.getElementById("d-note").value }) });
        document.getElementById("d-note").value = "";
        document.getElementById("d-error").textContent = "";
        await loadDecisions(group.group_id);
      } catch (err) { document.getElementById("d-error").textContent = err.message; }
    });
  }
  fillDecisions(group.decisions);
}

async function loadDecisions(groupId) { fillDecisions(await api(`/v1/groups/${encodeURIComponent(groupId)}/decisions`)); }

function fillDecisions(decisions) {
  document.querySelector("#decisions tbody").innerHTML = decisions.map((d) => `<tr><td>${fmtTs(d.at)}</td><td><b>${esc(d.decision)}</b>${d.action ? ` (${esc(d.action)})` : ""}</td>
    <td>${esc(d.by_role)} ${esc(d.by_key)}</td><td>${esc(d.note)}</td><td class="muted">on ${esc(d.verdict)}, run ${esc(d.run_id)}</td></tr>`).join("")
    || `<tr><td class="muted">No decisions yet.</td></tr>`;
}

// ---------------------------------------------------------------- account page
async function renderAccount(accountId) {
  view.innerHTML = `<p class="muted">Loading ${esc(accountId)}…</p>`;
  if (!can("investigator", "analyst")) {
    try {
      const group = await api(`/v1/accounts/${encodeURIComponent(accountId)}/group`);
      view.innerHTML = `<h1>Account ${esc(accountId)}</h1><p>In group <a href="#/group/${encodeURIComponent(group.group_id)}">${esc(group.group_id)}</a> ${badge(group.verdict)}.</p>`;
    } catch (err) { showError(view, err); }
    return;
  }
  let profile;
  try { profile = await api(`/v1/accounts/${encodeURIComponent(accountId)}`); } catch (err) { showError(view, err); return; }
  view.innerHTML = `<h1>Account ${esc(accountId)}</h1><div class="grid"><div>
      <div class="card"><div class="filters"><div><label for="ego-depth">Depth</label><select id="ego-depth"><option>1</option><option>2</option><option>3</option></select></div>
        <div><label for="ego-limit">Node cap</label><select id="ego-limit"><option>50</option><option selected>150</option><option>500</option><option>1000</option></select></div>
        <div class="muted">Click an account to expand its neighbours.</div></div>
      <div id="ego-graph" data-testid="ego-graph"></div><p id="ego-selected" class="legend"></p></div></div>
    <div><div class="card"><h2>Profile</h2><div class="kv">${Object.entries(profile.properties).map(([k, v]) => `<span>${esc(k)}</span><span>${esc(k.endsWith("_at") ? fmtTs(v) : v)}</span>`).join("")}
      <span>Group</span><span>${profile.group_id ? `<a href="#/group/${encodeURIComponent(profile.group_id)}">${esc(profile.group_id)}</a>` : "none"}</span></div></div>
      <div class="card"><h2>Identifiers</h2><table><thead><tr><th>Kind</th><th>Value</th><th>Uses</th><th>Shared by</th><th>Specificity</th></tr></thead><tbody>
      ${profile.identifiers.map((i) => `<tr><td>${esc(i.kind)}</td><td>${esc(i.value)}</td><td>${i.uses}</td><td>${i.shared_by}</td><td>${i.specificity.toFixed(2)}</td></tr>`).join("")}</tbody></table></div>
      <div class="card"><h2>Flags</h2>${profile.flags.map((f) => `<details><summary>${esc(f.clause)} (${f.score.toFixed(2)})</summary><pre>${esc(JSON.stringify(f.evidence, null, 2))}</pre></details>`).join("") || `<p class="muted">None.</p>`}</div>
    </div></div>`;
  const load = () => {
    const depth = document.getElementById("ego-depth").value, limit = document.getElementById("ego-limit").value;
    api(`/v1/accounts/${encodeURIComponent(accountId)}/graph?depth=${depth}&limit=${limit}`).then((html) => {
      const graph = mountGraph(document.getElementById("ego-graph"), html, {
        "linkscope:node": async (data) => {
          if (data.kind !== "Account") return;
          document.getElementById("ego-selected").innerHTML = `Selected <a href="#/account/${encodeURIComponent(data.key)}">${esc(data.key)}</a> (open) · expanding…`;
          try {
            const items = await api(`/v1/accounts/${encodeURIComponent(data.key)}/neighborhood/view?limit=${limit}`);
            graph.add(items.nodes, items.edges);
            document.getElementById("ego-selected").innerHTML = `Selected <a href="#/account/${encodeURIComponent(data.key)}">${esc(data.key)}</a> (open) · expanded ${items.nodes.length} neighbours`;
          } catch (err) { showError(document.getElementById("ego-selected"), err); }
        },
      });
    }).catch((err) => showError(document.getElementById("ego-graph"), err));
  };
  document.getElementById("ego-depth").addEventListener("change", load);
  document.getElementById("ego-limit").addEventListener("change", load);
  load();
}

// ---------------------------------------------------------------- Cypher console
function renderCypher() {
  if (!can("analyst")) { view.innerHTML = `<p class="error">The Cypher console is for analysts.</p>`; return; }
  view.innerHTML = `<h1>Cypher console</h1><div class="card"><form id="cypher-form">
    <label for="cypher-query">Query (read-only; Ctrl+Enter runs it)</label>
    <textarea id="cypher-query" rows="6" spellcheck="false">MATCH (a:Account)-[m:MEMBER_OF]->(g:Group {current: true, verdict: 'violation'}) RETURN a, m, g LIMIT 25</textarea>
    <label for="cypher-params">Parameters (JSON)</label><textarea id="cypher-params" rows="2" spellcheck="false">{}</textarea>
    <p><button type="submit">Run</button> <span id="cypher-status" class="muted" aria-live="polite"></span></p></form></div>
    <div class="card"><div id="cypher-graph"></div></div>
    <div class="card scroll"><table id="cypher-result" data-testid="cypher-result"><thead></thead><tbody></tbody></table></div>`;
  const form = document.getElementById("cypher-form");
  document.getElementById("cypher-query").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("cypher-status");
    let params;
    try { params = JSON.parse(document.getElementById("cypher-params").value || "{}"); } catch (err) { status.textContent = `parameters are not JSON: ${err.message}`; return; }
    status.textContent = "running…";
    try {
      const result = await api("/v1/cypher", { method: "POST", body: JSON.stringify({ query: document.getElementById("cypher-query").value, params }) });
      status.textContent = `${result.rows.length} row(s) in ${result.elapsed_ms} ms${result.truncated ? " (truncated)" : ""}`;
      document.querySelector("#cypher-result thead").innerHTML = `<tr>${result.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
      document.querySelector("#cypher-result tbody").innerHTML = result.rows.map((r) => `<tr>${r.map((v) => `<td>${esc(typeof v === "object" && v !== null ? JSON.stringify(v) : v)}</td>`).join("")}</tr>`).join("");
      await showResultGraph(result);
    } catch (err) {
      status.textContent = "";
      showError(document.querySelector("#cypher-result tbody"), err);
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
  if (!nodes.size) { holder.innerHTML = `<p class="muted">No nodes in this result to draw.</p>`; return; }
  const known = new Set(nodes.keys());
  const html = await api("/v1/graph/blank");
  const graph = mountGraph(holder, html, {
    "linkscope:ready": () => graph.add([...nodes.values()], edges.filter((e) => known.has(e.from) && known.has(e.to))),
    "linkscope:node": (data) => { if (data.kind === "Account") location.hash = `#/account/${encodeURIComponent(data.key)}`; },
  });
}

// ---------------------------------------------------------------- routing
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
  const [, page, arg] = hash.match(/^#\/([^/]+)\/?(.*)$/) || [null, "queue", ""];
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === page));
  const id = decodeURIComponent(arg || "");
  if (page === "group") await renderGroup(id);
  else if (page === "account") await renderAccount(id);
  else if (page === "cypher") renderCypher();
  else await renderQueue();
  view.focus({ preventScroll: true });
}

document.getElementById("signout").addEventListener("click", () => signOut(""));
window.addEventListener("hashchange", render);
render();
