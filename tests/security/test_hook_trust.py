"""A hook token changes only its own project, and credentials go only to the forge.

The payload is the attacker's: it never decides where kg fetches from, under which project
it writes, or where credentials go. Attacked against real `kg serve` processes, one with a
GitLab stand-in (the authority on projects) and one without (allowed origins only).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.recorder import RequestRecorder
from tests.fixtures.servers import KgServer
from tests.security.conftest import commits_of, published, push_body, send_hook, settled, wait_published

ADMIN = "kg-instance-token-0123456789"
MEMBER = "member-70-token"
SECRET = 7  # a private project, "team/secret", member 70
ATTACKER = 5  # the attacker's own public project, "other/p5"
IGNORED = "http://127.0.0.1:9/ignored.git"  # with GitLab, a payload's URL is never used


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, module_recorder: RequestRecorder
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("trust")
    gitlab = IdentityServer()
    gitlab.gitlab_user(ADMIN, 1)
    gitlab.admins.add(1)
    gitlab.gitlab_user(MEMBER, 70)
    served = root / "served"
    served.mkdir()
    plain = GitHttpServer(served)
    repos = {}
    for pid, path, visibility in ((SECRET, "team/secret", "private"), (ATTACKER, "other/p5", "public")):
        work = make_repo(root / "work" / path)
        work.commit({"README": f"{path}\n"}, f"start {path}")
        repos[pid] = work
        gitlab.gitlab_project(pid, path, visibility, {70: 40} if pid == SECRET else {5: 50})
        gitlab.gitlab_repository(pid, work.path)
        plain.publish(work.path, f"{path}.git")
    forge = KgServer(root / "forge", {"KG_GITLAB_URL": gitlab.url, "KG_GITLAB_TOKEN": ADMIN})
    bare = KgServer(root / "bare", {"KG_GIT_ALLOWED_ORIGINS": plain.origin})
    yield {"gitlab": gitlab, "plain": plain, "forge": forge, "bare": bare, "repos": repos, "root": root}
    forge.stop()
    bare.stop()
    plain.stop()
    gitlab.stop()


def ingest_secret(world: dict[str, Any], server: str) -> None:
    """Project 7 ingested as GitLab (or its own hook, without GitLab) says, once per server."""
    kg = world[server]
    if getattr(kg, "secret_done", False):
        return
    url = world["plain"].url("team/secret.git")
    head = world["repos"][SECRET].head()
    assert send_hook(kg, push_body(SECRET, "team/secret", url, head, visibility=0), SECRET).status_code == 202
    member = {"PRIVATE-TOKEN": MEMBER} if server == "forge" else None
    if server == "forge":
        assert settled(kg, SECRET, member)["details"]["status"] == "success"
    else:  # without GitLab nobody can prove membership: the status is nobody's to read
        wait_published(kg, "team/secret")
    kg.secret_done = True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "file://{data}/mirrors/7.git",
        "{data}/mirrors/7.git",
        "ext::sh -c touch% /tmp/kg-pwned-ext",
        "fd::3",
        "ssh://-oProxyCommand=touch%20/tmp/kg-pwned-ssh/x",
        "git://127.0.0.1:9418/team/secret.git",
        "{recorder}/team/secret.git",
        "{plain}/team/../team/secret.git",
        "{plain}/team/secret.git?x=1",
        "https://{plain_host}:99999/x.git",
    ],
)
def test_a_payload_cannot_choose_where_kg_fetches_from(
    world: dict[str, Any], module_recorder: RequestRecorder, url: str
) -> None:
    kg: KgServer = world["bare"]
    ingest_secret(world, "bare")  # a private project kg holds, with its bare mirror on disk
    plain: GitHttpServer = world["plain"]
    url = url.format(
        data=kg.data_dir,
        recorder=module_recorder.origin,
        plain=plain.origin,
        plain_host=plain.origin.removeprefix("http://"),
    )
    seen_before = len(plain.seen)
    head = world["repos"][ATTACKER].head()
    response = send_hook(kg, push_body(ATTACKER, "other/p5", url, head), ATTACKER, key=url)
    assert response.status_code == 202
    status = settled(kg, ATTACKER)
    assert status["details"]["status"] == "failure"
    message = status["details"]["message"]
    assert message.startswith(("clone URL refused", "no repository URL")), message
    assert str(kg.data_dir) not in message
    # git never ran against anything: no request anywhere, no file made by a command
    assert module_recorder.requests == []
    assert len(plain.seen) == seen_before
    assert not Path("/tmp/kg-pwned-ext").exists() and not Path("/tmp/kg-pwned-ssh").exists()
    # the private project was not ingested a second time as the attacker's public one
    assert commits_of(kg, "other/p5") == 0
    assert commits_of(kg, "team/secret") == 0  # anonymous still sees nothing of it


def test_credentials_in_a_payload_url_are_never_stored(world: dict[str, Any]) -> None:
    kg: KgServer = world["bare"]
    plain: GitHttpServer = world["plain"]
    url = plain.url("other/p5.git").replace("http://", "http://oauth2:hunter2-in-url@")
    head = world["repos"][ATTACKER].head()
    assert send_hook(kg, push_body(ATTACKER, "other/p5", url, head), ATTACKER, key="creds").status_code == 202
    settled(kg, ATTACKER)
    with sqlite3.connect(kg.data_dir / "events.sqlite") as db:
        stored = db.execute("SELECT clone_url FROM projects WHERE project_id = ?", (ATTACKER,)).fetchone()[0]
    assert stored == plain.url("other/p5.git")
    for file in kg.data_dir.glob("events.sqlite*"):
        assert b"hunter2-in-url" not in file.read_bytes()
    assert "hunter2-in-url" not in kg.log.read_text()


def test_a_hook_cannot_take_over_another_projects_path(world: dict[str, Any]) -> None:
    kg: KgServer = world["bare"]
    ingest_secret(world, "bare")
    before = published(kg)["team/secret"]
    # the attacker's token, the victim's path, a repository on an allowed origin
    url = world["plain"].url("other/p5.git")
    head = world["repos"][ATTACKER].head()
    assert (
        send_hook(kg, push_body(ATTACKER, "team/secret", url, head), ATTACKER, key="takeover").status_code
        == 202
    )
    status = settled(kg, ATTACKER)
    assert status["details"]["status"] == "failure"
    assert status["details"]["message"] == (
        "the path team/secret belongs to another GitLab project in kg; this project may not replace it"
    )
    after = published(kg)["team/secret"]
    assert after == before and after["gitlab_id"] == SECRET


def test_a_push_too_large_to_read_changes_nothing_known_of_the_project(world: dict[str, Any]) -> None:
    kg: KgServer = world["bare"]
    ingest_secret(world, "bare")
    before = published(kg)["team/secret"]
    # a genuine push of the private project, listing more files than kg reads
    url = world["plain"].url("team/secret.git")
    body = push_body(SECRET, "team/secret", url, world["repos"][SECRET].head(), visibility=0)
    body["commits"] = [{"id": "a" * 40, "added": [f"data/part-{i:05d}.csv" for i in range(60_000)]}]
    response = send_hook(kg, body, SECRET, key="too-large")
    assert (response.status_code, response.json()["status"]) == (202, "accepted")
    deadline = time.monotonic() + 60
    while published(kg)["team/secret"]["ingested_at"] == before["ingested_at"]:
        assert time.monotonic() < deadline, "never ingested again"
        time.sleep(0.1)
    assert published(kg)["team/secret"]["visibility"] == "private"
    assert commits_of(kg, "team/secret") == 0


@pytest.mark.parametrize(
    "path",
    [
        "team/../secret",
        "team/-/secret",
        "a",
        "team/secret\n",
        "team/sécret",
        "team/" + "x" * 300,
        "/".join("g" * 30),
    ],
)
def test_a_slug_gitlab_would_refuse_is_a_400(world: dict[str, Any], path: str) -> None:
    kg: KgServer = world["bare"]
    url = world["plain"].url("other/p5.git")
    response = send_hook(kg, push_body(ATTACKER, path, url, "a" * 40), ATTACKER)
    assert response.status_code == 400
    assert response.json()["parameter"] == "project.path_with_namespace"


def test_delivery_keys_deduplicate_within_one_project_only(world: dict[str, Any]) -> None:
    kg: KgServer = world["bare"]
    url = world["plain"].url("other/p5.git")
    first = send_hook(kg, push_body(31, "g/p31", url, "a" * 40), 31, key="shared-key")
    second = send_hook(kg, push_body(32, "g/p32", url, "a" * 40), 32, key="shared-key")
    again = send_hook(kg, push_body(31, "g/p31", url, "a" * 40), 31, key="shared-key")
    assert [r.json()["status"] for r in (first, second, again)] == ["accepted", "accepted", "duplicate"]


def test_with_gitlab_the_project_id_decides_everything(
    world: dict[str, Any], module_recorder: RequestRecorder
) -> None:
    kg: KgServer = world["forge"]
    gitlab: IdentityServer = world["gitlab"]
    ingest_secret(world, "forge")
    before = commits_of(kg, "team/secret", {"PRIVATE-TOKEN": MEMBER})
    # project 5's token; the victim's path, the recorder's URL with credentials, "public"
    url = module_recorder.url("team/secret.git").replace("http://", "http://oauth2:x@")
    head = world["repos"][ATTACKER].head()
    body = push_body(ATTACKER, "team/secret", url, head, visibility=20)
    gitlab.git_seen.clear()
    assert send_hook(kg, body, ATTACKER, key="forge-1").status_code == 202
    assert settled(kg, ATTACKER)["details"]["status"] == "success"
    assert module_recorder.requests == []
    # fetched from GitLab's URL for project 5, with kg's token, and filed under GitLab's path
    assert gitlab.git_seen and {path.split(".git/")[0] for path, _ in gitlab.git_seen} == {"/other/p5"}
    assert {token for _, token in gitlab.git_seen} == {ADMIN}
    assert commits_of(kg, "other/p5") == 1
    assert commits_of(kg, "team/secret", {"PRIVATE-TOKEN": MEMBER}) == before == 1
    # the private project's own hook claiming "public" changes nothing: GitLab says private
    url = world["plain"].url("team/secret.git")
    body = push_body(SECRET, "team/secret", url, world["repos"][SECRET].head(), visibility=20)
    assert send_hook(kg, body, SECRET, key="forge-2").status_code == 202
    settled(kg, SECRET, {"PRIVATE-TOKEN": MEMBER})
    assert commits_of(kg, "team/secret") == 0
    assert ADMIN not in kg.log.read_text()


def test_the_status_answers_only_the_projects_readers(world: dict[str, Any]) -> None:
    kg: KgServer = world["forge"]
    ingest_secret(world, "forge")
    anonymous = httpx.get(f"{kg.url}/projects/{SECRET}/events/status", timeout=30)
    outsider_token = "outsider-token"
    world["gitlab"].gitlab_user(outsider_token, 99)
    outsider = httpx.get(
        f"{kg.url}/projects/{SECRET}/events/status", headers={"PRIVATE-TOKEN": outsider_token}, timeout=30
    )
    member = httpx.get(
        f"{kg.url}/projects/{SECRET}/events/status", headers={"PRIVATE-TOKEN": MEMBER}, timeout=30
    )
    assert (anonymous.status_code, outsider.status_code, member.status_code) == (404, 404, 200)
    assert anonymous.json() == {
        "type": "about:blank",
        "title": "NotFound",
        "status": 404,
        "detail": "project '7' not found",
        "message": "Info about project cannot be found",
    }
    # a project GitLab does not know is as absent as a hidden one
    assert httpx.get(f"{kg.url}/projects/424242/events/status", timeout=30).status_code == 404


def test_a_path_freed_by_a_rename_at_gitlab_goes_to_the_project_now_there(world: dict[str, Any]) -> None:
    kg: KgServer = world["forge"]
    gitlab: IdentityServer = world["gitlab"]
    root: Path = world["root"]
    works = {}
    for pid in (21, 22):
        works[pid] = make_repo(root / "work" / f"p{pid}")
        works[pid].commit({"README": f"project {pid}\n"}, f"project {pid}")
    gitlab.gitlab_project(21, "team/old", "public", {70: 40})
    gitlab.gitlab_repository(21, works[21].path)
    assert (
        send_hook(kg, push_body(21, "team/old", IGNORED, works[21].head()), 21, key="r1").status_code == 202
    )
    assert settled(kg, 21)["details"]["status"] == "success"
    # GitLab renames 21 and creates 22 at its old path; 22 pushes first
    gitlab.projects[21]["path_with_namespace"] = "team/renamed"
    gitlab.gitlab_repository(21, works[21].path)
    gitlab.gitlab_project(22, "team/old", "public", {70: 40})
    gitlab.gitlab_repository(22, works[22].path)
    assert (
        send_hook(kg, push_body(22, "team/old", IGNORED, works[22].head()), 22, key="r2").status_code == 202
    )
    assert settled(kg, 22)["details"]["status"] == "success"
    assert published(kg)["team/old"]["gitlab_id"] == 22
    # then 21 pushes: it is filed at its new path, and the old one stays 22's
    assert (
        send_hook(kg, push_body(21, "team/old", IGNORED, works[21].head()), 21, key="r3").status_code == 202
    )
    assert settled(kg, 21)["details"]["status"] == "success"
    records = published(kg)
    assert (records["team/renamed"]["gitlab_id"], records["team/old"]["gitlab_id"]) == (21, 22)


def test_a_project_moved_without_gitlab_keeps_one_path(world: dict[str, Any]) -> None:
    kg: KgServer = world["bare"]
    url = world["plain"].url("other/p5.git")
    head = world["repos"][ATTACKER].head()
    for n, path in enumerate(("squat/one", "squat/two")):
        assert send_hook(kg, push_body(33, path, url, head), 33, key=f"mv{n}").status_code == 202
        wait_published(kg, path)
    # one project id, one path: naming another frees the first, so a token squats one at most
    settled_at = time.monotonic() + 30
    while "squat/one" in published(kg):
        assert time.monotonic() < settled_at, "the old path was never forgotten"
        time.sleep(0.1)
    assert published(kg)["squat/two"]["gitlab_id"] == 33
