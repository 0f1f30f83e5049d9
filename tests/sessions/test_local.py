"""The local session backend with real processes: a stand-in server (or Jupyter, where it is
installed) started in a clone of a real repository at a commit, found again by a new backend
object, and stopped."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from kg.config import Settings
from kg.errors import NotFound
from kg.sessions import Resources, Session, SessionConflict, SessionSpec, open_backend, session_name
from kg.sessions.local import LocalBackend
from tests.fixtures.gitrepo import make_repo

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "session_server.py"
STAND_IN = f"{shlex.quote(sys.executable)} {shlex.quote(str(SERVER))} --port {{port}} --token {{token}} --base-url {{base_url}}"


def settings(data_dir: Path, command: str = STAND_IN) -> Settings:
    return Settings(data_dir=data_dir, sessions_command=command)


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, str, str]:
    """A bare mirror (as the worker keeps) of a repository with two commits: (path, first, second)."""
    repo = make_repo(tmp_path / "work")
    first = repo.commit({"data/raw.csv": "a,b\n", "README.md": "first"}, "first")
    second = repo.commit({"data/raw.csv": None, "figure.py": "print(1)\n"}, "second")
    bare = tmp_path / "mirrors" / "5.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(bare)], check=True)
    return bare, first, second


def spec_of(
    mirror: Path, commit: str, *, user: str = "7", image: str = "img", branch: str = ""
) -> SessionSpec:
    return SessionSpec(
        name=session_name(user, "group/rain", commit),
        user=user,
        project_id=5,
        project_path="group/rain",
        commit_sha=commit,
        branch=branch,
        image=image,
        resources=Resources(0.5, 1 << 30),
        default_url="/",
        clone_url=str(mirror),
    )


def wait_for(backend: LocalBackend, name: str, state: str, timeout: float = 30.0) -> Session:
    """Poll the session until it reaches `state` (a generous bound that catches a hang)."""
    deadline = time.monotonic() + timeout
    while True:
        found = asyncio.run(backend.get(name))
        assert found is not None
        if found.status.state == state or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_session_serves_the_commit_survives_a_reopen_and_stops(
    tmp_path: Path, mirror: tuple[Path, str, str]
) -> None:
    bare, first, _ = mirror
    backend = LocalBackend(settings(tmp_path / "data"))
    spec = spec_of(bare, first)
    started = asyncio.run(backend.start(spec))
    assert started.status.state in ("starting", "running")
    assert started.url.startswith("http://127.0.0.1:") and f"/sessions/{spec.name}/?token=" in started.url

    running = wait_for(backend, spec.name, "running")
    assert running.status.state == "running", running.status
    assert (running.status.ready_containers, running.status.total_containers) == (1, 1)
    answer = httpx.get(running.url).json()  # the stand-in checks the token and lists its cwd
    assert answer["files"] == [".git", "README.md", "data"]  # the first commit, not the head
    assert Path(answer["cwd"]) == tmp_path / "data" / "sessions" / spec.name / "work"
    wrong = httpx.get(running.url.split("?")[0] + "?token=nope")
    assert wrong.status_code == 403

    again = LocalBackend(settings(tmp_path / "data"))  # as after a kg serve restart
    found = wait_for(again, spec.name, "running")
    assert found.status.state == "running" and found.url == running.url
    assert [s.name for s in asyncio.run(again.list("7"))] == [spec.name]
    assert asyncio.run(again.list("8")) == []
    assert "session server on port" in asyncio.run(again.logs(spec.name, 10))

    asyncio.run(again.stop(spec.name))
    port = urlsplit(running.url).port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/")
    assert not (tmp_path / "data" / "sessions" / spec.name).exists()
    assert asyncio.run(again.get(spec.name)) is None
    asyncio.run(again.stop(spec.name))  # idempotent
    with pytest.raises(NotFound):
        asyncio.run(again.logs(spec.name, 10))


def test_the_same_spec_returns_the_session_another_is_a_conflict(
    tmp_path: Path, mirror: tuple[Path, str, str]
) -> None:
    bare, _, second = mirror
    backend = LocalBackend(settings(tmp_path / "data"))
    spec = spec_of(bare, second, branch="analysis")
    try:
        first = asyncio.run(backend.start(spec))
        same = asyncio.run(backend.start(spec))
        assert (same.name, same.url, same.started) == (first.name, first.url, first.started)
        with pytest.raises(SessionConflict):
            asyncio.run(backend.start(spec_of(bare, second, branch="analysis", image="other")))
        work = tmp_path / "data" / "sessions" / spec.name / "work"
        head = subprocess.run(
            ["git", "-C", str(work), "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True
        )
        assert head.stdout.decode().strip() == "analysis"
        assert sorted(p.name for p in work.iterdir()) == [".git", "README.md", "figure.py"]
    finally:
        asyncio.run(backend.stop(spec.name))


def test_a_command_that_exits_is_failed_with_its_exit_code(
    tmp_path: Path, mirror: tuple[Path, str, str]
) -> None:
    bare, first, _ = mirror
    command = f"{shlex.quote(sys.executable)} -c 'import sys; print(\"broken on {{port}}\"); sys.exit(3)'"
    backend = LocalBackend(settings(tmp_path / "data", command))
    spec = spec_of(bare, first)
    asyncio.run(backend.start(spec))
    failed = wait_for(backend, spec.name, "failed")
    assert failed.status.state == "failed"
    assert failed.status.message == "the process exited with code 3"
    assert "broken on " in asyncio.run(backend.logs(spec.name, 5))
    reopened = wait_for(LocalBackend(settings(tmp_path / "data", command)), spec.name, "failed")
    assert reopened.status.state == "failed"  # a restarted kg reports the dead process too
    asyncio.run(backend.stop(spec.name))
    assert asyncio.run(backend.get(spec.name)) is None


def test_an_unknown_commit_leaves_nothing(tmp_path: Path, mirror: tuple[Path, str, str]) -> None:
    bare, _, _ = mirror
    backend = LocalBackend(settings(tmp_path / "data"))
    spec = spec_of(bare, "0" * 40)
    with pytest.raises(Exception, match="exited"):
        asyncio.run(backend.start(spec))
    assert asyncio.run(backend.get(spec.name)) is None
    assert list((tmp_path / "data" / "sessions").iterdir()) == []


def test_logs_are_bounded_by_lines(tmp_path: Path, mirror: tuple[Path, str, str]) -> None:
    bare, first, _ = mirror
    command = f"{shlex.quote(sys.executable)} -c 'print(*range(500), sep=chr(10))' {{port}}"
    backend = LocalBackend(settings(tmp_path / "data", command))
    spec = spec_of(bare, first)
    asyncio.run(backend.start(spec))
    wait_for(backend, spec.name, "failed")
    assert asyncio.run(backend.logs(spec.name, 3)) == "497\n498\n499\n"
    asyncio.run(backend.stop(spec.name))


def test_the_session_gets_none_of_kgs_settings(tmp_path: Path, mirror: tuple[Path, str, str]) -> None:
    bare, first, _ = mirror
    command = (
        f"{shlex.quote(sys.executable)} -c "
        "'import os; print(sorted(k for k in os.environ if k.startswith(\"KG_\")))' {port}"
    )
    backend = LocalBackend(settings(tmp_path / "data", command))
    spec = spec_of(bare, first)
    with pytest.MonkeyPatch.context() as env:  # kg's environment, not kg's code
        env.setenv("KG_GITLAB_TOKEN", "secret-of-kg")
        asyncio.run(backend.start(spec))
    wait_for(backend, spec.name, "failed")
    assert asyncio.run(backend.logs(spec.name, 5)) == "[]\n"
    asyncio.run(backend.stop(spec.name))


def test_settings_choose_the_local_backend(tmp_path: Path) -> None:
    assert isinstance(open_backend(settings(tmp_path)), LocalBackend)


JUPYTER = importlib.util.find_spec("jupyterlab") is not None


@pytest.mark.skipif(
    not JUPYTER, reason="jupyterlab is not installed in this environment (not a kg dependency)"
)
def test_real_jupyter_lab(tmp_path: Path, mirror: tuple[Path, str, str]) -> None:
    bare, first, _ = mirror
    command = (
        f"{shlex.quote(sys.executable)} -m jupyterlab --no-browser --ip=127.0.0.1 --port={{port}}"
        " --ServerApp.token={token} --ServerApp.base_url={base_url}"
    )
    backend = LocalBackend(settings(tmp_path / "data", command))
    spec = spec_of(bare, first)
    try:
        asyncio.run(backend.start(spec))
        running = wait_for(backend, spec.name, "running", timeout=120)
        assert running.status.state == "running"
        base, _, token = running.url.partition("?token=")
        contents = httpx.get(f"{base}api/contents", headers={"Authorization": f"token {token}"}).json()
        assert sorted(c["name"] for c in contents["content"]) == ["README.md", "data"]
    finally:
        asyncio.run(backend.stop(spec.name))


def test_a_start_abandoned_mid_clone_does_not_hold_the_name(
    tmp_path: Path, mirror: tuple[Path, str, str]
) -> None:
    bare, first, _ = mirror
    backend = LocalBackend(
        Settings(data_dir=tmp_path / "data", sessions_command=STAND_IN, git_timeout_seconds=1)
    )
    spec = spec_of(bare, first)
    left = tmp_path / "data" / "sessions" / spec.name
    (left / "work").mkdir(parents=True)  # as a kg killed while cloning leaves it
    with pytest.raises(SessionConflict, match="being started"):  # a start may still be at work
        asyncio.run(backend.start(spec))
    os.utime(left, (time.time() - 120, time.time() - 120))
    try:
        assert asyncio.run(backend.start(spec)).name == spec.name
        assert (left / "work" / "README.md").read_text() == "first"
    finally:
        asyncio.run(backend.stop(spec.name))
