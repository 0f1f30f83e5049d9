"""Broken metadata never stops an ingest: it becomes a warning on the project's status."""

from __future__ import annotations

from collections.abc import Callable

from kg.config import Settings
from kg.events import Push, open_event_log
from kg.pipeline.worker import Worker
from kg.search import open_index
from kg.status import status_document
from kg.store import open_store
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo


def test_warnings_reach_the_status(
    settings: Settings, git_repo: Callable[[str], GitRepo], git_http: GitHttpServer
) -> None:
    repo = git_repo("broken")
    repo.commit(
        {"dvc.lock": "stages: [", "ro-crate-metadata.json": "{", "ok.txt": "fine"},
        "broken metadata",
    )
    bad = repo.head()
    repo.commit({"more.txt": "x"}, "more")
    settings = settings.model_copy(update={"git_allowed_origins": git_http.origin})
    events = open_event_log(settings)
    store = open_store(settings)
    url = git_http.publish(repo.path, "broken.git")
    events.enqueue(Push(delivery_key="k", project_id=5, path="g/broken", clone_url=url, commit=None))
    assert Worker(settings, events, store, open_index(settings)).run_once()
    document = status_document(events.status(5))
    assert document["details"]["status"] == "success"
    assert "2 warning(s)" in document["details"]["message"]
    assert sorted(w.split("]")[0] for w in document["warnings"]) == ["[dvc", "[rocrate"]
    assert all(bad[:12] in w for w in document["warnings"])
    record = store.projects()[0]
    assert (record.warnings, record.ingested_commit) == (2, repo.head())
    store.close()
