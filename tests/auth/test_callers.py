"""Identifying callers: Keycloak JWTs checked against the realm's JWKS, GitLab tokens against GitLab."""

from __future__ import annotations

import pytest
from joserfc.jwk import RSAKey

from kg.auth.callers import Callers
from kg.auth.gitlab import GitLabUsers
from kg.auth.oidc import OidcVerifier
from kg.errors import Unauthorized
from tests.fixtures.identity import IdentityServer


@pytest.fixture
def callers(identity: IdentityServer) -> Callers:
    return Callers(OidcVerifier(identity.issuer, "kg", refetch_interval=0), GitLabUsers(identity.url, ttl=60))


def test_a_valid_jwt_names_its_user(callers: Callers, identity: IdentityServer) -> None:
    access = callers.identify({"authorization": f"Bearer {identity.token('42')}"})
    assert access.user == "42"
    assert callers.identify({}).user is None


@pytest.mark.parametrize(
    "make",
    [
        lambda s: s.token("42", expires_in=-120),
        lambda s: s.token("42", audience="another-client"),
        lambda s: s.token("42", issuer="http://127.0.0.1:1/realms/evil"),
        lambda s: s.token("42", key=RSAKey.generate_key(2048, parameters={"kid": "key-1"})),
        lambda s: s.token("42")[:-5] + "AAAAA",
        lambda s: "eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiJ9.",
    ],
    ids=["expired", "audience", "issuer", "forged", "tampered", "alg-none"],
)
def test_invalid_jwts_are_refused(callers: Callers, identity: IdentityServer, make: object) -> None:
    with pytest.raises(Unauthorized):
        callers.identify({"authorization": f"Bearer {make(identity)}"})  # type: ignore[operator]


def test_keys_are_cached_and_refetched_for_a_new_kid(callers: Callers, identity: IdentityServer) -> None:
    certs = "/realms/kg/protocol/openid-connect/certs"
    for _ in range(3):
        callers.identify({"authorization": f"Bearer {identity.token('1')}"})
    assert identity.hits[certs] == 1
    new = identity.rotate()
    assert callers.identify({"authorization": f"Bearer {identity.token('2', key=new)}"}).user == "2"
    assert identity.hits[certs] == 2


def test_gitlab_tokens_are_checked_once_per_ttl(callers: Callers, identity: IdentityServer) -> None:
    identity.gitlab_user("glpat-good", 7)
    for headers in ({"private-token": "glpat-good"}, {"authorization": "Bearer glpat-good"}):
        assert callers.identify(headers).user == "7"
    assert identity.hits["/api/v4/user"] == 1
    with pytest.raises(Unauthorized):
        callers.identify({"private-token": "glpat-wrong"})
    with pytest.raises(Unauthorized):
        callers.identify({"private-token": "glpat-wrong"})
    assert identity.hits["/api/v4/user"] == 2  # the refusal is cached too


@pytest.mark.parametrize("header", [{"authorization": "Basic dTpw"}, {"authorization": "Bearer "}])
def test_malformed_authorization_is_refused(callers: Callers, header: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        callers.identify(header)
