// The lineage picture: cytoscape.js with dagre laid out left to right (inputs → runs →
// outputs), nodes typed by shape and colour, other projects' nodes dashed.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import { displayLabel, shortLabel } from "./model.js";
import { toSVG } from "./svg.js";

cytoscape.use(dagre);

const MIN_READABLE = 0.6;

const STYLE = [
  { selector: "node", style: {
    label: "data(short)", "font-size": 11, "text-valign": "center", "text-halign": "center",
    "text-wrap": "ellipsis", "text-max-width": 124, width: 132, height: 34, color: "#102a43",
    "border-width": 1, "border-color": "#486581" } },
  { selector: "node.file", style: { shape: "round-rectangle", "background-color": "#d9e8fb" } },
  { selector: "node.directory", style: { shape: "tag", "background-color": "#d5f5e3" } },
  { selector: "node.run", style: { shape: "hexagon", "background-color": "#fde2c4", width: 140 } },
  { selector: "node.cluster", style: { shape: "barrel", "background-color": "#eceff1", "border-style": "double", "border-width": 3 } },
  { selector: "node.elsewhere", style: { "border-style": "dashed", "border-width": 2, "border-color": "#8e24aa" } },
  { selector: "node.start", style: { "border-width": 4, "border-color": "#c62828" } },
  { selector: "node:selected", style: { "overlay-opacity": 0.15, "overlay-color": "#1d4e89" } },
  { selector: "edge", style: {
    width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle",
    "line-color": "#829ab1", "target-arrow-color": "#829ab1" } },
];

/** Draw `shown` into `container`; `on` has hover(node, position), leave(), tap(node). */
export function draw(container, shown, start, on) {
  const elements = [
    ...shown.nodes.map((n) => ({
      data: { id: n.id, short: shortLabel(n, 60) },
      classes: [n.kind, n.project ? "elsewhere" : "", n.id === start ? "start" : ""].filter(Boolean).join(" "),
    })),
    ...shown.edges.map((e, i) => ({ data: { id: `e${i}`, source: e.source, target: e.target } })),
  ];
  const cy = cytoscape({
    container,
    elements,
    style: STYLE,
    layout: { name: "dagre", rankDir: "LR", nodeSep: 18, rankSep: 40, edgeSep: 8 },
    minZoom: 0.05,
    maxZoom: 3,
    boxSelectionEnabled: false,
  });
  if (cy.zoom() < MIN_READABLE && start) {  // a wide graph: readable labels around the start, Fit shows all
    cy.zoom(MIN_READABLE);
    cy.center(cy.getElementById(start));
  }
  const byId = new Map(shown.nodes.map((n) => [n.id, n]));
  cy.on("mouseover", "node", (event) => on.hover(byId.get(event.target.id()), event.renderedPosition));
  cy.on("mouseout", "node", () => on.leave());
  cy.on("tap", "node", (event) => on.tap(byId.get(event.target.id())));
  return cy;
}

export function asSVG(cy, shown) {
  return toSVG(cy, new Map(shown.nodes.map((n) => [n.id, displayLabel(n)])));
}

export function asPNG(cy) {
  // within what a canvas may be (Chromium: 16,384 px a side): a tall unfolded fan-out is scaled down
  return cy.png({ full: true, scale: 2, maxWidth: 16000, maxHeight: 16000, bg: "#ffffff", output: "blob" });
}
