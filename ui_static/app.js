// linkscope investigator UI: a small hash-routed page over the /v1 API. No build step: each page
// is an ES module (served as is) and registers in ROUTES below. The API key lives in
// sessionStorage only; every call sends it as a Bearer token.

import { api, can, fill, h, KEY, session, view } from "./core.js";
import { renderAccount } from "./account.js";
import { renderCase, renderCases } from "./cases.js";
import { renderCypher } from "./cypher.js";
import { renderTrade } from "./drill.js";
import { renderGroup } from "./group.js";
import { renderQueue } from "./queue.js";
import { renderReplay } from "./replay.js";
import { renderRuns } from "./runs.js";
import { renderSuppressions } from "./suppressions.js";

// "#/<page>/<id>" → the page's render function; anything else shows the queue.
const ROUTES = {
  queue: renderQueue,
  group: renderGroup,
  account: renderAccount,
  cypher: renderCypher,
  trade: renderTrade,
  replay: renderReplay,
  runs: renderRuns,
  suppressions: renderSuppressions,
  mycases: () => renderCases("mine"),
  unassigned: () => renderCases("unassigned"),
  approvals: () => renderCases("approvals"),
  case: renderCase,
};

// Shown by the next sign-in form: why the user was signed out.
let signinMessage = "";

function signOut(message) {
  sessionStorage.removeItem(KEY);
  session.me = null;
  signinMessage = message || "";
  // One render: through hashchange when the hash changes, directly when it does not (two
  // renders would build a second form and drop the message written into the first).
  if (location.hash === "#/signin") render(); else location.hash = "#/signin";
}

function renderSignin() {
  const key = h("input", { id: "key", name: "key", type: "password", autocomplete: "off", required: true, placeholder: "lsk_…" });
  const error = h("p", { id: "signin-error", class: "error", role: "alert" }, signinMessage);
  signinMessage = "";
  const form = h("form", { id: "signin-form" }, h("label", { for: "key" }, "API key"), key,
    h("button", { type: "submit" }, "Sign in"), error);
  fill(view, h("section", { id: "signin", class: "card narrow" }, h("h1", {}, "Sign in"),
    h("p", {}, "Paste your API key. It is kept in this browser tab's session only."), form));
  key.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    sessionStorage.setItem(KEY, key.value.trim());
    try {
      session.me = await api("/v1/me", { signingIn: true });
      if (location.hash === "#/queue") render(); else location.hash = "#/queue";
    } catch (err) {
      sessionStorage.removeItem(KEY);
      error.textContent = err.status === 401 ? "That key is not valid." : err.message;
    }
  });
}

function decoded(text) {
  try { return decodeURIComponent(text); } catch { return text; }  // a hand-typed "%" is text
}

async function render() {
  const hash = location.hash || "#/queue";
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  const showSignin = !signedIn || hash === "#/signin";
  document.getElementById("signout").hidden = showSignin;
  // Signed out, the navigation leads nowhere: hidden with the user's name.
  document.querySelector("header nav").hidden = showSignin;
  if (showSignin) { document.getElementById("who").textContent = ""; renderSignin(); return; }
  if (!session.me) {
    try { session.me = await api("/v1/me"); } catch (err) { return; }
  }
  document.getElementById("who").textContent = `${session.me.name || session.me.key_id} · ${session.me.role}`;
  document.querySelectorAll("[data-role]").forEach((el) => { el.hidden = !can(...el.dataset.role.split(" ")); });
  // The id is everything after "#/page/": encoded, so its own "/" or "#" cannot split it.
  const [, page, arg] = hash.match(/^#\/([^/]+)\/?(.*)$/s) || [null, "queue", ""];
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === page));
  const id = decoded(arg || "");
  await (Object.hasOwn(ROUTES, page) ? ROUTES[page] : renderQueue)(id);
  view.focus({ preventScroll: true });
}

session.signOut = signOut;
document.getElementById("signout").addEventListener("click", () => signOut(""));
window.addEventListener("hashchange", render);
render();
