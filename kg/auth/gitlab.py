"""Checking GitLab tokens with GitLab's `GET /api/v4/user`, cached briefly.

renku-graph asked GitLab on every request; kg remembers an answer for `ttl` seconds,
keyed by a hash of the token (the token itself is never kept).
"""

from __future__ import annotations

import hashlib
import threading
import time

import httpx

from kg.errors import Unauthorized


class GitLabUsers:
    """Maps a GitLab token to its user id."""

    def __init__(self, base_url: str, ttl: float = 60.0, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self._client = client or httpx.Client(timeout=10)
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def user(self, token: str, *, bearer: bool) -> str:
        """The user id; raises `Unauthorized` when GitLab does not know the token."""
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            if cached[1] is None:
                raise Unauthorized()
            return cached[1]
        header = {"Authorization": f"Bearer {token}"} if bearer else {"PRIVATE-TOKEN": token}
        try:
            response = self._client.get(f"{self.base_url}/api/v4/user", headers=header)
        except httpx.HTTPError as exc:
            raise Unauthorized() from exc
        user = str(response.json()["id"]) if response.status_code == 200 else None
        if response.status_code not in (200, 401, 403):
            raise Unauthorized()  # GitLab trouble: do not cache
        with self._lock:
            self._cache[key] = (now, user)
        if user is None:
            raise Unauthorized()
        return user
