"""Webhook management through GitLab with the caller's token; stored tokens are encrypted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.auth.vault import open_vault
from kg.config import Settings
from kg.events.sqlite import SqliteEventLog
from tests.fixtures.identity import IdentityServer
from webhooks.tokens import hook_token


@pytest.fixture
def app_settings(settings: Settings, identity: IdentityServer) -> Settings:
    identity.gitlab_user("glpat-maintainer", 7)
    identity.gitlab_user("glpat-reader", 8)
    identity.gitlab_project(42, "climate/rain", "private", {7: 40, 8: 20})
    return settings.model_copy(
        update={
            "worker_enabled": False,
            "sparql_workers": 1,
            "gitlab_url": identity.url,
            "public_url": "https://kg.example",
        }
    )


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings)) as c:
        yield c


def test_create_validate_delete(client: TestClient, identity: IdentityServer, app_settings: Settings) -> None:
    maintainer = {"PRIVATE-TOKEN": "glpat-maintainer"}
    created = client.post("/projects/42/webhooks", headers=maintainer)
    assert (created.status_code, created.json()) == (201, {"message": "Hook created"})
    hook = identity.hooks[42][0]
    assert hook["url"] == "https://kg.example/webhooks/events"
    assert hook["token"] == hook_token("test-hook-secret", 42)
    again = client.post("/projects/42/webhooks", headers=maintainer)
    assert (again.status_code, again.json()) == (200, {"message": "Hook already existed"})
    assert len(identity.hooks[42]) == 1
    # the first ingest is scheduled, for the project GitLab describes
    job = SqliteEventLog(app_settings.event_log_path).claim("t", 10)
    assert job is not None and job.path == "climate/rain" and job.visibility == "private"
    # the caller's token is kept to fetch the repository, encrypted
    vault = open_vault(app_settings)
    assert vault.get(42) == "glpat-maintainer"
    assert b"glpat-maintainer" not in (app_settings.data_dir / "tokens.sqlite").read_bytes()
    assert client.post("/projects/42/webhooks/validation", headers=maintainer).json() == {
        "message": "Hook valid"
    }
    assert client.delete("/projects/42/webhooks", headers=maintainer).json() == {"message": "Hook deleted"}
    assert vault.get(42) is None
    assert client.post("/projects/42/webhooks/validation", headers=maintainer).status_code == 404
    assert client.delete("/projects/42/webhooks", headers=maintainer).status_code == 404


def test_who_may_manage_hooks(client: TestClient, identity: IdentityServer) -> None:
    assert client.post("/projects/42/webhooks").status_code == 401
    assert client.post("/projects/42/webhooks", headers={"PRIVATE-TOKEN": "glpat-wrong"}).status_code == 401
    reader = client.post("/projects/42/webhooks", headers={"PRIVATE-TOKEN": "glpat-reader"})
    assert reader.status_code == 403
    assert reader.headers["content-type"] == "application/problem+json"
    jwt = client.post("/projects/42/webhooks", headers={"Authorization": f"Bearer {identity.token('7')}"})
    assert jwt.status_code == 401  # no OIDC issuer is configured here: the JWT is not accepted at all
    assert (
        client.post("/projects/999/webhooks", headers={"PRIVATE-TOKEN": "glpat-maintainer"}).status_code
        == 404
    )
    assert identity.hooks.get(42, []) == []


def test_a_token_from_another_key_is_unreadable(app_settings: Settings) -> None:
    from kg.auth.vault import TokenVault

    open_vault(app_settings).put(5, "glpat-x")
    other = TokenVault(
        app_settings.data_dir / "tokens.sqlite", "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDE="
    )
    assert other.get(5) is None
