"""Checking GitLab tokens with GitLab's `GET /api/v4/user`, cached briefly and rate-limited.

renku-graph asked GitLab on every request; kg remembers an answer for `ttl` seconds, keyed
by a hash of the token (the token itself is never kept), in a cache of bounded size. Every
miss costs a call to GitLab, so each client address may cause at most `per_minute` of them:
a stranger cycling made-up tokens is told to slow down (429) instead of making kg hammer
GitLab.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

import httpx

from kg import metrics
from kg.errors import TooManyRequests, Unauthorized

CACHE_SIZE = 10_000
ADDRESSES = 10_000
MAX_TOKEN = 4096


class TokenBuckets:
    """A token bucket per key (client address), refilling `per_minute` a minute; the least
    recently seen keys are forgotten past `size` (a forgotten key starts full)."""

    def __init__(self, per_minute: int, size: int = ADDRESSES) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.size = size
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float) -> float:
        """Take one token for `key`: 0.0 if there was one, else the seconds until there is."""
        level, then = self._buckets.pop(key, (self.capacity, now))
        level = min(self.capacity, level + (now - then) * self.rate)
        wait = 0.0 if level >= 1 else (1 - level) / self.rate
        self._buckets[key] = (level - 1 if level >= 1 else level, now)
        if len(self._buckets) > self.size:
            self._buckets.popitem(last=False)
        return wait


class GitLabUsers:
    """Maps a GitLab token to its user id."""

    def __init__(
        self,
        base_url: str,
        ttl: float = 60.0,
        client: httpx.Client | None = None,
        *,
        per_minute: int = 60,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self._client = client or httpx.Client(timeout=10)
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._lookups = TokenBuckets(per_minute)
        self.cache_size = cache_size
        self._lock = threading.Lock()

    def user(self, token: str, *, bearer: bool, source: str | None = None) -> str:
        """The user id; `Unauthorized` when GitLab does not know the token, `TooManyRequests`
        when `source` (the client's address) has asked GitLab too often."""
        if len(token) > MAX_TOKEN:
            raise Unauthorized()
        key = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < self.ttl:
                self._cache.move_to_end(key)
                if cached[1] is None:
                    raise Unauthorized()
                return cached[1]
            wait = self._lookups.take(source or "?", now)
        if wait:
            raise TooManyRequests("too many token checks from this address; try again later", wait)
        header = {"Authorization": f"Bearer {token}"} if bearer else {"PRIVATE-TOKEN": token}
        try:
            response = self._client.get(f"{self.base_url}/api/v4/user", headers=header)
            user = str(response.json()["id"]) if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            metrics.IDENTITY_ERRORS.labels("gitlab").inc()
            raise Unauthorized() from exc
        if response.status_code not in (200, 401, 403):
            metrics.IDENTITY_ERRORS.labels("gitlab").inc()
            raise Unauthorized()  # GitLab trouble: do not cache
        with self._lock:
            self._cache[key] = (now, user)
            self._cache.move_to_end(key)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        if user is None:
            raise Unauthorized()
        return user
