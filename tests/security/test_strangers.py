"""Strangers are cheap: a body is capped before it is read, the token is checked before JSON
is decoded, bad tokens and JWTs are 401s (never 500s), GitLab token checks are rate-limited
per address, and no request may carry hundreds of parameters."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.identity import IdentityServer
from tests.fixtures.processes import peak_memory
from tests.fixtures.servers import KgServer
from tests.security.conftest import push_body, send_hook
from webhooks.tokens import hook_token

MB = 1024 * 1024


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("strangers")
    identity = IdentityServer()
    env = {
        "KG_GITLAB_URL": identity.url,
        "KG_OIDC_ISSUER": identity.issuer,
        "KG_OIDC_AUDIENCE": "kg",
        "KG_AUTH_LOOKUPS_PER_MINUTE": "10",
        "KG_WORKER_ENABLED": "false",
    }
    kg = KgServer(root / "kg", env)
    yield {"kg": kg, "identity": identity}
    kg.stop()
    identity.stop()


def hook(kg: KgServer, content: bytes, token: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{kg.url}/webhooks/events",
        content=content,
        headers={"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": token, **headers},
        timeout=60,
    )


def test_a_huge_body_is_never_read_whole(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    body = b'{"object_kind": "push", "project_id": 5, "commits": [' + b'{"id": "x"},' * (4 * MB) + b"{}]}"
    assert len(body) > 40 * MB
    with peak_memory(kg.process.pid) as peak:
        started = time.monotonic()
        wrong = hook(kg, body, "not-the-token")
        refused = hook(kg, b'{"x": "' + b"y" * (8 * MB) + b'"}', "not-the-token")
        took = time.monotonic() - started
    assert wrong.status_code == 401  # its first MB names project 5, whose token this is not
    assert refused.status_code == 413  # no project_id in what was read: nothing to check it against
    assert refused.headers["content-type"] == "application/problem+json"
    assert peak.root_growth < 30 * MB, peak  # the serving process read none of it
    assert took < 10


def test_the_token_is_checked_before_the_json_is_decoded(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    deep = b'{"project_id": 5, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    assert hook(kg, deep, "not-the-token").status_code == 401
    # with the right token the body is decoded, within bounds: a 400, not a 500
    response = hook(kg, deep, hook_token("test-hook-secret", 5))
    assert response.status_code == 400
    assert "nested deeper than 32" in response.json()["detail"]
    # a body whose two project ids disagree is the token holder's mistake, not a way in
    body = push_body(5, "g/p5", "http://127.0.0.1:9/p.git", "a" * 40)
    body["project"]["id"] = 6
    assert send_hook(kg, body, 5).status_code == 400
    assert send_hook(kg, body, 6).status_code == 401


def test_gitlab_token_checks_are_rate_limited_per_address(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    identity: IdentityServer = world["identity"]
    before = identity.hits.get("/api/v4/user", 0)
    codes = []
    for _ in range(30):
        response = httpx.get(
            f"{kg.url}/knowledge-graph/entities", headers={"PRIVATE-TOKEN": secrets.token_hex(8)}, timeout=30
        )
        codes.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
    asked = identity.hits.get("/api/v4/user", 0) - before
    assert asked <= 11  # the budget (10 a minute), plus at most one refilled meanwhile
    assert codes.count(401) == asked and codes.count(429) == 30 - asked
    # a token GitLab knows still works once cached, and anonymous callers were never limited
    assert httpx.get(f"{kg.url}/knowledge-graph/entities", timeout=30).status_code == 200


def test_a_crowd_of_big_queries_is_scanned_a_few_at_a_time(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    query = ("SELECT * WHERE { ?s ?p ?o } # " + "x " * 500_000).encode()  # ~1 MB, mostly a comment
    answers: list[int] = []

    def ask(i: int) -> None:
        headers = {"Content-Type": "application/sparql-query", "X-Forwarded-For": "10.2.0.1"}
        answers.append(httpx.post(f"{kg.url}/sparql", content=query, headers=headers, timeout=60).status_code)

    with peak_memory(kg.process.pid) as peak:
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert 500 not in answers and answers.count(429) >= 20  # one caller: one at a time, a short line
    assert peak.root_growth < 300 * MB, peak


def test_gitlab_look_ups_for_strangers_are_budgeted(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    identity: IdentityServer = world["identity"]
    before = sum(n for path, n in identity.hits.items() if path.startswith("/api/v4/projects/"))
    codes = [
        httpx.get(f"{kg.url}/projects/{9000 + i}/events/status", timeout=30).status_code for i in range(30)
    ]
    asked = sum(n for path, n in identity.hits.items() if path.startswith("/api/v4/projects/")) - before
    assert asked <= 11 and codes.count(404) == asked and codes.count(429) == 30 - asked


def test_a_slow_gitlab_cannot_take_every_thread(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    identity: IdentityServer = world["identity"]
    identity.delay, identity.most_in_flight = 2.0, 0
    answers: list[int] = []

    def status(i: int) -> None:
        # callers behind a proxy (uvicorn trusts X-Forwarded-For from 127.0.0.1)
        headers = {"X-Forwarded-For": f"10.1.0.{i}"}
        answers.append(
            httpx.get(f"{kg.url}/projects/{8000 + i}/events/status", headers=headers, timeout=60).status_code
        )

    try:
        threads = [threading.Thread(target=status, args=(i,)) for i in range(24)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        started = time.monotonic()
        assert httpx.get(f"{kg.url}/health", timeout=30).json()["status"] == "ok"
        assert httpx.get(f"{kg.url}/knowledge-graph/entities", timeout=30).status_code == 200
        assert time.monotonic() - started < 2  # the server's threads were not all waiting on GitLab
        for thread in threads:
            thread.join()
    finally:
        identity.delay = 0.0
    assert identity.most_in_flight == 8  # eight at a time, whoever asks
    assert len(answers) == 24 and set(answers) <= {404, 503}  # 503: GitLab too slow to answer in time


def b64(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "header",
    [{"alg": "RS256", "kid": {"nested": 1}}, {"alg": "RS256", "kid": ["key-1"]}, {"alg": 5}, {"alg": "none"}],
)
def test_a_malformed_jwt_is_a_401(world: dict[str, Any], header: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    token = f"{b64(header)}.{b64({'sub': '7', 'exp': 9999999999})}.c2ln"
    assert token.startswith("eyJ")
    response = httpx.get(f"{kg.url}/sparql?query=ASK{{}}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"type": "about:blank", "title": "Unauthorized", "status": 401}


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("GET", "/knowledge-graph/entities?" + "&".join(["type=project"] * 300), None),
        ("GET", "/sparql?query=ASK{}&" + "&".join(["default-graph-uri=urn:x"] * 300), None),
        ("POST", "/sparql", "query=ASK%7B%7D&" + "&".join(["named-graph-uri=urn:x"] * 300)),
    ],
)
def test_hundreds_of_parameters_are_a_400(
    world: dict[str, Any], method: str, path: str, form: str | None
) -> None:
    kg: KgServer = world["kg"]
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    response = httpx.request(method, f"{kg.url}{path}", content=form, headers=headers, timeout=30)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "at most 100 are accepted" in response.json()["detail"]


def test_a_user_is_a_number(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    identity: IdentityServer = world["identity"]
    before = dict(identity.hits)
    for user in ("%2e%2e", "..", "7%2F..%2F..", "-1"):
        response = httpx.get(f"{kg.url}/knowledge-graph/users/{user}/projects", timeout=30)
        assert response.status_code in (307, 400, 404)  # `..` may be resolved by the client
    assert identity.hits == before  # GitLab was never asked


def test_none_of_it_cost_a_500(world: dict[str, Any]) -> None:
    log = Path(world["kg"].log).read_text()
    assert "unhandled error" not in log and "Traceback" not in log


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_a_huge_query_is_refused_unread(world: dict[str, Any], content_type: str) -> None:
    kg: KgServer = world["kg"]
    body = b"query=" + b"ASK { ?s ?p ?o } #" * 200_000 if "form" in content_type else b"#" * (8 * MB)
    with peak_memory(kg.process.pid) as peak:
        response = httpx.post(
            f"{kg.url}/sparql", content=body, headers={"Content-Type": content_type}, timeout=60
        )
    assert response.status_code == 413
    assert "larger than 1048576 bytes" in response.json()["detail"]
    assert peak.root_growth < 30 * MB, peak  # the serving process read none of it
