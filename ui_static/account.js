// The account page: profile, identifiers, flags, an ego network expanded by clicks and the
// account's activity (trades, transfers, logins, orders).
import {
  api, badge, can, card, fill, fixed, fmtValue, h, kv, link, path, row, showError, table, view,
} from "./core.js";
import { activityCard } from "./drill.js";
import { egoCard } from "./ego.js";
import { accountCyclesCard } from "./cycles.js";
import { replayHref } from "./replay.js";

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
  fill(view, h("h1", {}, `Account ${accountId}`),
    h("p", {}, h("a", { href: replayHref("account", accountId), id: "replay-link", class: "button secondary" }, "Order replay")),
    h("div", { class: "grid" },
    h("div", { class: "main-col" }, egoCard(accountId), activityCard(accountId), accountCyclesCard(accountId)),
    h("div", { class: "side-col" },
      card(h("h2", {}, "Profile"), kv([...Object.entries(profile.properties).map(([k, v]) => [k, fmtValue(k, v)]),
        ["Group", profile.group_id ? link("group", profile.group_id) : "none"]])),
      card(h("h2", {}, "Identifiers"), h("div", { class: "scroll-x" }, table(["Kind", "Value", "Uses", "Shared by", "Specificity"],
        profile.identifiers.map((i) => row(i.kind, h("td", { class: "id" }, i.value), String(i.uses), String(i.shared_by), fixed(i.specificity, 2)))))),
      card(h("h2", {}, "Flags"), profile.flags.length ? profile.flags.map((f) => h("details", {}, h("summary", {}, `${f.clause} (${fixed(f.score, 2)})`),
        h("pre", {}, JSON.stringify(f.evidence, null, 2)))) : h("p", { class: "muted" }, "None.")))));
}
