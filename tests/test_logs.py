"""kg's logs: one JSON object per line, each line of a request (and of the job its push
started, in the worker process) carrying the request's id; and no secret in any line of
any process through a whole run that uses every secret kg knows."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer, free_port, kg_env
from tests.fixtures.sparqlservers import OxigraphServer
from webhooks.tokens import hook_token

FIXTURES = Path(__file__).parent / "fixtures"


def push_body(project_id: int, path: str, url: str, after: str) -> dict[str, Any]:
    """A GitLab Push Hook body for the default branch, from the documented example."""
    body: dict[str, Any] = json.loads((FIXTURES / "gitlab" / "push_event.json").read_text())
    body.update(after=after, checkout_sha=after, project_id=project_id)
    body["project"].update(id=project_id, path_with_namespace=path, git_http_url=url)
    return body


def send_hook(kg: KgServer, body: dict[str, Any], token: str, request_id: str = "") -> httpx.Response:
    headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": token}
    if request_id:
        headers["X-Request-Id"] = request_id
    return httpx.post(f"{kg.url}/webhooks/events", json=body, headers=headers, timeout=60)


def settled(kg: KgServer, project_id: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The project's status once its events are all done (succeeded or failed)."""
    deadline = time.monotonic() + 90
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = httpx.get(
            f"{kg.url}/projects/{project_id}/events/status", headers=headers, timeout=30
        ).json()
        progress = status.get("progress", {})
        if status.get("details", {}).get("status") not in (None, "in-progress") and (
            progress["done"] == progress["total"]
        ):
            return status
        time.sleep(0.1)
    raise AssertionError(f"project {project_id} never settled: {status}")


def log_lines(kg: KgServer) -> list[dict[str, Any]]:
    """Every line kg serve and its processes wrote, each a JSON object."""
    lines = kg.log.read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_push_request_id_follows_its_job_into_the_worker(
    tmp_path: Path, git_repo: Callable[[str], GitRepo], git_http: Any
) -> None:
    work = git_repo("work")
    work.commit({"a.txt": "a\n"}, "first")
    url = git_http.publish(work.path, "p1.git")
    kg = KgServer(tmp_path / "kg", {"KG_GIT_ALLOWED_ORIGINS": git_http.origin})
    try:
        body = push_body(1, "g/p1", url, work.head())
        hook = send_hook(kg, body, hook_token("test-hook-secret", 1), request_id="push-0001")
        assert hook.status_code == 202 and hook.headers["x-request-id"] == "push-0001"
        assert settled(kg, 1)["details"]["status"] == "success"
    finally:
        kg.stop()
    lines = log_lines(kg)  # every line is JSON: json.loads above would have failed otherwise
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    ours = [(line["logger"], line["msg"]) for line in lines if line.get("request_id") == "push-0001"]
    assert ("kg.webhooks", "webhook stored") in ours
    assert ("kg.worker", "job claimed") in ours and ("kg.worker", "job done") in ours, ours
    # the worker's own lines outside the job carry no request's id
    started = next(line for line in lines if line["msg"] == "worker started")
    assert "request_id" not in started


