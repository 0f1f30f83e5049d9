// Search: as-you-type results from /knowledge-graph/entities with facet counts and paging.
// The URL holds the whole state (?q, type, visibility, creator, page), so a search is a link.
import { request } from "../api.js";
import { announce, clear, errorBox, h, link, query, routes, when, put } from "../dom.js";

const PER_PAGE = 20;
const FACETS = [
  ["type", "Type"],
  ["visibility", "Visibility"],
  ["creator", "Creator"],
  ["namespace", "Namespace"],
];

let timer = null;
let generation = 0;

export function leave() {
  clearTimeout(timer);
}

export async function render(root, { params }) {
  const state = {
    q: params.get("q") || "",
    page: Math.max(1, Number(params.get("page")) || 1),
    filters: Object.fromEntries(FACETS.map(([key]) => [key, params.getAll(key)])),
  };
  const input = h("input", { type: "search", id: "search-box", name: "q", value: state.q, autocomplete: "off", placeholder: "Projects, datasets, workflows, people…", "aria-describedby": "search-help" });
  const facets = h("aside", { class: "facets", "aria-label": "Filters" });
  const results = h("section", { class: "results", "aria-label": "Results", "aria-live": "polite" });
  put(root, 
    h("h1", {}, "Search"),
    h("form", { class: "search", role: "search", onsubmit: (e) => { e.preventDefault(); clearTimeout(timer); update(); } },
      h("label", { for: "search-box" }, "Search the knowledge graph"),
      input,
      h("p", { id: "search-help", class: "muted" }, "Words match from their start, in any order.")),
    h("div", { class: "search-layout" }, facets, results),
  );
  input.addEventListener("input", () => {
    state.q = input.value;
    state.page = 1;
    clearTimeout(timer);
    timer = setTimeout(update, 200);
  });

  async function update() {
    const mine = ++generation;
    const url = routes.search({ q: state.q, ...state.filters, page: state.page > 1 ? state.page : "" });
    history.replaceState(null, "", url);
    const api = "/knowledge-graph/entities" + query({ query: state.q, ...state.filters, page: state.page, per_page: PER_PAGE, envelope: "true" });
    try {
      const response = await getJSONWithTotal(api);
      if (mine !== generation) return;  // a newer keystroke won
      showFacets(response.body.facets || {});
      showResults(response.body.items || [], response.total);
    } catch (error) {
      if (mine !== generation) return;
      put(clear(results), errorBox(error));
    }
  }

  function showFacets(counts) {
    clear(facets);
    for (const [key, title] of FACETS) {
      const values = Object.entries(counts[key] || {});
      const chosen = state.filters[key];
      for (const value of chosen) if (!values.some(([v]) => v === value)) values.push([value, 0]);
      if (!values.length) continue;
      values.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const group = h("fieldset", { class: "facet" }, h("legend", {}, title));
      for (const [value, count] of values) {
        const id = `facet-${key}-${value}`.replace(/[^A-Za-z0-9_-]/g, "_");
        const box = h("input", { type: "checkbox", id, name: key, value, checked: chosen.includes(value) });
        box.addEventListener("change", () => {
          state.filters[key] = box.checked ? [...chosen, value] : chosen.filter((v) => v !== value);
          state.page = 1;
          update();
        });
        put(group, h("div", { class: "facet-value" }, box, h("label", { for: id }, value, " ", h("span", { class: "count" }, `(${count})`))));
      }
      put(facets, group);
    }
  }

  function showResults(items, total) {
    clear(results);
    announce(`${total} results`);
    put(results, h("p", { class: "muted", id: "result-count" }, `${total} result${total === 1 ? "" : "s"}`));
    const list = h("ol", { class: "hits" });
    for (const item of items) put(list, h("li", { class: `hit hit-${item.type}` }, hit(item)));
    put(results, list);
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    if (pages > 1) {
      const go = (page) => () => { state.page = page; update(); window.scrollTo(0, 0); };
      put(results, h("nav", { class: "pager", "aria-label": "Pages" },
        h("button", { type: "button", disabled: state.page <= 1, onclick: go(state.page - 1) }, "← Previous"),
        h("span", {}, ` Page ${state.page} of ${pages} `),
        h("button", { type: "button", disabled: state.page >= pages, onclick: go(state.page + 1) }, "Next →")));
    }
  }

  await update();
  input.focus();
}

async function getJSONWithTotal(url) {
  const response = await request(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  const total = Number(response.headers.get("Total") ?? (body.items || []).length);
  return { body, total };
}

function hit(item) {
  const badge = h("span", { class: `badge badge-${item.type}` }, item.type);
  const meta = [];
  if (item.visibility) meta.push(item.visibility);
  if (item.date) meta.push(when(item.date));
  let title;
  if (item.type === "project") title = link(routes.project(item.slug || item.path), item.name);
  else if (item.type === "dataset") title = item.identifier ? link(routes.dataset(item.identifier), item.name) : item.name;
  else if (item.type === "workflow" && item.project) title = link(routes.project(item.project.slug), item.name);
  else if (item.type === "person") title = link(routes.search({ q: item.name }), item.name);
  else title = item.name;
  const where = item.project && item.type !== "project" ? h("span", { class: "muted" }, " in ", link(routes.project(item.project.slug), item.project.slug)) : null;
  const creators = (item.creators || (item.creator ? [item.creator] : [])).map((c) => (typeof c === "string" ? c : c.name)).filter(Boolean);
  return [
    h("div", { class: "hit-title" }, badge, " ", title, where),
    item.description ? h("p", { class: "hit-description" }, item.description) : null,
    h("p", { class: "muted hit-meta" }, [...meta, creators.length ? "by " + creators.join(", ") : ""].filter(Boolean).join(" · ")),
  ];
}
