// A tiny element builder: every string becomes a text node, never HTML, so data from the
// graph (labels, commands, names) cannot inject markup.

/** h("a", {href: "/x", class: "c", onclick: f}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A link handled by the explorer's router (no page reload). */
export function link(href, ...children) {
  return h("a", { href, "data-route": true }, ...children);
}

export function announce(text) {
  const el = document.getElementById("announce");
  if (el) el.textContent = text;
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

const TITLES = {
  NotFound: "Not found.",
  "Not Found": "Not found.",
  TooManyRequests: "Too many requests at once; try again in a moment.",
  QueryTimeout: "The query took too long.",
  InvalidInput: "That input is not valid.",
  Unauthorized: "Sign in first.",
  Forbidden: "Not allowed.",
  Unavailable: "kg cannot answer right now.",
};

/** An error as a sentence: kg's problem titles are type names ("NotFound"). */
export function errorBox(error) {
  const raw = error.title || "Error";
  const title = TITLES[raw] || raw.replace(/([a-z])([A-Z])/g, "$1 $2");
  const detail = error.detail || error.message || "";
  return h("div", { class: "error", role: "alert" }, h("strong", {}, title), " ", detail === raw ? "" : detail);
}

/** Paths for the explorer's own pages (deep links that survive a reload). */
export const routes = {
  search: (params = {}) => "/explore/search" + query(params),
  project: (slug) => "/explore/projects/" + slug.split("/").map(encodeURIComponent).join("/"),
  dataset: (id) => "/explore/datasets/" + encodeURIComponent(id),
  lineage: (project, file, extra = {}) => "/explore/lineage" + query({ project, file, ...extra }),
  sparql: (params = {}) => "/explore/sparql" + query(params),
};

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined && v !== null && v !== "") search.append(key, v);
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

/** Append children, skipping null/false (Element.append would write "null"). */
export function put(el, ...children) {
  return append(el, children);
}

/** A term and its value for a <dl>, or nothing when there is no value. */
export function fact(term, value) {
  return value ? [h("dt", {}, term), h("dd", {}, value)] : null;
}

/** Hand `blob` to the browser as a download called `name`. */
export function saveBlob(blob, name) {
  const a = h("a", { href: URL.createObjectURL(blob), download: name });
  put(document.body, a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
