// The lineage answer as a graph model: every node and edge kg sent, the start node, and what
// the picture shows once large fan-outs are folded. Pure functions, no DOM.
import { when } from "../dom.js";

export const FANOUT = 8;  // more leaves of one type on one side of a node than this are folded
export const PAGE = 100;  // leaves a click on a folded node unfolds (dagre slows down past a few hundred)

/** {nodes, edges, byId, start} from kg's `{edges, nodes}` for `file` of `project`. */
export function buildModel(answer, file) {
  const nodes = (answer.nodes || []).map((n) => ({ ...n, kind: kindOf(n) }));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges = (answer.edges || []).filter((e) => byId.has(e.source) && byId.has(e.target));
  const start = nodes.find((n) => !n.project && (n.id === file || n.location === file)) || nodes.find((n) => n.location === file);
  return { nodes, edges, byId, start: start ? start.id : null };
}

function kindOf(node) {
  if (node.type === "ProcessRun") return "run";
  if (node.type === "Directory") return "directory";
  return "file";
}

/** What the picture shows: the model with each large fan-out of leaves folded into one
 * cluster node; `unfolded` maps a cluster id to how many of its leaves are shown already. */
export function fold(model, unfolded = new Map()) {
  const degree = new Map(model.nodes.map((n) => [n.id, 0]));
  for (const e of model.edges) {
    degree.set(e.source, degree.get(e.source) + 1);
    degree.set(e.target, degree.get(e.target) + 1);
  }
  const groups = new Map();  // cluster id → {hub, side, kind, members}
  for (const e of model.edges) {
    for (const [hub, leaf, side] of [[e.target, e.source, "in"], [e.source, e.target, "out"]]) {
      if (degree.get(leaf) !== 1 || leaf === model.start) continue;
      const kind = model.byId.get(leaf).kind;
      const id = `cluster:${side}:${kind}:${hub}`;
      if (!groups.has(id)) groups.set(id, { id, hub, side, kind, members: [] });
      groups.get(id).members.push(leaf);
    }
  }
  const folded = new Map();  // member → cluster id
  const clusters = [];
  for (const group of groups.values()) {
    const shown = unfolded.get(group.id) || 0;
    if (group.members.length <= FANOUT || shown >= group.members.length) continue;
    group.rest = group.members.slice(shown);
    group.shown = shown;
    clusters.push(group);
    for (const m of group.rest) folded.set(m, group.id);
  }
  const nodes = model.nodes.filter((n) => !folded.has(n.id)).map((n) => ({ ...n }));
  for (const c of clusters) {
    const what = c.kind === "run" ? "runs" : c.kind === "directory" ? "folders" : "files";
    nodes.push({ id: c.id, kind: "cluster", type: "Cluster", label: `${c.rest.length} ${c.shown ? "more " : ""}${what}`, members: c.rest, next: c.shown + PAGE, total: c.members.length });
  }
  const edges = [];
  const seen = new Set();
  for (const e of model.edges) {
    const source = folded.get(e.source) || e.source;
    const target = folded.get(e.target) || e.target;
    const key = `${source}\u0000${target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ source, target });
  }
  return { nodes, edges, clusters: clusters.map((c) => c.id) };
}

const SHORT = 120;

/** A label cut to `max` characters (a run's label is its whole command: 26,000 characters
 * repeated in every edge line made a 2,000-input lineage's page 52 MB of text). */
export function shortLabel(node, max = SHORT) {
  const label = displayLabel(node);
  return label.length > max ? label.slice(0, max - 1) + "…" : label;
}

/** A node's label with its project when it belongs to another one. */
export function displayLabel(node) {
  return node.project ? `${node.label} [${node.project}]` : node.label;
}

/** The hover/detail lines of a node: command, time, agent, commit, tool, project. */
export function details(node) {
  const lines = [];
  const kind = node.kind === "run" ? "Run" : node.kind === "directory" ? "Folder" : node.kind === "cluster" ? "Folded" : "File";
  lines.push([kind, node.kind === "run" ? "" : node.location || ""]);
  if (node.kind === "run") lines.push(["Command", node.label.length > 600 ? node.label.slice(0, 599) + "…" : node.label]);
  if (node.time) lines.push(["Time", when(node.time)]);
  if (node.agent) lines.push(["Agent", node.agent]);
  if (node.commit) lines.push(["Commit", node.commit.slice(0, 12)]);
  if (node.tool) lines.push(["Tool", node.tool]);
  if (node.project) lines.push(["Project", node.project]);
  if (node.kind === "cluster") lines.push(["Click", "to unfold"]);
  return lines.filter(([, v]) => v !== undefined);
}
