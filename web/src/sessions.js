// "Open in a session": starts (or finds) the caller's session of a project at a commit, from
// the `session` link kg puts on project and lineage answers, then opens it.
import { request } from "./api.js";
import { token } from "./auth.js";
import { h } from "./dom.js";

const OPENABLE = /^[A-Za-z0-9._~/-]+$/;  // what POST /sessions takes as default_url

export function sessionButton(link, label, file) {
  const status = h("span", { class: "session-status", role: "status" });
  const button = h("button", { type: "button", class: "session-button", title: `commit ${link.body.commit_sha}` }, label);
  button.addEventListener("click", async () => {
    if (!token()) {
      status.textContent = "Sign in to start a session.";
      return;
    }
    button.disabled = true;
    status.textContent = "Starting…";
    const body = { ...link.body };
    if (file && OPENABLE.test(file)) body.default_url = `/lab/tree/${file}`;
    try {
      const response = await request(link.href, {
        method: link.method,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const session = await response.json();
      status.replaceChildren("Session ", h("a", { href: session.url, target: "_blank", rel: "noopener" }, session.name), ` (${session.status.state})`);
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "session" }, button, " ", status);
}
