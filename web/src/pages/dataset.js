// A dataset: its versions, files, creators, where it was imported from and where it is used.
import { getJSON, kgPath } from "../api.js";
import { fact, h, link, put, routes, when } from "../dom.js";

export async function render(root, { args }) {
  const id = args[0];
  const d = await getJSON("/knowledge-graph/datasets/" + encodeURIComponent(id));
  document.title = `${d.name} · kg`;
  const project = d.project || {};
  const creators = (d.published && d.published.creator) || [];
  put(root, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("/explore/search", "Search"), " / ",
      project.slug ? link(routes.project(project.slug), project.slug) : "", " / ", d.slug || d.name),
    h("h1", {}, d.name, " ", h("span", { class: "badge badge-dataset" }, "dataset")),
    d.description ? h("p", { class: "lead" }, d.description) : null,
    h("dl", { class: "facts" },
      fact("Identifier", h("code", {}, d.identifier)),
      fact("Created", when(d.created)),
      fact("Modified", when(d.dateModified)),
      fact("Published", when(d.published && d.published.datePublished)),
      fact("Creators", creators.map((c) => [c.name, c.affiliation ? ` (${c.affiliation})` : ""].join("")).join(", ")),
      fact("Keywords", (d.keywords || []).join(", ")),
      d.sameAs ? fact("Imported from", external(d.sameAs)) : null,
      d.derivedFrom ? fact("Derived from", external(d.derivedFrom)) : null,
      d.url ? fact("URL", external(d.url)) : null),
  );
  const versions = h("section", { "aria-labelledby": "versions-title" }, h("h2", { id: "versions-title" }, "Versions"));
  put(versions, h("p", {}, "Initial version ", h("code", {}, (d.versions && d.versions.initial) || d.identifier)));
  if (project.slug) {
    try {
      const tags = await getJSON(`/knowledge-graph/projects/${kgPath(project.slug)}/datasets/${encodeURIComponent(d.slug || d.name)}/tags`);
      if (tags.length) put(versions, h("ul", { class: "plain" }, tags.map((t) => h("li", {}, h("strong", {}, t.name), " ", when(t.date), " ", t.description || ""))));
    } catch { /* no tags route answer: the initial version is all we show */ }
  }
  put(root, 
    versions,
    h("section", { "aria-labelledby": "files-title" }, h("h2", { id: "files-title" }, `Files (${(d.hasPart || []).length})`),
      h("ul", { class: "files" }, (d.hasPart || []).map((part) => h("li", {}, h("span", { class: "path" }, part.atLocation), " ",
        project.slug ? link(routes.lineage(project.slug, part.atLocation), "Lineage") : null)))),
    h("section", { "aria-labelledby": "used-title" }, h("h2", { id: "used-title" }, "Used in"),
      h("ul", { class: "plain" }, (d.usedIn || []).map((p) => h("li", {}, link(routes.project(p.slug), p.slug), " ",
        h("span", { class: `badge badge-${p.visibility}` }, p.visibility))))),
  );
}

function external(url) {
  return /^https?:\/\//.test(url) ? h("a", { href: url, rel: "noopener noreferrer" }, url) : url;
}
