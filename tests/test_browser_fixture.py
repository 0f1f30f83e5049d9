"""The browser fixtures (tests/fixtures/browser.py) work: Chromium loads local pages, the phone
variant is 390 px wide, console errors are gathered, screenshots are PNGs; and a page signs in
with the Keycloak stand-in's code flow and PKCE from a real browser, CORS included."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import SCREENSHOTS, save_screenshot, submit_login_form
from tests.fixtures.identity import IdentityServer

PLAIN = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Plain</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Hello from 127.0.0.1</h1><p id="width"></p>
<script>document.getElementById("width").textContent = String(window.innerWidth);</script></body></html>"""

BROKEN = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Broken</title></head>
<body><p>broken</p><script>console.error("something went wrong"); undefinedFunction();</script></body></html>"""

# A page doing the browser's part of the code flow with PKCE, as the explorer will.
APP = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>App</title></head>
<body><button id="sign-in" type="button">Sign in</button><p id="who"></p>
<script type="module">
const issuer = "ISSUER";
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const redirectUri = `${location.origin}/signed-in`;
if (location.pathname === "/signed-in") {
  const { verifier, state, tokenEndpoint } = JSON.parse(sessionStorage.getItem("pkce"));
  const params = new URLSearchParams(location.search);
  if (params.get("state") !== state) throw new Error("state mismatch");
  const answer = await fetch(tokenEndpoint, { method: "POST", body: new URLSearchParams({
    grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectUri,
    client_id: "kg-explorer", code_verifier: verifier }) });
  const tokens = await answer.json();
  const claims = JSON.parse(atob(tokens.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  document.getElementById("who").textContent = `Signed in as ${claims.name} (${claims.sub})`;
}
document.getElementById("sign-in").addEventListener("click", async () => {
  const config = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("pkce", JSON.stringify({ verifier, state, tokenEndpoint: config.token_endpoint }));
  location.assign(`${config.authorization_endpoint}?${new URLSearchParams({
    response_type: "code", client_id: "kg-explorer", redirect_uri: redirectUri, scope: "openid",
    state, code_challenge: b64url(new Uint8Array(digest)), code_challenge_method: "S256" })}`);
});
</script></body></html>"""


class PageServer:
    """Serves fixed HTML pages by path on 127.0.0.1."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = served.pages.get(self.path.split("?")[0])
                data = (body or "not found").encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site() -> Iterator[PageServer]:
    server = PageServer({"/plain": PLAIN, "/broken": BROKEN})
    yield server
    server.stop()


def test_a_local_page_is_read(page: Page, site: PageServer, console_errors: list[str]) -> None:
    page.goto(f"{site.url}/plain")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello from 127.0.0.1"
    assert page.locator("#width").inner_text() == "1280"
    assert console_errors == []


@pytest.mark.parametrize(("page", "width"), [("desktop", "1280"), ("phone", "390")], indirect=["page"])
def test_both_widths(page: Page, site: PageServer, width: str) -> None:
    page.goto(f"{site.url}/plain")
    assert page.locator("#width").inner_text() == width


def test_the_phone_page_is_390_px_wide(phone_page: Page, site: PageServer) -> None:
    phone_page.goto(f"{site.url}/plain")
    assert phone_page.locator("#width").inner_text() == "390"


def test_console_errors_and_uncaught_exceptions_are_gathered(
    page: Page, site: PageServer, console_errors: list[str]
) -> None:
    page.goto(f"{site.url}/broken")
    page.get_by_text("broken").wait_for()
    page.goto(f"{site.url}/missing")  # a 404 is a console error too
    assert any("something went wrong" in e for e in console_errors), console_errors
    assert any(e.startswith("uncaught ReferenceError") for e in console_errors), console_errors
    assert any("404" in e for e in console_errors), console_errors


def test_screenshots_are_pngs_under_test_artifacts(page: Page, site: PageServer) -> None:
    page.goto(f"{site.url}/plain")
    path = save_screenshot(page, "test_screenshots[odd name/with spaces]")
    assert path == SCREENSHOTS / "test_screenshots_odd_name_with_spaces.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOTS.parts[-2:] == ("test-artifacts", "screenshots")


def test_a_page_signs_in_with_the_code_flow(
    page: Page, identity: IdentityServer, console_errors: list[str]
) -> None:
    app = PageServer({})
    try:
        app.pages.update(
            {
                "/": APP.replace("ISSUER", identity.issuer),
                "/signed-in": APP.replace("ISSUER", identity.issuer),
            }
        )
        identity.register_user("ann", "ann-secret", sub="7", name="Ann Example")
        identity.register_client("kg-explorer", redirect_uris=[f"{app.url}/signed-in"], web_origins=[app.url])
        page.goto(f"{app.url}/")
        page.get_by_role("button", name="Sign in").click()
        submit_login_form(page, "ann", "wrong")
        expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
        expect(page.get_by_label("Username or email")).to_have_value("ann")
        submit_login_form(page, "ann", "ann-secret")
        page.wait_for_url(f"{app.url}/signed-in?*")
        expect(page.locator("#who")).to_have_text("Signed in as Ann Example (7)")
        assert console_errors == []
    finally:
        app.stop()


def test_a_page_from_an_unregistered_origin_is_refused_by_cors(
    page: Page, identity: IdentityServer, console_errors: list[str]
) -> None:
    app = PageServer({})
    try:
        app.pages["/"] = APP.replace("ISSUER", identity.issuer)
        identity.register_client("kg-explorer", redirect_uris=["http://127.0.0.1:1/signed-in"])
        page.goto(f"{app.url}/")
        with page.expect_console_message(lambda message: "CORS policy" in message.text):
            page.get_by_role("button", name="Sign in").click()
        assert any("CORS policy" in e for e in console_errors), console_errors
        assert page.url == f"{app.url}/"
    finally:
        app.stop()
