"""`/sessions` over a real `kg serve` with the local backend: who may start, see and stop what,
bad requests refused with a clear problem and nothing created, and the project page and
lineage linking to a session at their commit."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer, kg_env
from tests.test_lineage import pipeline

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "session_server.py"
STAND_IN = f"{shlex.quote(sys.executable)} {shlex.quote(str(SERVER))} --port {{port}} --token {{token}} --base-url {{base_url}}"
MEMBER, STRANGER = "7", "8"


def ingest(data: Path, repo: Path, slug: str, gitlab_id: int, visibility: str, *members: str) -> None:
    """`kg ingest` with the project's GitLab id, and its mirror where the worker keeps one."""
    command = [sys.executable, "-m", "kg", "ingest", str(repo), "--project", slug]
    command += ["--visibility", visibility, "--gitlab-id", str(gitlab_id)]
    for member in members:
        command += ["--member", member]
    subprocess.run(command, env=kg_env(data), check=True, capture_output=True)
    mirror = data / "mirrors" / f"{gitlab_id}.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo), str(mirror)], check=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("sessions")
    data = root / "kg"
    open_repo = make_repo(root / "repos" / "open")
    pipeline(open_repo)
    first = open_repo.git("rev-list", "--max-parents=0", "HEAD")
    head = open_repo.commit({"notes.md": "latest"}, "notes")
    ingest(data, open_repo.path, "g/open", 11, "public")
    secret_repo = make_repo(root / "repos" / "secret")
    secret_head = secret_repo.commit({"secret.txt": "s"}, "secret")
    ingest(data, secret_repo.path, "g/secret", 12, "private", MEMBER)
    identity = IdentityServer()
    env = {
        "KG_OIDC_ISSUER": identity.issuer,
        "KG_OIDC_AUDIENCE": "kg",
        "KG_SESSIONS_COMMAND": STAND_IN,
        "KG_SESSIONS_IMAGE": "kg/default:1",
        "KG_SESSIONS_ALLOWED_IMAGES": "kg/other:2",
        "KG_SESSIONS_MAX_PER_USER": "2",
        "KG_SESSIONS_MAX_CPU": "2",
        "KG_SESSIONS_MAX_MEMORY_MB": "4096",
    }
    world = {
        "server": KgServer(data, env),
        "env": env,
        "identity": identity,
        "data": data,
        "first": first,
        "head": head,
        "secret": secret_head,
    }
    yield world
    for user in (MEMBER, STRANGER):  # stop what a failed test left running
        with as_user(world, user) as http:
            for session in http.get("/sessions").json():
                http.delete(f"/sessions/{session['name']}")
    world["server"].stop()
    identity.stop()


def as_user(world: dict[str, Any], user: str | None) -> httpx.Client:
    headers = {} if user is None else {"Authorization": f"Bearer {world['identity'].token(user)}"}
    return httpx.Client(base_url=world["server"].url, headers=headers, timeout=60)


def nothing_started(world: dict[str, Any]) -> None:
    """No user has a session and the backend has no folder for one."""
    for user in (MEMBER, STRANGER):
        with as_user(world, user) as http:
            assert http.get("/sessions").json() == []
    sessions = world["data"] / "sessions"
    assert not sessions.exists() or list(sessions.iterdir()) == []


def wait_running(http: httpx.Client, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30  # a generous bound that catches a hang
    while True:
        found: dict[str, Any] = http.get(f"/sessions/{name}").json()
        if found["status"]["state"] != "starting" or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_anonymous_callers_get_401_everywhere(world: dict[str, Any]) -> None:
    with as_user(world, None) as http:
        for method, path in (
            ("POST", "/sessions"),
            ("GET", "/sessions"),
            ("GET", "/sessions/anything"),
            ("DELETE", "/sessions/anything"),
            ("GET", "/sessions/anything/logs"),
        ):
            response = http.request(method, path, json={"project": "g/open", "commit_sha": world["head"]})
            assert response.status_code == 401, (method, path)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
    nothing_started(world)


def test_a_user_starts_sees_and_stops_their_session_and_nobody_else_can(world: dict[str, Any]) -> None:
    body = {"project": "g/open", "commit_sha": world["first"], "resources": {"cpu": 1, "memory": "512Mi"}}
    with as_user(world, MEMBER) as http, as_user(world, STRANGER) as stranger:
        created = http.post("/sessions", json=body)
        assert created.status_code == 201, created.text
        session = created.json()
        name = session["name"]
        assert (session["project"], session["commit_sha"], session["image"]) == (
            "g/open",
            world["first"],
            "kg/default:1",
        )
        assert session["resources"] == {"requests": {"cpu": 1.0, "memory": "512Mi", "gpu": 0}}
        assert session["started"].endswith("+00:00") and len(name) <= 42
        again = http.post("/sessions", json=body)
        assert again.status_code == 200 and again.json()["name"] == name

        running = wait_running(http, name)
        assert running["status"] == {
            "state": "running",
            "message": "",
            "ready_containers": 1,
            "total_containers": 1,
        }
        files = httpx.get(running["url"]).json()["files"]  # the first commit's files, not the head's
        assert files == [".git", "README", "raw", "src"]
        assert [s["name"] for s in http.get("/sessions").json()] == [name]
        logs = http.get(f"/sessions/{name}/logs", params={"max_lines": 5})
        assert logs.headers["content-type"].startswith("text/plain") and "session server on port" in logs.text
        assert http.get(f"/sessions/{name}/logs", params={"max_lines": 10_001}).status_code == 400

        assert stranger.get("/sessions").json() == []
        for method, path in (
            ("GET", f"/sessions/{name}"),
            ("DELETE", f"/sessions/{name}"),
            ("GET", f"/sessions/{name}/logs"),
        ):
            assert stranger.request(method, path).status_code == 404, (method, path)
        assert http.get(f"/sessions/{name}").status_code == 200  # the stranger's DELETE did nothing

        assert http.delete(f"/sessions/{name}").status_code == 204
        assert http.delete(f"/sessions/{name}").status_code == 204  # idempotent
        assert http.get(f"/sessions/{name}").status_code == 404
        with pytest.raises(httpx.ConnectError):
            httpx.get(running["url"])
    nothing_started(world)


def test_nobody_starts_a_session_on_a_project_they_cannot_see(world: dict[str, Any]) -> None:
    with as_user(world, STRANGER) as stranger:
        for project in ("g/secret", 12, "12", "g/nowhere", 99):
            response = stranger.post("/sessions", json={"project": project, "commit_sha": world["secret"]})
            assert response.status_code == 404, (project, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    nothing_started(world)
    with as_user(world, MEMBER) as member:  # its member may, by path or by GitLab id
        started = member.post("/sessions", json={"project": 12, "commit_sha": world["secret"]})
        assert started.status_code == 201, started.text
        assert started.json()["project"] == "g/secret"
        assert member.delete(f"/sessions/{started.json()['name']}").status_code == 204
    nothing_started(world)


BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"commit_sha": "0" * 40}, 422, "is not a commit of g/open that kg ingested"),
    ({"commit_sha": "SECRET"}, 422, "is not a commit of g/open"),
    ({"image": "evil/miner"}, 422, "allowed: kg/default:1, kg/other:2"),
    ({"resources": {"cpu": 3}}, 422, "cpu 3 is over the limit of 2"),
    ({"resources": {"memory": "8G"}}, 422, "memory 8G is over the limit of 4Gi"),
    ({"resources": {"gpu": 1}}, 422, "gpu 1 is over the limit of 0"),
    ({"resources": {"memory": "lots"}}, 400, "resources.memory"),
    ({"commit_sha": "abc"}, 400, "commit_sha"),
    ({"branch": "--upload-pack=x"}, 400, "branch"),
    ({"default_url": "http://elsewhere"}, 400, "default_url"),
    ({"surprise": 1}, 400, "surprise"),
]


