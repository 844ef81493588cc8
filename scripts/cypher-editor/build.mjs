// Bundles Neo4j's Cypher editor into ui_static/vendor/ once, from the versions pinned in
// package-lock.json: `npm ci && node build.mjs [OUT_DIR]` (or `make cypher-editor`). The output
// is committed; the product serves it as a static file and never needs npm. Same inputs, same
// bytes (tests/test_cypher_editor_bundle.py rebuilds it and compares).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, "..", "..", "ui_static", "vendor");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, "entry.js")],
  outfile: join(out, "cypher-editor.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "eof", // the licences of everything bundled, kept with it
  charset: "utf8",
  logLevel: "warning",
});
copyFileSync(
  join(here, "node_modules", "@neo4j-cypher", "codemirror", "css", "cypher-codemirror.css"),
  join(out, "cypher-codemirror.css"),
);
