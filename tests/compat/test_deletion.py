"""A project deleted through kg's settings route leaves the graph too, not only the pages.

renku-ui's "delete project" goes to GitLab with the owner's token; kg then buries the project
in its index at once and the worker (the store's one writer) removes its graphs, so SPARQL
stops answering about it. Against a real `kg serve` with its worker and the GitLab stand-in.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer
from tests.security.conftest import commits_of, push_body, send_hook, settled

OWNER = "owner-token-5"
ADMIN = "kg-instance-token-0123"
DOOMED = 31


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("deletion")
    gitlab = IdentityServer()
    gitlab.gitlab_user(OWNER, 5)
    gitlab.gitlab_user(ADMIN, 1)
    gitlab.admins.add(1)
    work = make_repo(root / "work")
    work.commit({"README": "doomed\n"}, "start")
    gitlab.gitlab_project(DOOMED, "g/doomed", "public", {5: 50})
    gitlab.gitlab_repository(DOOMED, work.path)
    kg = KgServer(root / "kg", {"KG_GITLAB_URL": gitlab.url, "KG_GITLAB_TOKEN": ADMIN})
    yield {"kg": kg, "gitlab": gitlab, "head": work.head()}
    kg.stop()
    gitlab.stop()


def test_a_deleted_project_leaves_sparql(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    body = push_body(DOOMED, "g/doomed", "http://127.0.0.1:9/ignored.git", world["head"])
    assert send_hook(kg, body, DOOMED).status_code == 202
    assert settled(kg, DOOMED)["details"]["status"] == "success"
    assert commits_of(kg, "g/doomed") == 1
    deleted = httpx.delete(
        f"{kg.url}/knowledge-graph/projects/g/doomed", headers={"PRIVATE-TOKEN": OWNER}, timeout=30
    )
    assert deleted.status_code == 202, deleted.text
    assert DOOMED not in world["gitlab"].projects
    deadline = time.monotonic() + 60
    while commits_of(kg, "g/doomed") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert commits_of(kg, "g/doomed") == 0
    page = httpx.get(f"{kg.url}/knowledge-graph/projects/g/doomed", timeout=30)
    assert page.status_code == 404
