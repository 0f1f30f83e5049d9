// The lineage view: an interactive picture of a file's lineage, with direction and depth
// controls, re-centring on click, details on hover, SVG/PNG export, and beside it every node
// and edge as text (screen readers, keyboards; the DOM holds every node's label).
import { getJSON, kgPath } from "../api.js";
import { announce, clear, errorBox, h, link, put, routes, saveBlob } from "../dom.js";
import { asPNG, asSVG, draw } from "../lineage/picture.js";
import { PAGE, buildModel, details, displayLabel, fold, shortLabel } from "../lineage/model.js";
import { sessionButton } from "../sessions.js";

const DEPTHS = ["", "1", "2", "3", "4", "5", "6", "8", "10", "20"];
let cy = null;
let current = null;  // what the picture shows (after folding)

export function leave() {
  if (cy) cy.destroy();
  cy = null;
}

export async function render(root, { params, config }) {
  const project = params.get("project") || "";
  const file = params.get("file") || "";
  const direction = ["upstream", "downstream", "both"].includes(params.get("direction")) ? params.get("direction") : "both";
  const depth = DEPTHS.includes(params.get("depth") || "") ? params.get("depth") || "" : "";
  document.title = `Lineage of ${file} · kg`;
  if (!project || !file) {
    put(root, h("h1", {}, "Lineage"), errorBox({ title: "Which file?", detail: "Open a lineage from a project's file list, or give ?project=<namespace/name>&file=<path>." }));
    return;
  }
  put(root,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("/explore/search", "Search"), " / ", link(routes.project(project), project), " / ", file),
    h("h1", {}, "Lineage of ", h("span", { class: "path" }, file)),
  );
  const go = (changes) => window.kgExplorer.navigate(routes.lineage(project, file, { direction, depth, ...changes }));
  const directionSelect = h("select", { id: "direction", onchange: (e) => go({ direction: e.target.value }) },
    ["both", "upstream", "downstream"].map((d) => h("option", { value: d, selected: d === direction }, d)));
  const depthSelect = h("select", { id: "depth", onchange: (e) => go({ depth: e.target.value }) },
    DEPTHS.map((d) => h("option", { value: d, selected: d === depth }, d || "all")));
  const picture = h("div", { id: "lineage-picture", class: "picture", role: "img", "aria-label": `Lineage picture of ${file}` });
  const tip = h("div", { class: "tip", role: "tooltip", hidden: true });
  const chosen = h("div", { id: "node-details", class: "node-details", "aria-live": "polite" });
  const text = h("section", { class: "lineage-text", "aria-labelledby": "text-title" });
  const controls = h("div", { class: "toolbar", role: "group", "aria-label": "Lineage controls" },
    h("label", { for: "direction" }, "Direction "), directionSelect,
    h("label", { for: "depth" }, " Depth "), depthSelect,
    h("button", { type: "button", onclick: () => cy && cy.fit(undefined, 20) }, "Fit"),
    h("button", { type: "button", id: "export-svg", onclick: () => cy && saveBlob(new Blob([asSVG(cy, current)], { type: "image/svg+xml" }), `lineage-${slugOf(file)}.svg`) }, "Export SVG"),
    h("button", { type: "button", id: "export-png", onclick: async () => cy && saveBlob(await asPNG(cy), `lineage-${slugOf(file)}.png`) }, "Export PNG"));
  const unfolding = h("div", { class: "toolbar", role: "group", "aria-label": "Folded nodes" });
  put(root, controls, unfolding, h("div", { class: "lineage-layout" }, h("div", { class: "picture-wrap" }, picture, tip, chosen), text));

  let answer;
  try {
    answer = await getJSON(`/knowledge-graph/projects/${kgPath(project)}/files/${encodeURIComponent(file)}/lineage?` +
      new URLSearchParams({ direction, ...(depth ? { depth } : {}) }));
  } catch (error) {
    clear(picture).append(h("p", { class: "empty" }, error.status === 404
      ? "No run made or used this file (or kg holds no such file here), so there is no lineage to draw. Its history is on the project page."
      : ""));
    if (error.status !== 404) put(root, errorBox(error));
    return;
  }
  if (config.sessions && answer.session) put(controls, sessionButton(answer.session, "Open in a session at this commit", file));
  const model = buildModel(answer, file);
  const unfolded = new Map();  // cluster id → leaves shown
  const unfold = (cluster) => { unfolded.set(cluster.id, cluster.next); show(); };

  const recentre = (node) => {
    if (!node || node.kind === "run" || node.kind === "cluster") return;
    window.kgExplorer.navigate(routes.lineage(node.project || project, node.location, { direction, depth }));
  };
  const show = () => {
    const shown = fold(model, unfolded);
    current = shown;
    window.kgExplorer.lineage = {
      project, file, direction, depth, start: model.start,
      nodes: model.nodes.map(({ id, label, type, project: p, commit, time, agent, tool }) => ({ id, label, type, project: p, commit, time, agent, tool })),
      edges: model.edges.map(({ source, target }) => ({ source, target })),
      shown: { nodes: shown.nodes.map((n) => n.id), edges: shown.edges.length, clusters: shown.clusters },
    };
    put(clear(unfolding), shown.clusters.map((id) => {
      const cluster = shown.nodes.find((n) => n.id === id);
      const step = Math.min(PAGE, cluster.members.length);
      return h("button", { type: "button", class: "unfold", onclick: () => unfold(cluster) }, `Show ${step} of ${cluster.label}`);
    }));
    if (cy) cy.destroy();
    cy = draw(picture, shown, model.start, {
      hover: (node, at) => {
        put(clear(tip), details(node).map(([k, v]) => h("div", {}, h("strong", {}, k), " ", v)));
        tip.style.left = `${at.x + 12}px`;
        tip.style.top = `${at.y + 12}px`;
        tip.hidden = false;
      },
      leave: () => { tip.hidden = true; },
      tap: (node) => {
        if (node.kind === "cluster") { unfold(node); return; }
        if (node.kind === "run") { describe(chosen, node); return; }
        recentre(node);
      },
    });
    window.kgExplorer.picture = cy;  // for tests and the console: the live cytoscape instance
    cy.ready(() => picture.dataset.ready = "true");
    announce(`${model.nodes.length} nodes, ${model.edges.length} edges`);
  };
  writeText(text, model, recentre);
  show();
}

function describe(el, node) {
  put(clear(el), h("h2", {}, "Run"), h("dl", { class: "facts" }, details(node).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
}

function writeText(el, model, recentre) {
  const label = (id) => shortLabel(model.byId.get(id));
  put(el, 
    h("h2", { id: "text-title" }, `Nodes (${model.nodes.length})`),
    h("ul", { id: "lineage-nodes", class: "node-list" }, model.nodes.map((n) => h("li", { class: `node-${n.kind}`, dataset: { id: n.id } },
      n.kind === "run"
        ? h("span", { class: "node-label" }, "⚙ ", displayLabel(n))
        : h("button", { type: "button", class: "linkish node-label", title: "Show this file's lineage", onclick: () => recentre(n) }, displayLabel(n)),
      " ", h("span", { class: "muted" }, details(n).slice(1).filter(([k]) => k !== "Command").map(([k, v]) => `${k.toLowerCase()} ${v}`).join(" · "))))),
    h("h2", {}, `Edges (${model.edges.length})`),
    h("ul", { id: "lineage-edges", class: "edge-list" }, model.edges.map((e) => h("li", {}, label(e.source), " → ", label(e.target)))),
  );
}

function slugOf(path) {
  return path.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
}
