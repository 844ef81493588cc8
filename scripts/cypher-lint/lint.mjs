// Neo4j's own Cypher 5 front-end (parser + semantic analysis) over statements linkscope sends.
// stdin: JSON list of {"name": str, "query": str}; stdout: JSON list of
// {"name", "severity": "error"|"warning", "message", "offset", "text"} — empty when all pass.
import { createRequire } from "node:module";

// The package's ES module build imports paths without extensions, which Node refuses; its
// CommonJS build loads.
const { lintCypherQuery } = createRequire(import.meta.url)("@neo4j-cypher/language-support");

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const statements = JSON.parse(Buffer.concat(chunks).toString("utf8"));

// No labels, procedures or functions in the schema: those checks stay off (a database's
// contents are not known here), the parser and semantic analysis run in full. Every $parameter
// counts as declared: the editor checks them against its own :param list, while the server
// takes whatever the driver sends.
const schema = { parameters: new Proxy({}, { get: () => ({}) }) };
const diagnostics = [];
for (const { name, query } of statements) {
  for (const d of lintCypherQuery(query, schema)) {
    diagnostics.push({
      name,
      // LSP severities: 1 error, 2 warning (deprecations), 3 information, 4 hint.
      severity: d.severity === 1 ? "error" : d.severity === 2 ? "warning" : "info",
      message: d.message,
      offset: d.offsets.start,
      text: query.slice(d.offsets.start, d.offsets.end),
    });
  }
}
process.stdout.write(JSON.stringify(diagnostics));