@pytest.mark.parametrize(("change", "status", "detail"), BAD, ids=[str(c) for c, _, _ in BAD])
def test_bad_requests_are_clear_problems_and_create_nothing(
    world: dict[str, Any], change: dict[str, Any], status: int, detail: str
) -> None:
    body = {"project": "g/open", "commit_sha": world["head"], **change}
    if body["commit_sha"] == "SECRET":
        body["commit_sha"] = world["secret"]
    with as_user(world, MEMBER) as http:
        response = http.post("/sessions", json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert detail in response.json()["detail"]
        assert (
            http.post(
                "/sessions", content=b"{not json", headers={"Content-Type": "application/json"}
            ).status_code
            == 400
        )
    nothing_started(world)


def test_a_name_held_with_another_spec_is_409_and_the_limit_per_user_422(world: dict[str, Any]) -> None:
    with as_user(world, MEMBER) as http:
        first = http.post("/sessions", json={"project": "g/open", "commit_sha": world["head"]}).json()
        clash = http.post(
            "/sessions", json={"project": "g/open", "commit_sha": world["head"], "image": "kg/other:2"}
        )
        assert clash.status_code == 409 and clash.headers["content-type"] == "application/problem+json"
        assert [(s["name"], s["image"]) for s in http.get("/sessions").json()] == [
            (first["name"], "kg/default:1")
        ]
        second = http.post("/sessions", json={"project": "g/open", "commit_sha": world["first"]})
        assert second.status_code == 201
        third = http.post("/sessions", json={"project": "g/secret", "commit_sha": world["secret"]})
        assert third.status_code == 422 and "the limit is 2" in third.json()["detail"]
        assert len(http.get("/sessions").json()) == 2
        assert (
            http.post("/sessions", json={"project": "g/open", "commit_sha": world["head"]}).status_code == 200
        )
        for session in (first, second.json()):
            assert http.delete(f"/sessions/{session['name']}").status_code == 204
    nothing_started(world)


def test_project_page_and_lineage_link_to_a_session_at_their_commit(world: dict[str, Any]) -> None:
    link = {"method": "POST", "href": "/sessions", "body": {"project": "g/open", "commit_sha": world["head"]}}
    with as_user(world, MEMBER) as http:
        assert http.get("/knowledge-graph/projects/g/open").json()["session"] == link
        lineage = http.get("/knowledge-graph/projects/g/open/files/report.pdf/lineage")
        assert lineage.status_code == 200 and lineage.json()["session"] == link
        assert lineage.json()["nodes"]  # renku-graph's shape otherwise
        follow = http.request(link["method"], link["href"], json=link["body"])
        assert follow.status_code == 201
        assert http.delete(f"/sessions/{follow.json()['name']}").status_code == 204
    nothing_started(world)


def test_a_session_outlives_a_restart_of_kg(world: dict[str, Any]) -> None:
    with as_user(world, MEMBER) as http:
        started = http.post("/sessions", json={"project": "g/open", "commit_sha": world["head"]}).json()
        before = wait_running(http, started["name"])
    world["server"].stop()
    world["server"] = KgServer(world["data"], world["env"])
    with as_user(world, MEMBER) as http:
        after = wait_running(http, started["name"])
        assert (after["status"]["state"], after["url"], after["started"]) == (
            "running",
            before["url"],
            before["started"],
        )
        assert "notes.md" in httpx.get(after["url"]).json()["files"]
        assert http.delete(f"/sessions/{started['name']}").status_code == 204
    nothing_started(world)
