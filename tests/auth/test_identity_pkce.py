"""The Keycloak stand-in's authorisation code flow with PKCE, driven as a browser would (plain
HTTP, no browser): its tokens are accepted by a real `kg serve`, its refusals are Keycloak's."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.keycloak_login import s256
from tests.fixtures.servers import KgServer, kg_ingest

APP = "http://127.0.0.1:8000"  # a page origin the realm does not know until a test says so
REDIRECT = f"{APP}/explore/signed-in"


def verifier() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def authorize_url(identity: IdentityServer, code_verifier: str, **more: str) -> str:
    params = {
        "response_type": "code",
        "client_id": "kg-explorer",
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s-123",
        "code_challenge": s256(code_verifier),
        "code_challenge_method": "S256",
        **more,
    }
    endpoint = httpx.get(f"{identity.issuer}/.well-known/openid-configuration").json()[
        "authorization_endpoint"
    ]
    return f"{endpoint}?{urlencode(params)}"


def submit(http: httpx.Client, form_page: httpx.Response, username: str, password: str) -> httpx.Response:
    """Fill in and post the login form, as a browser would."""
    action = re.search(r'<form id="kc-form-login" action="([^"]+)"', form_page.text)
    assert action is not None, form_page.text
    target = urljoin(str(form_page.url), action.group(1).replace("&amp;", "&"))
    return http.post(target, data={"username": username, "password": password, "login": ""})


def code_of(http: httpx.Client, identity: IdentityServer, code_verifier: str, **more: str) -> str:
    """Sign in as ann and return the code the realm redirects back with."""
    done = submit(http, http.get(authorize_url(identity, code_verifier, **more)), "ann", "ann-secret")
    assert done.status_code == 302, done.text
    query = parse_qs(urlsplit(done.headers["location"]).query)
    return query["code"][0]


def exchange(
    identity: IdentityServer, code: str, code_verifier: str | None, origin: str = APP, **more: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "kg-explorer",
        **({"code_verifier": code_verifier} if code_verifier is not None else {}),
        **more,
    }
    return httpx.post(
        f"{identity.issuer}/protocol/openid-connect/token", data=form, headers={"Origin": origin}
    )


@pytest.fixture
def realm(identity: IdentityServer) -> IdentityServer:
    """The realm with ann and the explorer's client, whose page is at APP."""
    identity.register_user("ann", "ann-secret", sub="7", name="Ann Example", email="ann@example.org")
    identity.register_client("kg-explorer", redirect_uris=[REDIRECT], web_origins=[APP])
    return identity


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """What the browser does: get pages and post forms, not following redirects."""
    with httpx.Client(timeout=10) as client:
        yield client


