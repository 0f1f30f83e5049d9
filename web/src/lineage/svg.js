// The picture as a standalone SVG, drawn from cytoscape's laid-out model (positions, sizes,
// edge end points), so what is exported is what is shown; every node carries its full label
// in a <title> (the drawn text is shortened like on screen).
const COLOURS = {
  file: ["#d9e8fb", "#486581"],
  directory: ["#d5f5e3", "#486581"],
  run: ["#fde2c4", "#486581"],
  cluster: ["#eceff1", "#486581"],
};
const MAX_TEXT = 24;

export function toSVG(cy, labels) {
  const box = cy.elements().boundingBox();
  const pad = 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${num(box.x1 - pad)} ${num(box.y1 - pad)} ${num(box.w + 2 * pad)} ${num(box.h + 2 * pad)}" width="${num(box.w + 2 * pad)}" height="${num(box.h + 2 * pad)}" font-family="sans-serif" font-size="11">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0 10 5 0 10z" fill="#829ab1"/></marker></defs>`,
    `<rect x="${num(box.x1 - pad)}" y="${num(box.y1 - pad)}" width="${num(box.w + 2 * pad)}" height="${num(box.h + 2 * pad)}" fill="#ffffff"/>`,
  ];
  cy.edges().forEach((edge) => {
    const a = edge.sourceEndpoint();
    const b = edge.targetEndpoint();
    parts.push(`<line x1="${num(a.x)}" y1="${num(a.y)}" x2="${num(b.x)}" y2="${num(b.y)}" stroke="#829ab1" stroke-width="1.5" marker-end="url(#arrow)"/>`);
  });
  cy.nodes().forEach((node) => {
    const kind = ["run", "directory", "cluster"].find((k) => node.hasClass(k)) || "file";
    const [fill, line] = COLOURS[kind];
    const stroke = node.hasClass("start") ? 'stroke="#c62828" stroke-width="4"' : node.hasClass("elsewhere") ? 'stroke="#8e24aa" stroke-width="2" stroke-dasharray="5 3"' : `stroke="${line}" stroke-width="1"`;
    const { x, y } = node.position();
    const w = node.width();
    const h = node.height();
    const label = labels.get(node.id()) || node.id();
    const text = label.length > MAX_TEXT ? label.slice(0, MAX_TEXT - 1) + "…" : label;
    parts.push(`<g class="node ${kind}"><title>${esc(label)}</title>${shape(kind, x, y, w, h, `fill="${fill}" ${stroke}`)}<text x="${num(x)}" y="${num(y)}" text-anchor="middle" dominant-baseline="central" fill="#102a43">${esc(text)}</text></g>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

function shape(kind, x, y, w, h, style) {
  const l = x - w / 2, r = x + w / 2, t = y - h / 2, b = y + h / 2;
  if (kind === "run") {
    const i = Math.min(12, w / 4);
    return `<polygon points="${[[l, y], [l + i, t], [r - i, t], [r, y], [r - i, b], [l + i, b]].map((p) => p.map(num).join(",")).join(" ")}" ${style}/>`;
  }
  if (kind === "directory") {
    return `<polygon points="${[[l, t], [r - 10, t], [r, y], [r - 10, b], [l, b]].map((p) => p.map(num).join(",")).join(" ")}" ${style}/>`;
  }
  return `<rect x="${num(l)}" y="${num(t)}" width="${num(w)}" height="${num(h)}" rx="${kind === "cluster" ? 10 : 5}" ${style}/>`;
}

function num(value) {
  return Number(value.toFixed(1)).toString();
}

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
