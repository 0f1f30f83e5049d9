"""Verifying OIDC access tokens (JWTs) against the issuer's keys, as Keycloak publishes them.

The discovery document and the JWKS are fetched once and cached by key id; a token signed
with a key id not seen yet makes the JWKS be fetched again (at most once a minute), which
is how key rotation reaches us.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kg import metrics
from kg.errors import Unauthorized

# A token with an unknown key id refetches the JWKS at most this often: rotation is seen
# quickly, and a flood of made-up key ids cannot make us hammer the issuer.
REFETCH_INTERVAL = 10.0
MAX_TOKEN = 16 * 1024


class OidcVerifier:
    """Checks signature, issuer, audience and expiry; returns the user id claim."""

    def __init__(
        self,
        issuer: str,
        audience: str | None,
        user_claim: str = "sub",
        client: httpx.Client | None = None,
        refetch_interval: float = REFETCH_INTERVAL,
    ) -> None:
        self.refetch_interval = refetch_interval
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.user_claim = user_claim
        self._client = client or httpx.Client(timeout=10)
        self._keys: KeySet | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    def _jwks_uri(self) -> str:
        response = self._client.get(f"{self.issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        uri: str = response.json()["jwks_uri"]
        return uri

    def _refresh(self) -> KeySet:
        with self._lock:
            if self._keys is None or time.monotonic() - self._fetched >= self.refetch_interval:
                response = self._client.get(self._jwks_uri())
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
                self._fetched = time.monotonic()
            return self._keys

    def _key_ids(self) -> set[str]:
        return {str(k.kid) for k in self._keys.keys} if self._keys else set()

    def user(self, token: str) -> str:
        """The token's user id; raises `Unauthorized` for anything not valid now."""
        if len(token) > MAX_TOKEN:
            raise Unauthorized()
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise Unauthorized() from exc
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthorized()  # a key id is a string; anything else is not Keycloak's
        if self._keys is None or kid not in self._key_ids():
            try:
                self._refresh()
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                metrics.IDENTITY_ERRORS.labels("oidc").inc()
                raise Unauthorized() from exc
        assert self._keys is not None
        try:
            decoded = jwt.decode(token, self._keys, algorithms=["RS256", "RS384", "RS512", "ES256", "PS256"])
            claims: dict[str, Any] = {
                "iss": {"essential": True, "value": self.issuer},
                "exp": {"essential": True},
            }
            if self.audience:
                claims["aud"] = {"essential": True, "value": self.audience}
            jwt.JWTClaimsRegistry(leeway=30, **claims).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthorized() from exc
        user = decoded.claims.get(self.user_claim)
        if user in (None, ""):
            raise Unauthorized()
        return str(user)
