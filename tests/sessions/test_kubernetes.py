"""The Kubernetes backend against kmock, a stateful fake API server on 127.0.0.1: lightkube
talks to it over HTTP from a kubeconfig file, as it talks to a cluster in production."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import kmock
import pytest
import yaml

from kg.config import Settings
from kg.errors import InvalidInput, NotFound, Unavailable
from kg.sessions.base import Resources, SessionConflict, SessionSpec, session_name
from kg.sessions.kubernetes import KubernetesBackend
from kg.sessions.manifests import notebook_token

T = TypeVar("T")
KINDS = ["pod", "amaltheasession", "jupyterserver"]
NAMESPACE = "kg-sessions"
PLURAL = {
    "pod": "/api/v1/namespaces/kg-sessions/pods",
    "amaltheasession": "/apis/amalthea.dev/v1alpha1/namespaces/kg-sessions/amaltheasessions",
    "jupyterserver": "/apis/amalthea.dev/v1alpha1/namespaces/kg-sessions/jupyterservers",
}
SECRETS = "/api/v1/namespaces/kg-sessions/secrets"


@dataclass
class FakeApi:
    """kmock's Kubernetes emulator serving on a loopback port from its own thread."""

    url: str
    emulator: kmock.KubernetesEmulator
    loop: asyncio.AbstractEventLoop

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def merge(self, path: str, patch: dict[str, Any]) -> None:
        """What the kubelet or an operator does: write into the resource (its status)."""
        response = httpx.patch(
            self.url + path,
            json=patch,
            headers={"Content-Type": "application/merge-patch+json"},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def reply(self, path: str, body: bytes) -> None:
        """Serve `body` on `path` (the pod log endpoint kmock does not emulate)."""

        async def add() -> None:
            self.emulator[f"get {path}"] << body

        asyncio.run_coroutine_threadsafe(add(), self.loop).result(10)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    ready: list[FakeApi] = []
    started = threading.Event()
    stop: list[asyncio.Event] = []

    async def serve() -> None:
        stop.append(asyncio.Event())
        async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
            ready.append(FakeApi(str(server.url).rstrip("/"), emulator, asyncio.get_running_loop()))
            started.set()
            await stop[0].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10), "kmock did not start"
    yield ready[0]
    ready[0].loop.call_soon_threadsafe(stop[0].set)
    thread.join(10)


def kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "test", "cluster": {"server": server}}],
                "users": [{"name": "kg", "user": {"token": "not-checked"}}],
                "contexts": [{"name": "test", "context": {"cluster": "test", "user": "kg"}}],
                "current-context": "test",
            }
        )
    )
    return path


def settings_for(tmp_path: Path, server: str, kind: str, **more: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        sessions_backend="kubernetes",
        sessions_kind=kind,
        sessions_namespace=NAMESPACE,
        sessions_kubeconfig=str(kubeconfig(tmp_path / "kubeconfig", server)),
        **more,
    )


def spec(
    user: str = "7", image: str = "quay.io/jupyter/minimal-notebook:2024-12-09", **more: Any
) -> SessionSpec:
    commit = more.pop("commit_sha", "a" * 40)
    return SessionSpec(
        name=session_name(user, "climate/rain", commit),
        user=user,
        project_id=12,
        project_path="climate/rain",
        commit_sha=commit,
        branch="main",
        image=image,
        resources=Resources(cpu=0.5, memory=1024**3),
        default_url="/lab",
        clone_url="http://gitlab.example/climate/rain.git",
        token="glpat-secret",
        **more,
    )


def with_backend(settings: Settings, work: Callable[[KubernetesBackend], Awaitable[T]]) -> T:
    """Run `work` on a backend opened and closed in one event loop, as a request would."""

    async def run() -> T:
        backend = KubernetesBackend(settings)
        try:
            return await work(backend)
        finally:
            await backend.close()

    return asyncio.run(run())


