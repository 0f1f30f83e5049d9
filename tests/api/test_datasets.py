"""Datasets over HTTP: a dataset by any identifier of its lineage, and its tags (renku-graph's shapes)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.renku import tagged_rainfall
from tests.fixtures.servers import KgServer, kg_ingest


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("datasets")
    data = root / "kg"
    for name, visibility in (("rain", "public"), ("secret", "private")):
        repo = make_repo(root / name)
        for files in tagged_rainfall():
            repo.commit(files, "renku dataset")
        kg_ingest(data, repo.path, f"g/{name}", visibility)
    server = KgServer(data, {"KG_SPARQL_WORKERS": "1"})
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
    server.stop()


def test_tags_newest_first_with_links_to_the_tagged_version(http: httpx.Client) -> None:
    response = http.get("/knowledge-graph/projects/g/rain/datasets/rainfall/tags")
    assert response.status_code == 200
    tags = response.json()
    assert [t["name"] for t in tags] == ["v2.0-final", "v2.0", "v1.0"]
    assert tags[0]["description"] == "fixed units"
    assert tags[0]["date"].startswith("2024-04-03")
    assert tags[2]["_links"][0]["rel"] == "dataset-details"
    assert tags[2]["_links"][0]["href"].endswith("/knowledge-graph/datasets/aaa111")
    assert response.headers["Total"] == "3"
    paged = http.get(
        "/knowledge-graph/projects/g/rain/datasets/rainfall/tags", params={"per_page": 2, "page": 2}
    )
    assert [t["name"] for t in paged.json()] == ["v1.0"]
    assert paged.headers["Prev-Page"] == "1"


def test_any_version_identifier_finds_the_current_dataset(http: httpx.Client) -> None:
    for identifier in ("bbb222", "aaa111"):
        found = http.get(f"/knowledge-graph/datasets/{identifier}")
        assert found.status_code == 200, identifier
        body = found.json()
        assert body["identifier"] == "bbb222"
        assert body["versions"] == {"initial": "aaa111"}
        links = {link["rel"]: link["href"] for link in body["_links"]}
        assert links["initial-version"].endswith("/knowledge-graph/datasets/aaa111")
        assert links["tags"].endswith("/knowledge-graph/projects/g/rain/datasets/rainfall/tags")
        assert body["project"]["slug"] == "g/rain"  # the private copy is not shown
    listed = http.get("/knowledge-graph/projects/g/rain/datasets").json()
    assert [(d["slug"], d["versions"]["initial"]) for d in listed] == [("rainfall", "aaa111")]
    assert {link["rel"] for link in listed[0]["_links"]} == {"details", "initial-version", "tags"}


def test_unknown_or_hidden_tags_are_404(http: httpx.Client) -> None:
    for path in (
        "/knowledge-graph/projects/g/rain/datasets/nope/tags",
        "/knowledge-graph/projects/g/secret/datasets/rainfall/tags",
        "/knowledge-graph/projects/g/nope/datasets/rainfall/tags",
    ):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
