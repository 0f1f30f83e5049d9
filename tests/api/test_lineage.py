"""Lineage over HTTP, as renku-ui asks for it: the location as one URL-encoded segment, read
from the raw path, against a real `kg serve`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.servers import KgServer, kg_ingest
from tests.test_lineage import datalad, pipeline

BASE = "/knowledge-graph/projects"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("lineage-http")
    data = root / "kg"
    demo = make_repo(root / "demo")
    pipeline(demo)
    demo.commit(
        {"files/x.csv": "x", "a/lineage/b.csv": "b"},
        datalad("python split.py", ["data/clean.csv"], ["files/x.csv", "a/lineage/b.csv"]),
    )
    kg_ingest(data, demo.path, "g/demo")
    named_files = make_repo(root / "files")
    pipeline(named_files)
    kg_ingest(data, named_files.path, "g/files")
    server = KgServer(data, {"KG_SPARQL_WORKERS": "1"})
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
    server.stop()


def focus(body: dict[str, Any], location: str) -> dict[str, Any]:
    """The file node renku-ui centres on: the last File or Directory at the location it asked
    for (nodes of other projects with the same content may share the location)."""
    found = [n for n in body["nodes"] if n["type"] in ("File", "Directory") and n["location"] == location]
    assert found and "project" not in found[-1], body
    return found[-1]


def test_renku_graph_shape(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/g/demo/files/data%2Fclean.csv/lineage")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"edges", "nodes", "session"}  # kg's link to open the project in a session
    assert body["session"]["body"]["project"] == "g/demo"
    clean = focus(body, "data/clean.csv")
    assert clean["id"] == "data/clean.csv"
    assert clean["type"] == "File"
    assert clean["label"].startswith("data/clean.csv@") and len(clean["label"]) == len("data/clean.csv@") + 7
    runs = {n["label"]: n for n in body["nodes"] if n["type"] == "ProcessRun" and "project" not in n}
    assert set(runs) == {"python src/clean.py", "python src/plot.py", "python split.py", "make report"}
    for run in runs.values():
        assert run["id"] == run["location"]
        assert run["id"].startswith("https://kg.local/projects/g/demo/-/runs/")
        # renku-graph's keys, and kg's extension fields (the explorer shows them on hover)
        assert set(run) - {"commit", "time", "agent", "tool"} == {"id", "location", "label", "type"}
    ids = {n["id"] for n in body["nodes"]}
    assert {e["source"] for e in body["edges"]} | {e["target"] for e in body["edges"]} == ids
    assert {"source": runs["python src/clean.py"]["id"], "target": "data/clean.csv"} in body["edges"]
    assert {"source": "data/clean.csv", "target": runs["python split.py"]["id"]} in body["edges"]


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("g/demo/files/files%2Fx.csv", "files/x.csv"),
        ("g/demo/files/files%2fx.csv", "files/x.csv"),
        ("g/demo/files/a%2Flineage%2Fb.csv", "a/lineage/b.csv"),
        ("g/files/files/data%2Fclean.csv", "data/clean.csv"),  # a project called `files`
        ("g/demo/files/data/clean.csv", "data/clean.csv"),  # unencoded: only one project fits
    ],
)
def test_the_location_is_one_encoded_segment_of_the_raw_path(
    http: httpx.Client, path: str, location: str
) -> None:
    response = http.get(f"{BASE}/{path}/lineage", params={"direction": "upstream"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert focus(body, location)["id"] == location
    upstream = {n["label"] for n in body["nodes"] if n["type"] == "ProcessRun"}
    assert "python src/clean.py" in upstream
    # the project really is the one named: its runs are its own
    project = path.split("/files/", 1)[0] if not path.startswith("g/files/") else "g/files"
    home = [n for n in body["nodes"] if n["type"] == "ProcessRun" and "project" not in n]
    assert home and all(n["id"].startswith(f"https://kg.local/projects/{project}/-/") for n in home)
    # the file's history is routed the same way
    history = http.get(f"{BASE}/{path}/history")
    assert history.status_code == 200, history.text
    assert (history.json()["project"], history.json()["path"]) == (project, location)


def test_direction_and_depth_are_kept(http: httpx.Client) -> None:
    up = http.get(f"{BASE}/g/demo/files/files%2Fx.csv/lineage", params={"direction": "upstream", "depth": 1})
    assert {n["label"] for n in up.json()["nodes"] if n["type"] == "ProcessRun"} == {"python split.py"}
    down = http.get(f"{BASE}/g/demo/files/raw%2Fdata.csv/lineage", params={"direction": "downstream"})
    assert "python split.py" in {n["label"] for n in down.json()["nodes"] if n["type"] == "ProcessRun"}
    assert http.get(f"{BASE}/g/demo/files/x/lineage", params={"depth": 0}).status_code == 400


def test_unknown_files_and_projects_are_404(http: httpx.Client) -> None:
    for path in (
        "g/demo/files/README/lineage",
        "g/nope/files/a.csv/lineage",
        "g/demo/files/nope%2Fx/lineage",
    ):
        assert http.get(f"{BASE}/{path}").status_code == 404, path
    # the other routes under the project are not taken by lineage
    assert http.get(f"{BASE}/g/files").status_code == 200
    assert http.get(f"{BASE}/g/demo/files/data%2Fclean.csv/history").status_code == 200
    assert http.get(f"{BASE}/g/demo/files/nope%2Fx/history").status_code == 404
