// What the linkscope UI takes from Neo4j's Cypher editor packages: the editor factory (CodeMirror 6
// with Neo4j's Cypher parser: highlighting, schema-aware completion, inline syntax errors), and
// the CodeMirror pieces the console's own extensions need (an element id, a key binding): the
// same instances the editor uses, one copy in the bundle.
export { createCypherEditor } from "@neo4j-cypher/codemirror";
export { EditorView, keymap } from "@codemirror/view";
export { Prec } from "@codemirror/state";