@pytest.mark.parametrize("kind", KINDS)
def test_start_get_list_stop_with_its_secret(tmp_path: Path, fake_api: FakeApi, kind: str) -> None:
    settings = settings_for(tmp_path, fake_api.url, kind)
    wanted = spec()
    session = with_backend(settings, lambda b: b.start(wanted))
    assert (session.name, session.user, session.project_id, session.commit_sha) == (
        wanted.name,
        "7",
        12,
        "a" * 40,
    )
    assert session.status.state == "starting"  # nothing has written a status yet
    made = fake_api.get(f"{PLURAL[kind]}/{wanted.name}").json()
    assert made["metadata"]["labels"]["kg.dev/user"] == "7"
    assert made["metadata"]["labels"]["kg.dev/commit"] == "a" * 40
    assert "glpat-secret" not in yaml.safe_dump(made)  # the token is only in the Secret
    token = fake_api.get(f"{SECRETS}/{wanted.name}-git")
    assert token.status_code == 200
    assert token.json()["data"]["token"] == "Z2xwYXQtc2VjcmV0"  # base64 of the token

    assert with_backend(settings, lambda b: b.get(wanted.name)) == session
    assert [s.name for s in with_backend(settings, lambda b: b.list("7"))] == [wanted.name]
    assert with_backend(settings, lambda b: b.list("8")) == []

    with_backend(settings, lambda b: b.stop(wanted.name))
    assert with_backend(settings, lambda b: b.get(wanted.name)) is None
    assert fake_api.get(f"{SECRETS}/{wanted.name}-git").status_code == 404
    with_backend(settings, lambda b: b.stop(wanted.name))  # twice is fine


@pytest.mark.parametrize("kind", KINDS)
def test_start_again_returns_the_session_and_another_spec_conflicts(
    tmp_path: Path, fake_api: FakeApi, kind: str
) -> None:
    settings = settings_for(tmp_path, fake_api.url, kind)
    first = with_backend(settings, lambda b: b.start(spec()))
    assert with_backend(settings, lambda b: b.start(spec())) == first
    with pytest.raises(SessionConflict, match="another image"):
        with_backend(settings, lambda b: b.start(spec(image="other:1")))
    assert fake_api.get(f"{PLURAL[kind]}/{first.name}").json()["metadata"]["annotations"]["kg.dev/image"] != (
        "other:1"
    )


def container(name: str, ready: bool, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """A container status as the kubelet writes it (its required fields)."""
    return {
        "name": name,
        "ready": ready,
        "image": "i",
        "imageID": "",
        "restartCount": 0,
        "state": state or {},
    }


STATUSES: list[tuple[str, dict[str, Any], tuple[str, str, int, int]]] = [
    (
        "pod",
        {
            "phase": "Running",
            "containerStatuses": [container("session", True, {"running": {}})],
        },
        ("running", "", 1, 1),
    ),
    (
        "pod",
        {
            "phase": "Pending",
            "containerStatuses": [
                container(
                    "session", False, {"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}
                )
            ],
        },
        ("starting", "session: ImagePullBackOff: no such image", 0, 1),
    ),
    ("pod", {"phase": "Failed", "message": "evicted"}, ("failed", "evicted", 0, 1)),
    (
        "amaltheasession",
        {"state": "Running", "containerCounts": {"ready": 2, "total": 2}, "url": "https://s.example/x/"},
        ("running", "", 2, 2),
    ),
    ("amaltheasession", {"state": "Hibernated"}, ("hibernated", "", 0, 0)),
    ("amaltheasession", {"state": "Failed", "error": "OOMKilled"}, ("failed", "OOMKilled", 0, 0)),
    (
        "jupyterserver",
        {
            "mainPod": {
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        container("jupyter-server", True),
                        container("oauth2-proxy", False),
                    ],
                }
            }
        },
        ("starting", "", 1, 2),
    ),
]


@pytest.mark.parametrize(("kind", "status", "expected"), STATUSES)
def test_the_status_written_on_the_resource_shows_in_get(
    tmp_path: Path, fake_api: FakeApi, kind: str, status: dict[str, Any], expected: tuple[str, str, int, int]
) -> None:
    settings = settings_for(tmp_path, fake_api.url, kind)
    name = with_backend(settings, lambda b: b.start(spec())).name
    fake_api.merge(f"{PLURAL[kind]}/{name}", {"status": status})
    session = with_backend(settings, lambda b: b.get(name))
    assert session is not None
    got = session.status
    assert (got.state, got.message, got.ready_containers, got.total_containers) == expected
    if "url" in status:  # the operator's URL, with the notebook token kg gave the session
        assert session.url == f"{status['url']}?token={notebook_token(settings, name)}"


