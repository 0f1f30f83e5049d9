// kg's REST API as the explorer calls it: same origin, the signed-in user's token if any,
// problem+json errors turned into ApiError.
import { token, signOut } from "./auth.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || "";
  }
}

const RETRIES = 3;  // a 429 (this caller's queries are busy) is tried again after Retry-After

export async function request(url, options = {}) {
  const headers = new Headers(options.headers || {});
  const bearer = token();
  if (bearer) headers.set("Authorization", `Bearer ${bearer}`);
  let response = await fetch(url, { ...options, headers });
  for (let attempt = 1; response.status === 429 && attempt <= RETRIES; attempt++) {
    const wait = Math.min(5, Number(response.headers.get("Retry-After")) || attempt);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    response = await fetch(url, { ...options, headers });
  }
  if (response.status === 401 && bearer) signOut();  // expired or revoked: show it signed out
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not JSON: keep the status */ }
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function getJSON(url) {
  return (await request(url, { headers: { Accept: "application/json" } })).json();
}

export function kgPath(...parts) {
  return parts.map((p) => p.split("/").map(encodeURIComponent).join("/")).join("/");
}

/** The explorer's settings from kg: OIDC issuer and client, whether sessions exist. */
let config;
export async function explorerConfig() {
  config ??= fetch("/explore/config.json").then((r) => r.json());
  return config;
}
