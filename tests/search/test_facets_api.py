"""The creator facet through `kg serve`: creators as kg ingests them from Renku metadata, in
`?envelope=true` (not in the `Facets` header), on each search index kg offers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.search import BACKENDS
from tests.fixtures.gitrepo import make_repo
from tests.fixtures.renku import described_project
from tests.fixtures.servers import KgServer, kg_ingest


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_creator_facet_in_the_envelope(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {"KG_SEARCH_URL": request.getfixturevalue("postgres_url")} if backend == "postgresql" else {}
    data = tmp_path / "kg"
    described = make_repo(tmp_path / "repos" / "described")
    for files in described_project():  # the project by Ada; its dataset by Zoe, Bob and Carla
        described.commit(files, "renku")
    kg_ingest(data, described.path, "g/described", env=env)
    plain = make_repo(tmp_path / "repos" / "plain")
    plain.commit({"README.md": "# snow plain\n"}, "initial")
    kg_ingest(data, plain.path, "g/plain", env=env)
    server = KgServer(data, {**env, "KG_WORKER_ENABLED": "false"})
    try:
        with server.client() as http:
            found = http.get("/knowledge-graph/entities", params={"envelope": "true"})
            assert found.status_code == 200, found.text
            facets = found.json()["facets"]
            assert list(facets["creator"].items()) == [
                ("Ada Lovelace", 1),
                ("Bob Berg", 1),
                ("Carla Ander", 1),
                ("Zoe Zimmer", 1),
            ]
            assert facets["type"]["project"] == 2
            assert "creator" not in json.loads(found.headers["Facets"])
            assert set(json.loads(found.headers["Facets"])) == {"type", "visibility", "namespace"}
            by_bob = http.get("/knowledge-graph/entities", params={"envelope": "true", "creator": "bob berg"})
            body = by_bob.json()
            assert [(i["type"], i["name"]) for i in body["items"]] == [("dataset", "Snow")]
            assert body["items"][0]["creators"] == ["Zoe Zimmer", "Bob Berg", "Carla Ander"]
            assert body["facets"]["creator"] == facets["creator"]  # ignores its own filter
            assert body["facets"]["type"] == {"dataset": 1}  # the others honour it
            assert by_bob.headers["Total"] == "1"
            projects = http.get("/knowledge-graph/entities", params={"envelope": "true", "type": "project"})
            assert projects.json()["facets"]["creator"] == {"Ada Lovelace": 1}
    finally:
        server.stop()
