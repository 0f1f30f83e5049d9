"""From request headers to an `Access`: bearer JWT → OIDC; other tokens → GitLab; none → anonymous."""

from __future__ import annotations

from collections.abc import Mapping

from kg.access import Access
from kg.auth.gitlab import GitLabUsers
from kg.auth.oidc import OidcVerifier
from kg.errors import Unauthorized


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


class Callers:
    """Identifies callers; an invalid token is `Unauthorized`, no token is anonymous."""

    def __init__(self, oidc: OidcVerifier | None, gitlab: GitLabUsers | None) -> None:
        self.oidc = oidc
        self.gitlab = gitlab

    def identify(self, headers: Mapping[str, str], source: str | None = None) -> Access:
        """The caller of a request with these headers, from the client address `source`."""
        authorization = headers.get("authorization", "")
        private = headers.get("private-token", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized()
            token = token.strip()
            if _looks_like_jwt(token) and self.oidc is not None:
                return Access(self.oidc.user(token))
            if self.gitlab is not None:
                return Access(self.gitlab.user(token, bearer=True, source=source))
            raise Unauthorized()
        if private:
            if self.gitlab is None:
                raise Unauthorized()
            return Access(self.gitlab.user(private.strip(), bearer=False, source=source))
        return Access()
