// Evidence-pack downloads for the group page: the API wants the key in a header, so the file is
// fetched here and handed to the browser as a download (nothing opens in this origin's frame).
import { KEY, can, h, path } from "./core.js";

async function download(url, name, status) {
  status.textContent = "Preparing…";
  try {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` } });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.error?.message || response.statusText);
    }
    const href = URL.createObjectURL(await response.blob());
    const a = h("a", { href, download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
    status.textContent = "";
  } catch (err) { status.textContent = err.message; }
}

export function packLinks(groupId) {
  if (!can("investigator", "enforcement")) return null;
  const status = h("span", { class: "muted", role: "status" });
  const button = (suffix) => {
    const b = h("button", { type: "button", class: "secondary", dataset: { pack: suffix } }, `Evidence pack (${suffix.toUpperCase()})`);
    b.addEventListener("click", () => download(path("groups", groupId, `report.${suffix}`), `evidence-${groupId}.${suffix}`, status));
    return b;
  };
  return h("span", { id: "pack-links" }, button("html"), " ", button("pdf"), " ", status);
}