def test_signing_in_gives_a_token_kg_accepts(identity: IdentityServer, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.commit({"README.md": "secret\n"}, "start")
    kg_ingest(tmp_path / "kg", repo.path, "g/secret", "private", "7")
    kg = KgServer(tmp_path / "kg", {"KG_OIDC_ISSUER": identity.issuer, "KG_OIDC_AUDIENCE": "kg"})
    try:
        # kg's URL is known only now: the redirect URI and web origin are registered after it started
        identity.register_user("ann", "ann-secret", sub="7", name="Ann Example", email="ann@example.org")
        redirect = f"{kg.url}/explore/signed-in"
        identity.register_client("kg-explorer", redirect_uris=[redirect], web_origins=[kg.url])
        discovery = httpx.get(f"{identity.issuer}/.well-known/openid-configuration").json()
        assert discovery["code_challenge_methods_supported"] == ["S256"]
        assert {"authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"} <= set(
            discovery
        )
        code_verifier = verifier()
        params = {
            "response_type": "code",
            "client_id": "kg-explorer",
            "redirect_uri": redirect,
            "scope": "openid",
            "state": "xyz",
            "nonce": "n-1",
            "code_challenge": s256(code_verifier),
            "code_challenge_method": "S256",
        }
        with httpx.Client(timeout=10) as browser:
            form = browser.get(discovery["authorization_endpoint"], params=params)
            assert form.status_code == 200
            assert '<label for="username">' in form.text and '<label for="password">' in form.text
            assert 'type="submit"' in form.text
            wrong = submit(browser, form, "ann", "not-her-password")
            assert wrong.status_code == 200 and "Invalid username or password." in wrong.text
            done = submit(browser, wrong, "ann@example.org", "ann-secret")  # by email, as Keycloak lets
        assert done.status_code == 302
        back = urlsplit(done.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == redirect
        query = parse_qs(back.query)
        assert query["state"] == ["xyz"] and query["iss"] == [identity.issuer]
        answer = httpx.post(
            discovery["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": redirect,
                "client_id": "kg-explorer",
                "code_verifier": code_verifier,
            },
            headers={"Origin": kg.url},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == kg.url
        tokens = answer.json()
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
        keys = KeySet.import_key_set(httpx.get(discovery["jwks_uri"]).json())
        claims = jwt.decode(tokens["access_token"], keys).claims
        assert {k: claims[k] for k in ("sub", "aud", "iss", "azp", "preferred_username", "name")} == {
            "sub": "7",
            "aud": "kg",
            "iss": identity.issuer,
            "azp": "kg-explorer",
            "preferred_username": "ann",
            "name": "Ann Example",
        }
        identity_claims = jwt.decode(tokens["id_token"], keys).claims
        assert identity_claims["aud"] == "kg-explorer" and identity_claims["nonce"] == "n-1"
        with kg.client() as http:
            assert http.get("/knowledge-graph/projects/g/secret").status_code == 404
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            shown = http.get("/knowledge-graph/projects/g/secret", headers=bearer)
            assert shown.status_code == 200, shown.text
    finally:
        kg.stop()


CASES: dict[str, tuple[dict[str, Any], int, str, str]] = {
    # name: (how the exchange differs, status, error, error_description)
    "wrong verifier": (
        {"code_verifier": "w" * 43},
        400,
        "invalid_grant",
        "PKCE verification failed: Code mismatch",
    ),
    "no verifier": ({"code_verifier": None}, 400, "invalid_grant", "PKCE code verifier not specified"),
    "malformed verifier": ({"code_verifier": "short"}, 400, "invalid_grant", "PKCE invalid code verifier"),
    "other redirect_uri": (
        {"redirect_uri": f"{APP}/elsewhere"},
        400,
        "invalid_grant",
        "Incorrect redirect_uri",
    ),
    "unknown client": (
        {"client_id": "stranger"},
        401,
        "invalid_client",
        "Invalid client or Invalid client credentials",
    ),
    "other grant type": ({"grant_type": "password"}, 400, "unsupported_grant_type", "Unsupported grant_type"),
    "made-up code": ({"code": "a.b.c"}, 400, "invalid_grant", "Code not valid"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_exchanges_are_refused_as_keycloak_does(
    realm: IdentityServer, http: httpx.Client, case: str
) -> None:
    change, status, error, description = CASES[case]
    code_verifier = verifier()
    code = code_of(http, realm, code_verifier)
    form = {"code": code, "code_verifier": code_verifier, **change}
    answer = exchange(realm, form.pop("code"), form.pop("code_verifier"), **form)
    assert answer.status_code == status
    assert answer.json() == {"error": error, "error_description": description}
    again = exchange(realm, code, code_verifier)
    if error == "invalid_grant" and "code" not in change:  # the code was looked at: used up
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    else:  # refused before the code was read: it still works
        assert again.status_code == 200


def test_a_code_buys_one_token_and_only_while_fresh(realm: IdentityServer, http: httpx.Client) -> None:
    code_verifier = verifier()
    code = code_of(http, realm, code_verifier)
    assert exchange(realm, code, code_verifier).status_code == 200
    reused = exchange(realm, code, code_verifier)
    assert (reused.status_code, reused.json()["error_description"]) == (400, "Code not valid")
    realm.login.code_seconds = -1  # codes from now on are born expired
    late = code_of(http, realm, code_verifier)
    expired = exchange(realm, late, code_verifier)
    assert (expired.status_code, expired.json()["error_description"]) == (400, "Code is expired")


def test_a_code_is_only_for_the_client_it_was_issued_to(realm: IdentityServer, http: httpx.Client) -> None:
    realm.register_client("other-app", redirect_uris=[REDIRECT])
    code_verifier = verifier()
    code = code_of(http, realm, code_verifier)
    answer = exchange(realm, code, code_verifier, client_id="other-app")
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_the_login_page_refuses_unknown_clients_and_redirects(
    realm: IdentityServer, http: httpx.Client
) -> None:
    unknown = http.get(authorize_url(realm, verifier(), client_id="stranger"))
    assert unknown.status_code == 400 and "Client not found." in unknown.text
    elsewhere = http.get(authorize_url(realm, verifier(), redirect_uri="http://127.0.0.1:9/steal"))
    assert elsewhere.status_code == 400 and "Invalid parameter: redirect_uri" in elsewhere.text
    plain = http.get(authorize_url(realm, verifier(), code_challenge_method="plain"))
    assert plain.status_code == 302
    query = parse_qs(urlsplit(plain.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s-123"]


def test_prefix_redirect_uris_and_sign_out(realm: IdentityServer, http: httpx.Client) -> None:
    realm.register_client("kg-explorer", redirect_uris=[f"{APP}/explore/*"])
    code_verifier = verifier()
    assert code_of(http, realm, code_verifier)
    endpoint = httpx.get(f"{realm.issuer}/.well-known/openid-configuration").json()["end_session_endpoint"]
    back = f"{APP}/explore/"
    out = httpx.get(
        endpoint, params={"client_id": "kg-explorer", "post_logout_redirect_uri": back, "state": "q"}
    )
    assert (out.status_code, out.headers["location"]) == (302, f"{back}?state=q")
    refused = httpx.get(
        endpoint, params={"client_id": "kg-explorer", "post_logout_redirect_uri": "http://x.test/"}
    )
    assert refused.status_code == 400
    plain = httpx.get(endpoint)
    assert plain.status_code == 200 and "You are logged out" in plain.text


@pytest.mark.parametrize(
    "path",
    ["/.well-known/openid-configuration", "/protocol/openid-connect/certs", "/protocol/openid-connect/token"],
)
def test_cors_only_for_registered_web_origins(realm: IdentityServer, path: str) -> None:
    url = f"{realm.issuer}{path}"
    for page, allowed in ((APP, True), ("http://127.0.0.1:8001", False), ("https://evil.test", False)):
        preflight = httpx.options(
            url,
            headers={
                "Origin": page,
                "Access-Control-Request-Method": "POST" if path.endswith("token") else "GET",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers.get("access-control-allow-origin") == (page if allowed else None)
        if allowed:
            assert "POST" in preflight.headers["access-control-allow-methods"]
            assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
        if path.endswith("token"):
            answer = exchange(realm, "made.up.code", verifier(), origin=page)
            assert answer.status_code == 400
        else:
            answer = httpx.get(url, headers={"Origin": page})
            assert answer.status_code == 200
        assert answer.headers.get("access-control-allow-origin") == (page if allowed else None)
