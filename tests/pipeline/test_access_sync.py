"""The worker records each project's visibility and members from GitLab; the scheduler's
refresh hands changes back to it."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from kg.access import Access
from kg.config import Settings
from kg.events import Push, open_event_log
from kg.iri import Minter
from kg.pipeline.worker import Worker
from kg.scheduler.jobs import Upkeep
from kg.search import SearchQuery, open_index
from kg.store import open_store
from kg.store.oxigraph import Snapshot
from kg.store.reading import QueryRequest
from tests.fixtures.githttp import GitHttpServer
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
    identity.gitlab_repository(42, repo.path)
    settings = settings.model_copy(update={"gitlab_url": identity.url, "gitlab_token": SecretStr("kg-admin")})
    events, store, index = open_event_log(settings), open_store(settings), open_index(settings)
    worker = Worker(settings, events, store, index)
    # the push says public, another path and another place; GitLab, asked by the worker,
    # says where it is, what it is called and that it is private
    events.enqueue(
        Push(
            delivery_key="k",
            project_id=42,
            path="somebody/else",
            clone_url="http://127.0.0.1:9/elsewhere.git",
            commit=None,
            visibility="public",
        )
    )
    assert worker.run_once()
    (record,) = store.projects()
    assert (record.slug, record.visibility, record.members) == ("climate/rain", "private", (("7", 40),))
    # fetched from GitLab's own URL for the project, with kg's token
    assert identity.git_seen and all(
        path.startswith("/climate/rain.git/") and token == "kg-admin" for path, token in identity.git_seen
    )
    entry = index.project("climate/rain")
    assert entry is not None and entry.readable_by(Access("7")) and not entry.readable_by(Access("8"))
    assert index.search(SearchQuery(text="rain"), Access("8")).total == 0

    identity.members[42][8] = 30
    assert refresh(settings, worker) == 1
    assert refresh(settings, worker) == 0
    assert index.search(SearchQuery(text="rain", kinds=["project"]), Access("8")).total == 1
    assert store.projects()[0].members == (("7", 40), ("8", 30))
    assert commits_seen(settings, Access("8")) == 1

    # GitLab makes it public, then private again without 8: SPARQL follows every change
    identity.projects[42]["visibility"] = "public"
    assert refresh(settings, worker) == 1
    assert commits_seen(settings, Access()) == 1
    identity.projects[42]["visibility"] = "private"
    del identity.members[42][8]
    assert refresh(settings, worker) == 1
    assert commits_seen(settings, Access()) == 0
    assert commits_seen(settings, Access("8")) == 0
    assert commits_seen(settings, Access("7")) == 1


def refresh(settings: Settings, worker: Worker) -> int:
    """The scheduler's access refresh, then the worker's refresh jobs; how many changed."""
    upkeep = Upkeep(settings)
    try:
        changed = upkeep.refresh_access()
    finally:
        upkeep.close()
    while worker.run_once():
        pass
    return changed


def commits_seen(settings: Settings, access: Access) -> int:
    """How many commits a caller's SPARQL query finds, on the newest checkpoint."""
    snapshot = Snapshot(settings.store_path, Minter(settings.base_iri), 10**6)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/kg/ontology#Commit> }"
    answer = snapshot.answer(QueryRequest(query=query, accept="text/csv", access=access))
    return int(answer.body.decode().split()[1])


def test_gitlab_down_publishes_nothing_on_the_payloads_word(
    settings: Settings, git_repo: Callable[[str], GitRepo], git_http: GitHttpServer
) -> None:
    repo = git_repo("rain")
    repo.commit({"a.txt": "1"}, "first")
    url = git_http.publish(repo.path, "rain.git")
    settings = settings.model_copy(
        update={
            "gitlab_url": f"http://127.0.0.1:{free_port()}",
            "gitlab_token": SecretStr("kg-admin"),
            "git_allowed_origins": git_http.origin,
        }
    )
    events, store, index = open_event_log(settings), open_store(settings), open_index(settings)
    events.enqueue(
        Push(
            delivery_key="k",
            project_id=42,
            path="climate/rain",
            clone_url=url,
            commit=None,
            visibility="public",
        )
    )
    assert Worker(settings, events, store, index).run_once()
    status = events.status(42)
    assert status is not None and status.state == "pending"  # retried later
    assert "GitLab could not be asked" in status.message
    assert store.projects() == []
    assert git_http.seen == []  # nothing fetched from where the payload said
