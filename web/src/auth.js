// Sign-in with the configured OIDC provider: authorisation code flow with PKCE (RFC 7636),
// done by the browser as a public client. The access token lives in sessionStorage (this tab
// only) and is sent to kg as a bearer token.
const KEY = "kg.token";
const PENDING = "kg.signin";
const EXPIRED = "kg.expired";

export function token() {
  const saved = readJSON(sessionStorage.getItem(KEY));
  if (!saved) return null;
  if (saved.expiresAt < Date.now() / 1000) {  // say so, rather than go on anonymously
    sessionStorage.removeItem(KEY);
    sessionStorage.setItem(EXPIRED, "1");
    window.dispatchEvent(new Event("kg-auth"));
    return null;
  }
  return saved.accessToken;
}

/** Seconds until the token expires (null: none). */
export function expiresIn() {
  const saved = readJSON(sessionStorage.getItem(KEY));
  return saved ? saved.expiresAt - Date.now() / 1000 : null;
}

/** Whether the last sign-in expired (shown once). */
export function expired() {
  const was = sessionStorage.getItem(EXPIRED) === "1";
  sessionStorage.removeItem(EXPIRED);
  return was;
}

/** Who is signed in (from the token's claims, for display only: kg verifies the token). */
export function user() {
  const bearer = token();
  if (!bearer) return null;
  const claims = readJSON(base64urlDecode(bearer.split(".")[1] || ""));
  return claims ? claims.name || claims.preferred_username || claims.sub : null;
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  window.dispatchEvent(new Event("kg-auth"));
}

async function discovery(config) {
  const issuer = config.oidc.issuer.replace(/\/$/, "");
  const response = await fetch(issuer + "/.well-known/openid-configuration");
  if (!response.ok) throw new Error(`The sign-in provider answered ${response.status}`);
  return response.json();
}

export async function signIn(config, returnTo) {
  const provider = await discovery(config);
  const verifier = randomString(48);
  const state = randomString(24);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(provider.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.oidc.clientId,
    redirect_uri: redirectUri(),
    scope: "openid profile",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

/** The provider sent the browser back with ?code&state: trade the code for a token. */
export async function finishSignIn(config, params) {
  const pending = readJSON(sessionStorage.getItem(PENDING));
  sessionStorage.removeItem(PENDING);
  if (params.get("error")) throw new Error(`Sign-in failed: ${params.get("error_description") || params.get("error")}`);
  if (!pending || pending.state !== params.get("state")) throw new Error("Sign-in failed: this answer is not for a sign-in started here.");
  const provider = await discovery(config);
  const response = await fetch(provider.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code") || "",
      redirect_uri: redirectUri(),
      client_id: config.oidc.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || !answer.access_token) {
    throw new Error(`Sign-in failed: ${answer.error_description || answer.error || response.status}`);
  }
  const expiresAt = Date.now() / 1000 + Number(answer.expires_in || 300);
  sessionStorage.setItem(KEY, JSON.stringify({ accessToken: answer.access_token, expiresAt }));
  window.dispatchEvent(new Event("kg-auth"));
  return pending.returnTo || "/";
}

export function redirectUri() {
  return window.location.origin + "/explore/signed-in";
}

function randomString(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64urlDecode(text) {
  try {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return decodeURIComponent(escape(atob(padded)));
  } catch {
    return "";
  }
}

function readJSON(text) {
  try { return text ? JSON.parse(text) : null; } catch { return null; }
}
