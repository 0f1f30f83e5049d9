// A project: what it is, its datasets, recent activity, sync status (polled while an ingest
// runs) and its files, each with its history and a link to its lineage.
import { getJSON, kgPath } from "../api.js";
import { clear, errorBox, fact, h, link, put, routes, when } from "../dom.js";
import { sessionButton } from "../sessions.js";

let poll = null;
const SHOWN = 500;  // rows drawn at once; the filter reaches the others

export function leave() {
  clearTimeout(poll);
}

export async function render(root, { args, config }) {
  const slug = args[0];
  const base = "/knowledge-graph/projects/" + kgPath(slug);
  // `/-/` ends a project path (GitLab's rule): what follows is a route, never a project
  const project = slug.includes("/-/") ? null : await getJSON(base);
  if (!project || typeof project.name !== "string" || !(project.slug || project.path)) {
    put(root, h("h1", {}, "Not found"), h("p", {}, "No project is called ", h("code", {}, slug), ". ", link("/explore/search", "Search")));
    return;
  }
  document.title = `${project.name} · kg`;
  const creators = (project.created && project.created.creator ? [project.created.creator] : []).concat(project.creators || []);
  put(root, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("/explore/search", "Search"), " / ", project.slug || slug),
    h("h1", {}, project.name, " ", h("span", { class: `badge badge-${project.visibility}` }, project.visibility)),
    project.description ? h("p", { class: "lead" }, project.description) : null,
    h("dl", { class: "facts" },
      fact("Path", project.path || slug),
      fact("Created", when(project.created && project.created.dateCreated)),
      fact("Modified", when(project.dateModified)),
      fact("Creators", creators.map((c) => c.name || c).join(", ")),
      fact("Keywords", (project.keywords || []).join(", "))),
    config.sessions && project.session ? sessionButton(project.session, "Open in a session at the current commit") : null,
  );
  const sync = h("section", { class: "sync", "aria-labelledby": "sync-title" }, h("h2", { id: "sync-title" }, "Sync status"));
  const datasets = h("section", { "aria-labelledby": "datasets-title" }, h("h2", { id: "datasets-title" }, "Datasets"));
  const activity = h("section", { "aria-labelledby": "activity-title" }, h("h2", { id: "activity-title" }, "Recent activity"));
  const files = h("section", { "aria-labelledby": "files-title" }, h("h2", { id: "files-title" }, "Files"));
  put(root, sync, h("div", { class: "columns" }, datasets, activity), files);
  await Promise.all([
    showSync(sync, base),
    section(datasets, () => showDatasets(datasets, base)),
    // one after the other: both are store queries, and a caller's queries run a few at a time
    section(activity, () => showActivity(activity, base)).then(() => section(files, () => showFiles(files, base, slug, project, config))),
  ]);
}

async function section(el, fill) {
  try { await fill(); } catch (error) { put(el, errorBox(error)); }
}

async function showSync(el, base) {
  const body = h("div", { id: "sync-status", role: "status" });
  put(el, body);
  const refresh = async () => {
    if (!body.isConnected) return;  // the user left the page: stop polling
    try {
      const status = await getJSON(base + "/-/sync");
      const details = status.details || {};
      const busy = details.status === "in-progress";  // kg's statuses: in-progress, success, failure
      put(clear(body), 
        h("p", {}, status.activated ? `${details.status || "unknown"}: ${details.message || ""}` : "No push recorded: kg holds what `kg ingest` put in."),
        status.activated ? h("progress", { max: 100, value: status.progress.percentage, "aria-label": "Events done" }, `${status.progress.percentage}%`) : null,
        status.ingestedCommit ? h("p", { class: "muted" }, "Ingested commit ", h("code", {}, status.ingestedCommit.slice(0, 12))) : null,
        status.nextAttemptAt ? h("p", { class: "muted" }, "Next attempt ", when(status.nextAttemptAt)) : null,
        (status.warnings || []).length ? h("details", {}, h("summary", {}, `${status.warnings.length} warnings`), h("ul", {}, status.warnings.map((w) => h("li", {}, w)))) : null,
      );
      if (body.isConnected) poll = setTimeout(refresh, busy ? 2000 : 15000);  // live while an ingest runs
    } catch (error) {
      put(clear(body), errorBox(error));
    }
  };
  await refresh();
}

async function showDatasets(el, base) {
  const found = await getJSON(base + "/datasets");
  if (!found.length) return put(el, h("p", { class: "muted" }, "No datasets."));
  put(el, h("ul", { class: "plain" }, found.map((d) => h("li", {},
    link(routes.dataset(d.identifier), d.name || d.slug),
    d.sameAs ? h("span", { class: "muted" }, " (imported)") : null))));
}

async function showActivity(el, base) {
  const { activities } = await getJSON(base + "/-/activities?limit=15");
  if (!activities.length) return put(el, h("p", { class: "muted" }, "No activity."));
  put(el, h("ol", { class: "activity" }, activities.map((a) => h("li", {},
    h("span", { class: `badge badge-${a.kind}` }, a.kind === "run" ? a.tool || "run" : "commit"), " ",
    h("span", { class: "activity-label" }, a.label || a.activity), " ",
    h("span", { class: "muted" }, [when(a.started), a.agent, a.sha ? a.sha.slice(0, 7) : ""].filter(Boolean).join(" · "))))));
}

async function showFiles(el, base, slug, project, config) {
  const { files, truncated } = await getJSON(base + "/-/files");
  const filter = h("input", { type: "search", id: "file-filter", placeholder: "Filter files" });
  const list = h("ul", { class: "files" });
  const count = h("p", { class: "muted", role: "status" });
  const draw = () => {
    const wanted = filter.value.toLowerCase();
    const matching = files.filter((f) => f.path.toLowerCase().includes(wanted));
    const shown = matching.slice(0, SHOWN);
    put(clear(list), shown.map((f) => fileRow(f, base, slug, project, config)));
    count.textContent = matching.length > SHOWN ? `${SHOWN} of ${matching.length} shown: filter to find the others.` : `${matching.length} of ${files.length} paths.`;
  };
  filter.addEventListener("input", draw);
  put(el, h("label", { for: "file-filter", class: "visually-hidden" }, "Filter files"), filter, count, list,
    truncated ? h("p", { class: "muted" }, "Only the first 10,000 paths are listed.") : null);
  draw();
}

function fileRow(file, base, slug, project, config) {
  const history = h("div", { class: "history" });
  const more = h("details", {}, h("summary", {}, "History"), history);
  more.addEventListener("toggle", async () => {
    if (!more.open || history.childElementCount) return;
    try {
      const found = await getJSON(`${base}/files/${encodeURIComponent(file.path)}/history`);
      put(history, h("ol", {}, found.history.map((e) => h("li", {},
        `${e.role} by ${e.kind} `, h("span", {}, e.label || ""), " ",
        h("span", { class: "muted" }, [when(e.started), e.sha ? e.sha.slice(0, 7) : ""].filter(Boolean).join(" · "))))));
    } catch (error) {
      put(history, errorBox(error));
    }
  });
  return h("li", { class: file.deleted ? "deleted" : "" },
    h("span", { class: "path" }, file.path), " ",
    h("span", { class: "muted" }, [file.deleted ? "deleted" : "", when(file.modified), `${file.versions} version${file.versions === 1 ? "" : "s"}`].filter(Boolean).join(" · ")), " ",
    link(routes.lineage(slug, file.path), "Lineage"),
    config.sessions && project.session ? sessionButton(project.session, "Open in a session", file.path) : null,
    more);
}
