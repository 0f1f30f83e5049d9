"""`GET /knowledge-graph/users/{id}/projects`: activated projects from kg, not activated ones
from GitLab's `GET /users/:id/projects`, each as the caller may see them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer, free_port, kg_ingest


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("users")
    identity = IdentityServer()
    identity.gitlab_user("pat-7", 7)
    identity.gitlab_user("pat-99", 99)
    for pid, name, visibility in (
        (1, "activated", "public"),
        (2, "public-new", "public"),
        (3, "internal-new", "internal"),
        (4, "private-new", "private"),
    ):
        identity.gitlab_project(pid, f"u7/{name}", visibility, {7: 50})
    identity.gitlab_project(5, "u8/elsewhere", "public", {8: 50, 7: 30})  # 7 is not its owner
    repo = make_repo(root / "repo")
    repo.commit({"README": "hi"}, "start")
    data = root / "kg"
    kg_ingest(data, repo.path, "u7/activated", "public", "7")
    env = {"KG_OIDC_ISSUER": identity.issuer, "KG_OIDC_AUDIENCE": "kg", "KG_GITLAB_URL": identity.url}
    server = KgServer(data, env)
    yield {"server": server, "identity": identity, "data": data}
    server.stop()
    identity.stop()


def listed(world: dict[str, Any], headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{world['server'].url}/knowledge-graph/users/7/projects", headers=headers, params=params, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.headers["Total"] == str(len(response.json()))
    items: list[dict[str, Any]] = response.json()
    return items


def test_activated_and_not_activated_as_each_caller_sees_them(world: dict[str, Any]) -> None:
    jwt = world["identity"].token("99")
    cases = {
        "anonymous": ({}, {"u7/activated", "u7/public-new"}),
        "keycloak user (GitLab answers as to a visitor)": (
            {"Authorization": f"Bearer {jwt}"},
            {"u7/activated", "u7/public-new"},
        ),
        "another GitLab user": (
            {"PRIVATE-TOKEN": "pat-99"},
            {"u7/activated", "u7/public-new", "u7/internal-new"},
        ),
        "the user": (
            {"PRIVATE-TOKEN": "pat-7"},
            {"u7/activated", "u7/public-new", "u7/internal-new", "u7/private-new"},
        ),
    }
    for name, (headers, expected) in cases.items():
        assert {p["slug"] for p in listed(world, headers)} == expected, name


def test_state_filter_and_activation_links(world: dict[str, Any]) -> None:
    mine = {"PRIVATE-TOKEN": "pat-7"}
    activated = listed(world, mine, state="ACTIVATED")
    assert [p["slug"] for p in activated] == ["u7/activated"]
    assert "id" not in activated[0]
    assert activated[0]["_links"][0]["rel"] == "details"
    waiting = listed(world, mine, state="NOT_ACTIVATED")
    assert {p["slug"] for p in waiting} == {"u7/public-new", "u7/internal-new", "u7/private-new"}
    first = next(p for p in waiting if p["slug"] == "u7/public-new")
    assert first["id"] == 2
    assert first["visibility"] == "public"
    assert first["description"] == "About u7/public-new"
    assert first["keywords"] == ["demo"]
    assert first["_links"] == [
        {"rel": "activation", "href": f"{world['server'].url}/projects/2/webhooks", "method": "POST"}
    ]
    page = httpx.get(
        f"{world['server'].url}/knowledge-graph/users/7/projects",
        headers=mine,
        params={"per_page": 3, "page": 2},
        timeout=30,
    )
    assert len(page.json()) == 1
    assert page.headers["Total"] == "4"


def test_gitlab_down_still_lists_activated_projects(world: dict[str, Any], tmp_path: Path) -> None:
    # one kg serve per data directory: a reader-only copy of the world's (its checkpoints)
    data = tmp_path / "kg"
    shutil.copytree(world["data"], data, ignore=shutil.ignore_patterns("store", "kg.lock"))
    down_gitlab = {"KG_GITLAB_URL": f"http://127.0.0.1:{free_port()}", "KG_WORKER_ENABLED": "false"}
    server = KgServer(data, down_gitlab)
    try:
        url = f"{server.url}/knowledge-graph/users/7/projects"
        assert [p["slug"] for p in httpx.get(url, timeout=60).json()] == ["u7/activated"]
        down = httpx.get(url, params={"state": "NOT_ACTIVATED"}, timeout=60)
        assert down.status_code == 502
        assert down.headers["content-type"] == "application/problem+json"
    finally:
        server.stop()
