// SPARQL: an editor with highlighting (CodeMirror 6, SPARQL mode), kg's own queries as
// examples, results as a table, downloads as CSV or JSON (asked of kg in that format).
import { StreamLanguage } from "@codemirror/language";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";
import { basicSetup, EditorView } from "codemirror";
import { getJSON, request } from "../api.js";
import { clear, errorBox, h, put, routes, saveBlob } from "../dom.js";

const START = "SELECT ?project ?name WHERE {\n  GRAPH ?g { ?project a <http://schema.org/Project> ; <http://schema.org/name> ?name }\n}\nLIMIT 25";
const MAX_ROWS = 1000;
const MAX_LINKED = 4000;  // characters of query a URL carries (servers refuse long request lines)

export async function render(root, { params }) {
  const host = h("div", { class: "editor", id: "sparql-editor" });
  const examples = h("select", { id: "examples" }, h("option", { value: "" }, "Examples from kg's queries/…"));
  const results = h("section", { class: "sparql-results", "aria-label": "Results", "aria-live": "polite" });
  put(root, 
    h("h1", {}, "SPARQL"),
    h("p", { class: "muted" }, "Read-only; you see the projects you may read. ", h("a", { href: "/sparql" }, "Endpoint: /sparql")),
    h("div", { class: "toolbar" }, h("label", { for: "examples" }, "Example "), examples),
    h("label", { id: "editor-label" }, "Query"),
    host,
    h("div", { class: "toolbar" },
      h("button", { type: "button", id: "run-query", onclick: () => run() }, "Run (Ctrl+Enter)"),
      h("button", { type: "button", onclick: () => download("text/csv", "results.csv") }, "Download CSV"),
      h("button", { type: "button", onclick: () => download("application/sparql-results+json", "results.json") }, "Download JSON")),
    results,
  );
  const editor = new EditorView({
    doc: params.get("query") || START,
    extensions: [
      basicSetup,
      StreamLanguage.define(sparql),
      EditorView.contentAttributes.of({ "aria-labelledby": "editor-label" }),
      EditorView.domEventHandlers({ keydown: (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); return true; } return false; } }),
    ],
    parent: host,
  });
  window.kgExplorer.sparqlEditor = editor;
  getJSON("/explore/examples.json").then((found) => {
    for (const q of found) put(examples, h("option", { value: q.name, title: q.description }, `${q.name}: ${q.description.slice(0, 80)}`));
    examples.addEventListener("change", () => {
      const chosen = found.find((q) => q.name === examples.value);
      if (chosen) editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: chosen.query } });
    });
  }).catch(() => {});

  const text = () => editor.state.doc.toString();

  async function ask(accept) {
    return request("/sparql", {
      method: "POST",
      headers: { "Content-Type": "application/sparql-query", Accept: accept },
      body: text(),
    });
  }

  async function run() {
    // the query goes in the URL (a link to it) unless too long for one
    if (text().length <= MAX_LINKED) history.replaceState(null, "", routes.sparql({ query: text() }));
    else history.replaceState(null, "", routes.sparql());
    put(clear(results), h("p", { class: "muted" }, "Running…"));
    try {
      const response = await ask("application/sparql-results+json, text/turtle;q=0.5");
      const type = response.headers.get("Content-Type") || "";
      clear(results);
      if (type.includes("json")) table(await response.json());
      else put(results, h("pre", { class: "graph" }, await response.text()));
    } catch (error) {
      put(clear(results), errorBox(error));
    }
  }

  function table(answer) {
    if (typeof answer.boolean === "boolean") return put(results, h("p", { id: "ask-answer" }, `Answer: ${answer.boolean}`));
    const vars = answer.head.vars;
    const rows = answer.results.bindings;
    put(results, h("p", { class: "muted", id: "row-count" }, `${rows.length} row${rows.length === 1 ? "" : "s"}${rows.length > MAX_ROWS ? `, the first ${MAX_ROWS} shown` : ""}`));
    put(results, h("div", { class: "table-scroll" }, h("table", { class: "data" },
      h("thead", {}, h("tr", {}, vars.map((v) => h("th", { scope: "col" }, v)))),
      h("tbody", {}, rows.slice(0, MAX_ROWS).map((row) => h("tr", {}, vars.map((v) => h("td", {}, row[v] ? row[v].value : ""))))))));
  }

  async function download(accept, name) {
    try {
      saveBlob(await (await ask(accept)).blob(), name);
    } catch (error) {
      put(clear(results), errorBox(error));
    }
  }
}