def test_a_resource_being_deleted_is_stopping(tmp_path: Path, fake_api: FakeApi) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod")
    name = with_backend(settings, lambda b: b.start(spec())).name
    # what the API server shows while a finalizer holds the deletion
    being_deleted = {"finalizers": ["example.org/hold"], "deletionTimestamp": "2026-01-01T00:00:00Z"}
    fake_api.merge(f"{PLURAL['pod']}/{name}", {"metadata": being_deleted})
    session = with_backend(settings, lambda b: b.get(name))
    assert session is not None
    assert session.status.state == "stopping"


def test_pod_kind_creates_service_and_ingress_when_sessions_have_a_url(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod", sessions_url="https://sessions.example")
    session = with_backend(settings, lambda b: b.start(spec()))
    token = notebook_token(settings, session.name)
    assert session.url == f"https://sessions.example/sessions/{session.name}/?token={token}"
    assert fake_api.get(f"/api/v1/namespaces/kg-sessions/services/{session.name}").status_code == 200
    ingress = f"/apis/networking.k8s.io/v1/namespaces/kg-sessions/ingresses/{session.name}"
    assert fake_api.get(ingress).json()["spec"]["rules"][0]["host"] == "sessions.example"
    with_backend(settings, lambda b: b.stop(session.name))
    assert fake_api.get(ingress).status_code == 404
    assert fake_api.get(f"/api/v1/namespaces/kg-sessions/services/{session.name}").status_code == 404


def test_a_user_id_that_is_no_label_value_is_hashed_and_kept_in_an_annotation(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod")
    session = with_backend(settings, lambda b: b.start(spec(user="ana@example.org")))
    made = fake_api.get(f"{PLURAL['pod']}/{session.name}").json()["metadata"]
    assert made["labels"]["kg.dev/user"].startswith("u-")
    assert made["annotations"]["kg.dev/user"] == "ana@example.org"
    assert [s.user for s in with_backend(settings, lambda b: b.list("ana@example.org"))] == [
        "ana@example.org"
    ]


def test_logs_are_the_tail_of_the_session_container(tmp_path: Path, fake_api: FakeApi) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod")
    name = with_backend(settings, lambda b: b.start(spec())).name
    fake_api.reply(f"/api/v1/namespaces/kg-sessions/pods/{name}/log", b"one\ntwo\nthree\n")
    assert with_backend(settings, lambda b: b.logs(name, 2)) == "two\nthree\n"
    with pytest.raises(NotFound):
        with_backend(settings, lambda b: b.logs("absent-0000000-000000000000", 5))


def test_an_api_server_that_is_down_is_unavailable(tmp_path: Path, fake_api: FakeApi) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_for(tmp_path, f"http://127.0.0.1:{port}", "pod")
    with pytest.raises(Unavailable, match="does not answer"):
        with_backend(settings, lambda b: b.get("any"))
    with pytest.raises(Unavailable, match="does not answer"):
        with_backend(settings, lambda b: b.start(spec()))


def test_a_missing_kubeconfig_is_unavailable_with_its_path(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, sessions_backend="kubernetes", sessions_kubeconfig=str(tmp_path / "absent")
    )
    with pytest.raises(Unavailable, match="absent"):
        with_backend(settings, lambda b: b.get("any"))


WATCHED_STATUS = {
    "pod": {"phase": "Running", "containerStatuses": [container("session", True, {"running": {}})]},
    "amaltheasession": {"state": "Running", "containerCounts": {"ready": 1, "total": 1}},
    "jupyterserver": {
        "mainPod": {"status": {"phase": "Running", "containerStatuses": [container("js", True)]}}
    },
}


@pytest.mark.parametrize("kind", KINDS)
def test_watch_reports_the_status_changes_then_the_deletion(
    tmp_path: Path, fake_api: FakeApi, kind: str
) -> None:
    settings = settings_for(tmp_path, fake_api.url, kind)

    async def watched(backend: KubernetesBackend) -> list[str | None]:
        name = (await backend.start(spec())).name
        await backend.start(spec(commit_sha="c" * 40))  # another session: not in this watch
        seen: list[str | None] = []
        async for session in backend.watch(name, timeout=20):
            seen.append(None if session is None else session.status.state)
            if session is None:
                break
            if session.status.state == "starting":
                await asyncio.to_thread(
                    fake_api.merge, f"{PLURAL[kind]}/{name}", {"status": WATCHED_STATUS[kind]}
                )
            elif session.status.state == "running":
                await backend.stop(name)
        return seen

    assert with_backend(settings, watched) == ["starting", "running", None]


def test_watch_ends_after_its_timeout(tmp_path: Path, fake_api: FakeApi) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod")

    async def watched(backend: KubernetesBackend) -> list[Any]:
        name = (await backend.start(spec())).name
        return [s.status.state if s else None async for s in backend.watch(name, timeout=0.5)]

    assert with_backend(settings, watched) == ["starting"]


def test_list_asks_the_server_for_the_user_s_label(tmp_path: Path, fake_api: FakeApi) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod")
    with_backend(settings, lambda b: b.start(spec()))
    with_backend(settings, lambda b: b.list("7"))
    selectors = [r.params.get("labelSelector", "") for r in fake_api.emulator if r.method == "GET"]
    assert any("kg.dev/user=7" in s and "app.kubernetes.io/managed-by=kg" in s for s in selectors), selectors


def test_the_secret_belongs_to_the_session_where_the_server_gives_uids(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    """A real API server answers a create with the object's uid (kmock does not, so here it
    is added): the Secret then names the session as its owner, for the garbage collector."""

    async def with_uid() -> None:
        fake_api.emulator["post /api/v1/namespaces/kg-sessions/pods"] << (
            lambda request: {**request.data, "metadata": {**request.data["metadata"], "uid": "uid-1"}}
        )

    asyncio.run_coroutine_threadsafe(with_uid(), fake_api.loop).result(10)
    settings = settings_for(tmp_path, fake_api.url, "pod")
    name = with_backend(settings, lambda b: b.start(spec())).name
    owners = fake_api.get(f"{SECRETS}/{name}-git").json()["metadata"]["ownerReferences"]
    assert owners == [{"apiVersion": "v1", "kind": "Pod", "name": name, "uid": "uid-1"}]


@pytest.mark.parametrize(
    ("code", "error", "text"), [(403, Unavailable, "answered 403"), (422, InvalidInput, "rejected")]
)
def test_api_refusals_are_kg_errors(
    tmp_path: Path, fake_api: FakeApi, code: int, error: type[Exception], text: str
) -> None:
    async def refuse() -> None:
        # as the API server answers: a Status object (lightkube reads its message)
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": "refused",
            "code": code,
        }
        fake_api.emulator["post /api/v1/namespaces/kg-sessions/pods"] << kmock.Response(
            status=code, payload=status
        )

    asyncio.run_coroutine_threadsafe(refuse(), fake_api.loop).result(10)
    settings = settings_for(tmp_path, fake_api.url, "pod")
    with pytest.raises(error, match=text):
        with_backend(settings, lambda b: b.start(spec()))
    # a failed start leaves nothing behind: not even the Secret made before the pod
    assert fake_api.get(f"{SECRETS}/{spec().name}-git").status_code == 404


def test_a_service_left_by_an_earlier_start_does_not_stop_the_next(tmp_path: Path, fake_api: FakeApi) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod", sessions_url="https://sessions.example")
    name = spec().name
    left = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 1}]},
    }
    assert httpx.post(
        f"{fake_api.url}/api/v1/namespaces/kg-sessions/services", json=left, timeout=10
    ).is_success
    session = with_backend(settings, lambda b: b.start(spec()))
    assert session.name == name
    ingress = f"/apis/networking.k8s.io/v1/namespaces/kg-sessions/ingresses/{name}"
    assert fake_api.get(ingress).status_code == 200  # created after the Service it found