def test_no_secret_is_logged_by_any_process_in_a_whole_run(
    tmp_path: Path, git_repo: Callable[[str], GitRepo], identity: IdentityServer
) -> None:
    secrets = {
        "hook secret": "hook-secret-5f1e0c7a9b",
        "kg's GitLab token": "glpat-kg-admin-8c2d4e6f",
        "a member's GitLab token": "glpat-member-3a9b7c1d",
        "a stranger's hook token": "stranger-token-77e1a2",
        "token key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "store password": "store-password-4b6d8f",
        "password in a clone URL": "url-password-9e8d7c",
        "a maintainer's token kg stores": "glpat-maintainer-6f0e2b",
    }
    identity.gitlab_user(secrets["kg's GitLab token"], 1)
    identity.admins.add(1)
    identity.gitlab_user(secrets["a member's GitLab token"], 7)
    identity.gitlab_user(secrets["a maintainer's token kg stores"], 8)
    # a private project whose repository GitLab does not have: kg's fetch with the token it
    # stored for the project fails
    identity.gitlab_project(44, "team/empty", "private", {8: 50})
    work = git_repo("work")
    work.commit({"a.txt": "a\n"}, "first")
    identity.gitlab_project(42, "team/secret", "private", {7: 40})
    identity.gitlab_repository(42, work.path)
    # GitLab's own record of project 43 names a clone URL with credentials, on a dead port
    leaky = f"http://kg:{secrets['password in a clone URL']}@127.0.0.1:{free_port()}/team/leaky.git"
    identity.gitlab_project(43, "team/leaky", "public", {}, clone_url=leaky)
    ox = OxigraphServer(tmp_path / "oxigraph")
    env = {
        "KG_LOG_LEVEL": "DEBUG",
        "KG_HOOK_SECRET": secrets["hook secret"],
        "KG_GITLAB_URL": identity.url,
        "KG_GITLAB_TOKEN": secrets["kg's GitLab token"],
        "KG_OIDC_ISSUER": identity.issuer,
        "KG_TOKEN_KEY": secrets["token key"],
        "KG_STORE_URL": ox.url,
        "KG_STORE_USER": "kg",
        "KG_STORE_PASSWORD": secrets["store password"],
        "KG_MAX_ATTEMPTS": "1",
        "KG_SPARQL_WORKERS": "1",
    }
    kg = KgServer(tmp_path / "kg", env)
    try:
        hook = hook_token(secrets["hook secret"], 42)
        secrets["project 42's hook token"] = hook
        body = push_body(42, "team/secret", "http://127.0.0.1:9/ignored.git", work.head())
        assert send_hook(kg, body, hook).status_code == 202
        assert send_hook(kg, body, secrets["a stranger's hook token"]).status_code == 401
        member = {"PRIVATE-TOKEN": secrets["a member's GitLab token"]}
        assert settled(kg, 42, member)["details"]["status"] == "success"

        leaky_body = push_body(43, "team/leaky", "http://127.0.0.1:9/ignored.git", work.head())
        secrets["project 43's hook token"] = hook_token(secrets["hook secret"], 43)
        assert send_hook(kg, leaky_body, secrets["project 43's hook token"]).status_code == 202
        assert settled(kg, 43)["details"]["status"] == "failure"

        maintainer = {"PRIVATE-TOKEN": secrets["a maintainer's token kg stores"]}
        created = httpx.post(
            f"{kg.url}/projects/44/webhooks", headers={**maintainer, "X-Request-Id": "hook-44"}, timeout=30
        )
        assert created.status_code == 201
        assert settled(kg, 44, maintainer)["details"]["status"] == "failure"

        bearer = identity.token("7")
        expired = identity.token("7", expires_in=-60)
        secrets["an OIDC token"], secrets["an expired OIDC token"] = bearer, expired
        ask = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        with kg.client() as http:
            for headers in ({"Authorization": f"Bearer {bearer}"}, member):
                answer = http.get("/sparql", params={"query": ask}, headers={"Accept": "text/csv", **headers})
                assert answer.status_code == 200 and int(answer.text.split()[1]) > 0, answer.text
            refused = http.get(
                "/sparql", params={"query": ask}, headers={"Authorization": f"Bearer {expired}"}
            )
            assert refused.status_code == 401
            wrong = http.get(
                "/sparql", params={"query": ask}, headers={"PRIVATE-TOKEN": "glpat-wrong-5c5c5c"}
            )
            assert wrong.status_code == 401
            secrets["a wrong GitLab token"] = "glpat-wrong-5c5c5c"
    finally:
        kg.stop()
        ox.stop()
    # the operator's own `kg ingest` of a URL with credentials, failing to fetch
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg",
            "ingest",
            f"http://kg:{secrets['password in a clone URL']}@127.0.0.1:{free_port()}/x.git",
        ],
        env=kg_env(tmp_path / "cli", KG_LOG_LEVEL="DEBUG"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1 and "git clone" in cli.stderr
    text = kg.log.read_text() + cli.stdout + cli.stderr
    assert "job done" in text and "job failed for good" in text  # the run did log, and in detail
    assert '"level": "debug"' in text or len(text.splitlines()) > 20
    found = {name for name, secret in secrets.items() if secret in text}
    # a JWT is also found by its signature alone (a line may hold the token cut short)
    found |= {name for name, secret in secrets.items() if "OIDC" in name and secret.rsplit(".", 1)[1] in text}
    assert not found, f"logged: {sorted(found)}"
    # the job the hook's creation started logs under the id of that request
    failed = [json.loads(line) for line in text.splitlines() if "job failed for good" in line]
    assert {(line["project_id"], line.get("request_id")) for line in failed} >= {(44, "hook-44")}
