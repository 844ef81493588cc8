// Table helpers shared by pages: sortable column headers, CSV export and a "more" pager.
import { h } from "./core.js";

// A header row whose cells sort: columns are [label, key] pairs (key null: not sortable).
// `state` is {sort, desc}; clicking a header calls onSort(key, desc). aria-sort tells screen
// readers the order, the arrow tells everyone else.
export function sortableHead(columns, state, onSort) {
  return h("thead", {}, h("tr", {}, columns.map(([label, key]) => {
    if (!key) return h("th", { scope: "col" }, label);
    const active = state.sort === key;
    const button = h("button", { type: "button", class: "sort", dataset: { sort: key } }, label,
      active ? (state.desc ? " ▼" : " ▲") : "");
    button.addEventListener("click", () => onSort(key, active ? !state.desc : key !== "group_id" && key !== "verdict"));
    return h("th", { scope: "col", "aria-sort": active ? (state.desc ? "descending" : "ascending") : "none" }, button);
  })));
}

// Sorts a copy of items by the value `pick(item, key)` returns (numbers before text).
export function sortBy(items, key, desc, pick = (item, k) => item[k]) {
  const factor = desc ? -1 : 1;
  return [...items].sort((x, y) => {
    const a = pick(x, key), b = pick(y, key);
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    return (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))) * factor;
  });
}

// RFC 4180 CSV: every field quoted, quotes doubled; objects as JSON. A leading =, +, - or @
// is prefixed with ' so a spreadsheet does not run a result value as a formula.
export function toCsv(columns, rows) {
  const cell = (v) => {
    let text = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    if (/^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`;
    return `"${text.replaceAll('"', '""')}"`;
  };
  return [columns, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}

export function download(filename, text, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// "How long ago" in the largest whole unit: the age of a queue entry.
export function age(ms, now = Date.now()) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["min", 60]]) if (s >= size) return `${Math.floor(s / size)} ${unit}`;
  return `${s} s`;
}
