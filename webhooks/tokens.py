"""Per-project webhook tokens, derived from one server secret: no database lookup needed."""

from __future__ import annotations

import hashlib
import hmac


def hook_token(secret: str, project_id: int) -> str:
    """The token to put in GitLab's webhook form for one project.

    >>> hook_token("s", 1) == hook_token("s", 1) != hook_token("s", 2)
    True
    """
    message = f"gitlab-project:{project_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, project_id: int, token: str | None) -> bool:
    """Whether `token` is the project's token; compares in constant time."""
    if not token:
        return False
    return hmac.compare_digest(hook_token(secret, project_id).encode(), token.encode())
