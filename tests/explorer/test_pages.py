"""The explorer served by a real `kg serve`: its shell at every page URL (deep links survive a
reload), its assets, its settings, Swagger UI without a CDN, and the routes its project page
reads (files, activities, sync)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.servers import KgServer, kg_ingest
from tests.test_lineage import pipeline

ISSUER = "http://127.0.0.1:9/realms/kg"  # never contacted: only named in the settings and CSP


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("explorer")
    data = root / "kg"
    repo = make_repo(root / "demo")
    pipeline(repo)
    repo.commit({"notes/old.txt": "x"}, "add a note")
    repo.commit({"notes/old.txt": None}, "drop the note")
    kg_ingest(data, repo.path, "g/demo")
    server = KgServer(data, {"KG_OIDC_ISSUER": ISSUER, "KG_OIDC_CLIENT_ID": "explorer-test"})
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield {"http": http, "server": server, "root": root, "data": data}
    server.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/explore",
        "/explore/search?q=x",
        "/explore/projects/g/demo",
        "/explore/lineage?project=g/demo&file=a%20b",
        "/explore/datasets/abc",
        "/explore/sparql",
        "/explore/sessions",
        "/explore/no/such/page",
    ],
)
def test_every_page_url_serves_the_shell(kg: dict[str, Any], path: str) -> None:
    response = kg["http"].get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/explore/static/explorer.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' http://127.0.0.1:9;" in policy  # the OIDC provider, for the token exchange
    assert response.headers["referrer-policy"] == "no-referrer"


def test_head_requests_are_answered(kg: dict[str, Any]) -> None:
    for path in ("/", "/explore/lineage?project=g/demo&file=x"):
        response = kg["http"].head(path)
        assert response.status_code == 200 and response.content == b""
        assert response.headers["content-type"].startswith("text/html")


def test_assets_are_served_and_confined(kg: dict[str, Any]) -> None:
    http = kg["http"]
    script = http.get("/explore/static/explorer.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert len(script.content) > 100_000  # cytoscape, dagre and CodeMirror are in it
    assert http.get("/explore/static/explorer.css").status_code == 200
    for escape in (
        "/explore/static/../pages.py",
        "/explore/static/%2e%2e/pages.py",
        "/explore/static/..%2fpages.py",
    ):
        response = http.get(escape)
        assert response.status_code == 404 or "def content_policy" not in response.text, escape


def test_settings_name_the_oidc_client(kg: dict[str, Any]) -> None:
    config = kg["http"].get("/explore/config.json").json()
    assert config == {"oidc": {"issuer": ISSUER, "clientId": "explorer-test"}, "sessions": True}


def test_docs_work_offline(kg: dict[str, Any]) -> None:
    page = kg["http"].get("/docs")
    assert page.status_code == 200
    assert "/explore/static/docs/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text and "https://" not in page.text.replace("https://kg.local", "")
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert kg["http"].get(f"/explore/static/docs/{asset}").status_code == 200
    assert kg["http"].get("/redoc").status_code in (200, 404)  # not a CDN page either way
    if kg["http"].get("/redoc").status_code == 200:
        assert "cdn." not in kg["http"].get("/redoc").text


def test_examples_are_kgs_own_queries(kg: dict[str, Any]) -> None:
    examples = kg["http"].get("/explore/examples.json").json()
    names = {e["name"] for e in examples}
    assert {"project_files", "project_activities", "file_history"} <= names
    assert not any(
        n.endswith(".ru") or e["query"].lstrip().upper().startswith(("INSERT", "DELETE"))
        for e in examples
        for n in [e["name"]]
    )
    files = next(e for e in examples if e["name"] == "project_files")
    assert files["description"].startswith("Every path of one project graph")


def test_project_files(kg: dict[str, Any]) -> None:
    body = kg["http"].get("/knowledge-graph/projects/g/demo/-/files").json()
    files = {f["path"]: f for f in body["files"]}
    assert body["project"] == "g/demo" and body["truncated"] is False
    assert {"raw/data.csv", "src/clean.py", "data/clean.csv", "figures/plot.png", "dvc.yaml"} <= set(files)
    assert files["data/clean.csv"]["versions"] >= 1
    assert files["README"]["modified"] and files["README"]["deleted"] is False
    assert files["notes/old.txt"]["deleted"] is True
    assert kg["http"].get("/knowledge-graph/projects/g/nope/-/files").status_code == 404


def test_project_activities_newest_first(kg: dict[str, Any]) -> None:
    body = kg["http"].get("/knowledge-graph/projects/g/demo/-/activities", params={"limit": 50}).json()
    activities = body["activities"]
    kinds = {a["kind"] for a in activities}
    assert kinds == {"commit", "run"}
    times = [a["started"] for a in activities if a.get("started")]
    assert times == sorted(times, reverse=True)
    commits = [a for a in activities if a["kind"] == "commit"]
    assert {a["label"] for a in commits} >= {"start", "dvc repro"}
    assert all(len(a["sha"]) == 40 and a["agent"] for a in commits)
    assert (
        len(
            kg["http"]
            .get("/knowledge-graph/projects/g/demo/-/activities", params={"limit": 2})
            .json()["activities"]
        )
        == 2
    )
    assert (
        kg["http"].get("/knowledge-graph/projects/g/demo/-/activities", params={"limit": 0}).status_code
        == 400
    )


def test_sync_follows_an_ingest_handed_to_the_running_kg(kg: dict[str, Any], tmp_path: Path) -> None:
    http = kg["http"]
    assert (
        http.get("/knowledge-graph/projects/g/demo/-/sync").json()["activated"] is False
    )  # ingested before kg ran
    late = make_repo(tmp_path / "late")
    pipeline(late)
    kg_ingest(kg["data"], late.path, "g/late")  # kg serve runs: the ingest is handed to its worker
    deadline = time.monotonic() + 120
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = http.get("/knowledge-graph/projects/g/late/-/sync")
        if response.status_code == 200:
            status = response.json()
            if status.get("details", {}).get("status") == "success":
                break
        time.sleep(0.5)
    assert status["activated"] is True, status
    assert status["details"]["status"] == "success", status
    assert status["path"] == "g/late" and len(status["ingestedCommit"]) == 40
