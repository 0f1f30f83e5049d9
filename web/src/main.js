// The explorer's shell: a router over the History API (every view has a URL that survives a
// reload, since kg serves index.html for every /explore/ path), and the account corner.
import { explorerConfig } from "./api.js";
import { expired, expiresIn, finishSignIn, signIn, signOut, token, user } from "./auth.js";
import { clear, errorBox, h, put } from "./dom.js";
import * as dataset from "./pages/dataset.js";
import * as lineage from "./pages/lineage.js";
import * as project from "./pages/project.js";
import * as search from "./pages/search.js";
import * as sessions from "./pages/sessions.js";
import * as sparql from "./pages/sparql.js";

const pages = [
  [/^\/(explore\/?)?$/, search],
  [/^\/explore\/search$/, search],
  [/^\/explore\/projects\/(.+)$/, project],
  [/^\/explore\/datasets\/([^/]+)$/, dataset],
  [/^\/explore\/lineage$/, lineage],
  [/^\/explore\/sparql$/, sparql],
  [/^\/explore\/sessions$/, sessions],
];

let current = null;

async function show() {
  const main = document.getElementById("main");
  const { pathname, search: text } = window.location;
  const params = new URLSearchParams(text);
  if (current && current.leave) current.leave();
  current = null;
  clear(main);
  try {
    const config = await explorerConfig();
    if (pathname === "/explore/signed-in") {
      const next = await finishSignIn(config, params);
      navigate(next, { replace: true });
      return;
    }
    for (const [pattern, page] of pages) {
      const match = pattern.exec(pathname);
      if (match) {
        current = page;
        const args = match.slice(1).filter((m) => m !== undefined).map(decodePath);
        await page.render(main, { params, args, config });
        return;
      }
    }
    put(main, h("h1", {}, "Not found"), h("p", {}, "No page here. ", h("a", { href: "/", "data-route": true }, "Search")));
  } catch (error) {
    put(main, errorBox(error));
  }
}

function decodePath(part) {
  try {
    return part.split("/").map(decodeURIComponent).join("/");
  } catch {
    return "\u0000";  // a malformed escape: no page has this name, so it is "Not found"
  }
}

/** Go to an explorer URL without reloading the page. */
export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  show().then(() => document.getElementById("main").focus({ preventScroll: true }));
}

let expiry = null;

async function account() {
  const corner = clear(document.getElementById("account"));
  const config = await explorerConfig();
  clearTimeout(expiry);
  const left = expiresIn();
  if (left !== null) expiry = setTimeout(() => token(), Math.max(0, left * 1000) + 100);  // signs out at expiry
  document.getElementById("nav-sessions").hidden = !(config.sessions && user());
  const name = user();
  if (name) {
    put(corner, h("span", { class: "who" }, `Signed in as ${name}`), " ", h("button", { type: "button", onclick: () => { signOut(); show(); } }, "Sign out"));
  } else if (config.oidc) {
    const back = window.location.pathname + window.location.search;
    put(corner, h("button", { type: "button", onclick: () => signIn(config, back).catch((e) => alert(e.message)) }, "Sign in"));
  }
}

document.addEventListener("click", (event) => {
  const a = event.target.closest && event.target.closest("a[data-route]");
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", show);
window.addEventListener("kg-auth", account);
window.kgExplorer = { navigate };
account();
show();
