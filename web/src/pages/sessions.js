// The caller's sessions: where each runs, its project and commit, its state; stop one.
import { getJSON, request } from "../api.js";
import { token } from "../auth.js";
import { clear, errorBox, h, link, routes, when, put } from "../dom.js";

export async function render(root) {
  put(root, h("h1", {}, "Your sessions"));
  if (!token()) {
    put(root, h("p", {}, "Sign in to see your sessions."));
    return;
  }
  const table = h("div");
  put(root, table);
  const draw = async () => {
    try {
      const sessions = await getJSON("/sessions");
      clear(table);
      if (!sessions.length) return put(table, h("p", { class: "muted" }, "No sessions. Start one from a project, file or lineage page."));
      put(table, h("table", { class: "data" },
        h("caption", { class: "visually-hidden" }, "Your sessions"),
        h("thead", {}, h("tr", {}, ["Session", "Project", "Commit", "Started", "State", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, sessions.map((s) => h("tr", {},
          h("td", {}, h("a", { href: s.url, target: "_blank", rel: "noopener" }, s.name)),
          h("td", {}, link(routes.project(s.project), s.project)),
          h("td", {}, h("code", {}, s.commit_sha.slice(0, 12))),
          h("td", {}, when(s.started)),
          h("td", {}, s.status.state, s.status.message ? h("span", { class: "muted" }, ` ${s.status.message}`) : null),
          h("td", {}, h("button", { type: "button", "aria-label": `Stop ${s.name}`, onclick: async (e) => {
            e.target.disabled = true;
            try { await request("/sessions/" + encodeURIComponent(s.name), { method: "DELETE" }); } catch (error) { table.prepend(errorBox(error)); }
            draw();
          } }, "Stop")))))));
    } catch (error) {
      put(clear(table), errorBox(error));
    }
  };
  await draw();
}
