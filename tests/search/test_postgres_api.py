"""`kg ingest` and `kg serve` with KG_SEARCH_URL on PostgreSQL: the search route unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kg.access import Access
from kg.search import SearchQuery
from kg.search.postgres import PostgresIndex
from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer, kg_env, kg_ingest


def test_search_route_on_postgresql(tmp_path: Path, postgres_url: str, identity: IdentityServer) -> None:
    env = {"KG_SEARCH_URL": postgres_url}
    data = tmp_path / "kg"
    for name, visibility, members in (("rainfall", "public", ()), ("rainshadow", "private", ("7",))):
        repo = make_repo(tmp_path / "repos" / name)
        repo.commit({"README.md": f"# {name}\n"}, "initial")
        kg_ingest(data, repo.path, f"climate/{name}", visibility, *members, env=env)
    server = KgServer(
        data,
        {**env, "KG_OIDC_ISSUER": identity.issuer, "KG_OIDC_AUDIENCE": "kg", "KG_GITLAB_URL": identity.url},
    )
    try:
        with server.client() as http:
            anonymous = http.get("/knowledge-graph/entities", params={"query": "rain", "type": "project"})
            assert anonymous.status_code == 200, anonymous.text
            assert [h["slug"] for h in anonymous.json()] == ["climate/rainfall"]
            member = {"Authorization": f"Bearer {identity.token('7')}"}
            paged = http.get(
                "/knowledge-graph/entities",
                params={"query": "rain", "type": "project", "per_page": 1, "sort": "name:asc"},
                headers=member,
            )
            assert [h["slug"] for h in paged.json()] == ["climate/rainfall"]
            assert (paged.headers["Total"], paged.headers["Total-Pages"], paged.headers["Next-Page"]) == (
                "2",
                "2",
                "2",
            )
            assert json.loads(paged.headers["Facets"])["visibility"] == {"public": 1, "private": 1}
            hostile = http.get("/knowledge-graph/entities", params={"query": "rain:* & !'\\"})
            assert hostile.status_code == 200, hostile.text
    finally:
        server.stop()
    assert not (data / "search.sqlite").exists()  # everything went through PostgreSQL


def test_reindex_fills_postgresql_from_the_store(tmp_path: Path, postgres_url: str) -> None:
    # an instance moving from the embedded index to PostgreSQL: `kg reindex` with the URL set
    data = tmp_path / "kg"
    repo = make_repo(tmp_path / "repos" / "moved")
    repo.commit({"README.md": "# moved\n"}, "initial")
    kg_ingest(data, repo.path, "g/moved")
    assert (data / "search.sqlite").exists()
    done = subprocess.run(
        [sys.executable, "-m", "kg", "reindex"],
        env=kg_env(data, KG_SEARCH_URL=postgres_url),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "reindexed 1 project(s)" in done.stdout, done.stderr
    index = PostgresIndex(postgres_url)
    assert [d.slug for d in index.search(SearchQuery(text="moved"), Access()).items] == ["g/moved"]
    index.close()
