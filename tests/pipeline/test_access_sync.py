"""The worker records each project's visibility and members from GitLab, and refreshes them."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from kg.config import Settings
from kg.events import Push, open_event_log
from kg.iri import Minter
from kg.pipeline.worker import Worker
from kg.search import Access, SearchQuery, open_index
from kg.sparql.engine import QueryRequest, Snapshot
from kg.store import open_store
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import free_port


def test_members_come_from_gitlab_and_are_refreshed(
    settings: Settings, identity: IdentityServer, git_repo: Callable[[str], GitRepo]
) -> None:
    repo = git_repo("rain")
    repo.commit({"a.txt": "1"}, "first")
    identity.gitlab_user("kg-admin", 1)
    identity.admins.add(1)
    identity.gitlab_project(42, "climate/rain", "private", {7: 40})
    settings = settings.model_copy(update={"gitlab_url": identity.url, "gitlab_token": SecretStr("kg-admin")})
    events, store, index = open_event_log(settings), open_store(settings), open_index(settings)
    worker = Worker(settings, events, store, index)
    # the push says public; GitLab, asked by the worker, says private
    events.enqueue(
        Push(
            delivery_key="k",
            project_id=42,
            path="climate/rain",
            clone_url=str(repo.path),
            commit=None,
            visibility="public",
        )
    )
    assert worker.run_once()
    (record,) = store.projects()
    assert (record.visibility, record.members) == ("private", (("7", 40),))
    entry = index.project("climate/rain")
    assert entry is not None and entry.readable_by(Access("7")) and not entry.readable_by(Access("8"))
    assert index.search(SearchQuery(text="rain"), Access("8")).total == 0

    identity.members[42][8] = 30
    assert worker.refresh_access() == 1
    assert worker.refresh_access() == 0
    assert index.search(SearchQuery(text="rain", kinds=["project"]), Access("8")).total == 1
    assert store.projects()[0].members == (("7", 40), ("8", 30))
    assert commits_seen(settings, Access("8")) == 1

    # GitLab makes it public, then private again without 8: SPARQL follows every change
    identity.projects[42]["visibility"] = "public"
    assert worker.refresh_access() == 1
    assert commits_seen(settings, Access()) == 1
    identity.projects[42]["visibility"] = "private"
    del identity.members[42][8]
    assert worker.refresh_access() == 1
    assert commits_seen(settings, Access()) == 0
    assert commits_seen(settings, Access("8")) == 0
    assert commits_seen(settings, Access("7")) == 1


def commits_seen(settings: Settings, access: Access) -> int:
    """How many commits a caller's SPARQL query finds, on the newest checkpoint."""
    snapshot = Snapshot(settings.store_path, Minter(settings.base_iri), 10**6)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/kg/ontology#Commit> }"
    answer = snapshot.execute(QueryRequest(query=query, accept="text/csv", access=access))
    return int(answer.body.decode().split()[1])


def test_gitlab_down_keeps_the_recorded_members(
    settings: Settings, git_repo: Callable[[str], GitRepo]
) -> None:
    repo = git_repo("rain")
    repo.commit({"a.txt": "1"}, "first")
    settings = settings.model_copy(
        update={"gitlab_url": f"http://127.0.0.1:{free_port()}", "gitlab_token": SecretStr("kg-admin")}
    )
    events, store, index = open_event_log(settings), open_store(settings), open_index(settings)
    events.enqueue(
        Push(
            delivery_key="k",
            project_id=42,
            path="climate/rain",
            clone_url=str(repo.path),
            commit=None,
            visibility="internal",
        )
    )
    assert Worker(settings, events, store, index).run_once()
    status = events.status(42)
    assert status is not None and status.state == "idle"
    assert any("[gitlab] members not refreshed" in w for w in status.warnings)
    assert store.projects()[0].visibility == "internal"
