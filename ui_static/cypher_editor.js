// The console's query editor: Neo4j's own Cypher editor (CodeMirror 6 with Neo4j's parser,
// bundled once into vendor/ by scripts/cypher-editor; nothing from a CDN): highlighting,
// completion of the live graph's labels, relationship types, property keys and the parameters
// typed in the parameters box, and syntax errors marked inline. The textarea it replaces stays
// in the page, hidden and kept in step, so the form reads the query from it as before (and keeps
// working as a plain textarea if the editor cannot load).
import { api, h } from "./core.js";

function paramNames(input) {
  try {
    const value = JSON.parse(input.value || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
  } catch { return []; }
}

export async function mountEditor(textarea, paramsInput, onRun) {
  const [{ createCypherEditor, EditorView, keymap, Prec }, schema] = await Promise.all([
    import("./vendor/cypher-editor.js"),
    api("/v1/cypher/schema").catch(() => ({ labels: [], relationship_types: [], property_keys: [] })),
  ]);
  // Neo4j's editor names labels and types with their colon (":Account"), as Neo4j Browser does.
  const colon = (names) => names.map((name) => `:${name}`);
  const base = { labels: colon(schema.labels), relationshipTypes: colon(schema.relationship_types), propertyKeys: schema.property_keys };
  const holder = h("div", { id: "cypher-editor", class: "cypher-editor", dataset: { testid: "cypher-editor" } });
  textarea.before(holder);
  // In a shadow root CodeMirror styles itself with constructed style sheets; in the document it
  // would add <style> elements, which the page's Content-Security-Policy (no inline styles) refuses.
  const shadow = holder.attachShadow({ mode: "open" });
  const mount = h("div");
  shadow.append(h("link", { rel: "stylesheet", href: "/static/vendor/cypher-codemirror.css" }), mount);
  const { editor } = createCypherEditor(mount, {
    value: textarea.value,
    schema: { ...base, parameters: paramNames(paramsInput) },
    autocomplete: true,
    lint: true,
    lineNumbers: true,
    lineWrapping: true,
    theme: "light",
    // Ctrl/Cmd+Enter runs the query (before CodeMirror's own binding, which inserts a line).
    preExtensions: [Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => { onRun(); return true; } }]))],
    // The editable element takes the textarea's id: its label and the page's tests find it.
    postExtensions: [EditorView.contentAttributes.of({ id: "cypher-query", "aria-label": "Cypher query" })],
  });
  textarea.id = "cypher-query-text";
  textarea.hidden = true;
  editor.onValueChanged((value) => { textarea.value = value; });
  paramsInput.addEventListener("input", () => editor.setSchema({ ...base, parameters: paramNames(paramsInput) }));
  return {
    setValue(text) { editor.setValue(text); textarea.value = text; },
    refreshParams() { editor.setSchema({ ...base, parameters: paramNames(paramsInput) }); },
  };
}
