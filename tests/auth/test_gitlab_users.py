"""GitLab token checks: remembered in a bounded cache, and at most N a minute per address."""

from __future__ import annotations

import pytest

from kg.auth.gitlab import GitLabUsers, TokenBuckets
from kg.errors import TooManyRequests, Unauthorized
from tests.fixtures.identity import IdentityServer


def test_a_bucket_refills_at_its_rate_and_forgets_the_oldest_keys() -> None:
    buckets = TokenBuckets(per_minute=60, size=2)
    assert [buckets.take("a", 0.0) for _ in range(60)] == [0.0] * 60
    assert buckets.take("a", 0.0) == pytest.approx(1.0)  # a token a second
    assert buckets.take("a", 2.0) == 0.0
    buckets.take("b", 2.0)
    buckets.take("c", 2.0)  # "a" forgotten: it starts full again
    assert [buckets.take("a", 2.0) for _ in range(60)] == [0.0] * 60


def test_lookups_are_limited_per_address_and_answers_cached(identity: IdentityServer) -> None:
    identity.gitlab_user("real", 7)
    users = GitLabUsers(identity.url, ttl=60, per_minute=3)
    assert users.user("real", bearer=False, source="1.1.1.1") == "7"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            users.user("made-up-" + str(_), bearer=False, source="1.1.1.1")
    with pytest.raises(TooManyRequests):
        users.user("made-up-again", bearer=False, source="1.1.1.1")
    assert users.user("real", bearer=False, source="1.1.1.1") == "7"  # cached: no lookup needed
    with pytest.raises(Unauthorized):
        users.user("made-up-0", bearer=False, source="1.1.1.1")  # refusals are cached too
    assert users.user("real", bearer=True, source="2.2.2.2") == "7"  # another address, its own budget
    assert identity.hits["/api/v4/user"] == 3


def test_the_cache_is_bounded(identity: IdentityServer) -> None:
    users = GitLabUsers(identity.url, ttl=60, per_minute=100, cache_size=5)
    for i in range(20):
        with pytest.raises(Unauthorized):
            users.user(f"t{i}", bearer=False)
    asked = identity.hits["/api/v4/user"]
    for i in (19, 15):  # the five newest are remembered
        with pytest.raises(Unauthorized):
            users.user(f"t{i}", bearer=False)
    assert identity.hits["/api/v4/user"] == asked
    with pytest.raises(Unauthorized):
        users.user("t0", bearer=False)  # the oldest was forgotten: asked again
    assert identity.hits["/api/v4/user"] == asked + 1


def test_an_oversized_token_is_refused_without_asking(identity: IdentityServer) -> None:
    users = GitLabUsers(identity.url, ttl=60)
    with pytest.raises(Unauthorized):
        users.user("x" * 100_000, bearer=False)
    assert identity.hits.get("/api/v4/user", 0) == 0
