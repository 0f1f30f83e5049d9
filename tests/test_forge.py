"""kg's GitLab client (python-gitlab) against GitLab's REST API as documented."""

from __future__ import annotations

import pytest

from kg.errors import Forbidden, NotFound, Unauthorized
from kg.forge import GitLab, ProjectAccess
from tests.fixtures.identity import IdentityServer


@pytest.fixture
def gitlab_world(identity: IdentityServer) -> IdentityServer:
    identity.gitlab_user("kg-admin", 1)
    identity.admins.add(1)
    identity.gitlab_user("maintainer", 7)
    identity.gitlab_user("reader", 8)
    identity.gitlab_project(42, "climate/rain", "private", {7: 40, 8: 20, 9: 50})
    return identity


def test_visibility_and_members(gitlab_world: IdentityServer) -> None:
    access = GitLab(gitlab_world.url, "kg-admin").access(42)
    assert access == ProjectAccess("private", (("7", 40), ("8", 20), ("9", 50)))
    with pytest.raises(NotFound):
        GitLab(gitlab_world.url, "kg-admin").access(404)
    with pytest.raises(Unauthorized):
        GitLab(gitlab_world.url, "wrong").access(42)


def test_hooks_need_a_maintainer(gitlab_world: IdentityServer) -> None:
    maintainer = GitLab(gitlab_world.url, "maintainer")
    assert maintainer.ensure_hook(42, "http://kg.test/webhooks/events", "secret") is True
    assert maintainer.ensure_hook(42, "http://kg.test/webhooks/events", "secret") is False
    assert gitlab_world.hooks[42][0]["token"] == "secret"
    assert gitlab_world.hooks[42][0]["push_events"] is True
    assert maintainer.has_hook(42, "http://kg.test/webhooks/events")
    with pytest.raises(Forbidden):
        GitLab(gitlab_world.url, "reader").ensure_hook(42, "http://kg.test/webhooks/events", "s")
    assert maintainer.remove_hook(42, "http://kg.test/webhooks/events") is True
    assert maintainer.remove_hook(42, "http://kg.test/webhooks/events") is False
    assert gitlab_world.hooks[42] == []
