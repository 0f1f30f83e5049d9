"""Every manifest the Kubernetes backend generates is valid: core kinds against Kubernetes'
own schemas (kubernetes-validate, strict), the Amalthea custom resources against their CRD's
openAPIV3Schema (jsonschema), read from ../shared/reference/k8s/."""

from __future__ import annotations

import base64
import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from kg.config import Settings
from kg.sessions.base import Resources, SessionSpec, session_name
from kg.sessions.kubernetes import KubernetesBackend
from kg.sessions.manifests import clone_container, fingerprint, notebook_token
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo

KUBERNETES = "1.31.0"  # the version tests/charts validates the chart against
CRDS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "k8s"
CRD_FILES = {
    "AmaltheaSession": "amaltheasessions.amalthea.dev.crd.yaml",
    "JupyterServer": "jupyterservers.amalthea.dev.crd.yaml",
}
KINDS = ["pod", "amaltheasession", "jupyterserver"]


def spec(**more: Any) -> SessionSpec:
    fields: dict[str, Any] = {
        "name": session_name("7", "climate/rain", "a" * 40),
        "user": "7",
        "project_id": 12,
        "project_path": "climate/rain",
        "commit_sha": "a" * 40,
        "branch": "main",
        "image": "quay.io/jupyter/minimal-notebook:2024-12-09",
        "resources": Resources(cpu=0.5, memory=1024**3, gpu=1),
        "default_url": "/lab",
        "clone_url": "http://gitlab.example/climate/rain.git",
        "token": "glpat-secret",
    }
    return SessionSpec(**{**fields, **more})


def generated(tmp_path: Path, kind: str, **settings: Any) -> list[dict[str, Any]]:
    backend = KubernetesBackend(Settings(data_dir=tmp_path, sessions_kind=kind, **settings))
    return backend.manifests(spec(), 1_700_000_000.0)


def closed(schema: Any) -> Any:
    """The CRD schema as the API server applies it: fields it does not declare are pruned
    (lost without a word), so here they are errors."""
    if isinstance(schema, dict):
        out = {key: closed(value) for key, value in schema.items()}
        open_ended = schema.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in schema
        if schema.get("type") == "object" and "properties" in schema and not open_ended:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


def crd_schema(kind: str) -> dict[str, Any]:
    if not CRDS.is_dir():
        pytest.skip(f"the Amalthea CRDs are read from {CRDS}, absent here (../shared is not checked out)")
    crd = yaml.safe_load((CRDS / CRD_FILES[kind]).read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    # the root stays open: apiVersion, kind and metadata are the API server's, not the CRD's
    return {**schema, "properties": {key: closed(part) for key, part in schema["properties"].items()}}


def validate_custom(resource: dict[str, Any]) -> None:
    """OpenAPI v3.0 schemas keep draft 4's keywords (a boolean exclusiveMaximum)."""
    jsonschema.Draft4Validator(crd_schema(resource["kind"])).validate(resource)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("url", ["", "https://sessions.example"])
def test_core_manifests_are_valid_kubernetes(tmp_path: Path, kind: str, url: str) -> None:
    made = generated(tmp_path, kind, sessions_url=url, sessions_ingress_class="nginx")
    core = [m for m in made if m["kind"] not in CRD_FILES]
    expected = {"pod": {"Secret", "Pod", "Service"} | ({"Ingress"} if url else set())}.get(kind, {"Secret"})
    assert {m["kind"] for m in core} == expected
    for manifest in core:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


@pytest.mark.parametrize("kind", ["amaltheasession", "jupyterserver"])
@pytest.mark.parametrize("url", ["", "https://sessions.example"])
def test_custom_resources_match_their_crd(tmp_path: Path, kind: str, url: str) -> None:
    (resource,) = [m for m in generated(tmp_path, kind, sessions_url=url) if m["kind"] in CRD_FILES]
    validate_custom(resource)
    # the clone's init container is validated as a core container too
    if kind == "amaltheasession":
        init = resource["spec"]["initContainers"][0]
    else:
        init = next(
            op["value"] for op in resource["spec"]["patches"][0]["patch"] if "initContainers/-" in op["path"]
        )
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": [init]}}
    kubernetes_validate.validate(pod, KUBERNETES, strict=True)


def test_the_crd_check_catches_a_misspelt_field(tmp_path: Path) -> None:
    (resource,) = [m for m in generated(tmp_path, "amaltheasession") if m["kind"] == "AmaltheaSession"]
    broken = copy.deepcopy(resource)
    broken["spec"]["session"]["workingDirectory"] = "/home"  # the CRD says workingDir
    with pytest.raises(jsonschema.ValidationError, match="workingDirectory"):
        validate_custom(broken)


@pytest.mark.parametrize("kind", KINDS)
def test_the_token_is_only_in_the_secret(tmp_path: Path, kind: str) -> None:
    made = generated(tmp_path, kind)
    holders = [m["kind"] for m in made if "glpat-secret" in yaml.safe_dump(m)]
    assert holders == []  # not even the Secret holds it in clear: base64 in `data`
    (secret,) = [m for m in made if m["kind"] == "Secret"]
    assert secret["data"]["token"] == "Z2xwYXQtc2VjcmV0"
    assert "Z2xwYXQtc2VjcmV0" not in yaml.safe_dump([m for m in made if m["kind"] != "Secret"])


def test_the_pod_s_jupyter_reads_its_token_from_the_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sessions_kind="pod")
    made = KubernetesBackend(settings).manifests(spec(), 0.0)
    (secret,) = [m for m in made if m["kind"] == "Secret"]
    (pod,) = [m for m in made if m["kind"] == "Pod"]
    token = notebook_token(settings, spec().name)
    assert base64.b64decode(secret["data"]["notebook-token"]).decode() == token
    (env,) = pod["spec"]["containers"][0]["env"]
    assert env == {
        "name": "JUPYTER_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": secret["metadata"]["name"], "key": "notebook-token"}},
    }
    assert token not in yaml.safe_dump(pod)
    (session,) = [m for m in generated(tmp_path, "amaltheasession") if m["kind"] == "AmaltheaSession"]
    assert session["spec"]["session"]["env"] == [env]
    other_key = Settings(data_dir=tmp_path, token_key="b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMTI=")
    assert notebook_token(other_key, spec().name) != token


@pytest.mark.parametrize("kind", KINDS)
def test_every_resource_names_user_project_and_commit(tmp_path: Path, kind: str) -> None:
    for manifest in generated(tmp_path, kind):
        meta = manifest["metadata"]
        assert meta["labels"]["kg.dev/user"] == "7"
        assert meta["labels"]["kg.dev/project-id"] == "12"
        assert meta["labels"]["kg.dev/commit"] == "a" * 40
        assert meta["annotations"]["kg.dev/project-path"] == "climate/rain"
        assert meta["annotations"]["kg.dev/fingerprint"] == fingerprint(spec())


def test_culling_limits_are_passed_to_the_operators(tmp_path: Path) -> None:
    limits = {"sessions_max_age_seconds": 7200, "sessions_idle_seconds": 600}
    (session,) = [
        m for m in generated(tmp_path, "amaltheasession", **limits) if m["kind"] == "AmaltheaSession"
    ]
    assert session["spec"]["culling"] == {"maxAge": "7200s", "maxIdleDuration": "600s"}
    (server,) = [m for m in generated(tmp_path, "jupyterserver", **limits) if m["kind"] == "JupyterServer"]
    assert server["spec"]["culling"] == {"maxAgeSecondsThreshold": 7200, "idleSecondsThreshold": 600}


def test_the_fingerprint_ignores_the_token_but_not_the_image() -> None:
    assert fingerprint(spec(token="other")) == fingerprint(spec())
    assert fingerprint(spec(image="other:1")) != fingerprint(spec())


def clone_env(container: dict[str, Any], workspace: Path, token: str) -> dict[str, str]:
    """The init container's environment as the kubelet makes it (the Secret's key resolved)."""
    env = {"PATH": os.environ["PATH"]}
    for item in container["env"]:
        env[item["name"]] = item.get("value", token)
    env["KG_WORKSPACE"] = str(workspace)  # the volume's mount point, here a directory
    env["HOME"] = str(workspace.parent)
    return env


@pytest.mark.parametrize("by_id", [True, False], ids=["commit-by-id", "branches"])
def test_the_init_container_clones_the_commit_with_the_token(
    tmp_path: Path, git_repo: Callable[[str], GitRepo], by_id: bool
) -> None:
    """The clone script run for real (sh, git) against a git HTTP server that wants the token,
    one that lets a commit be fetched by its id (as GitLab does) and one that does not."""
    work = git_repo("rain")
    first = work.commit({"data.csv": "1\n"}, "first")
    work.commit({"data.csv": "2\n"}, "second")
    server = GitHttpServer(tmp_path / "served", token="glpat-secret")
    (tmp_path / "served").mkdir(exist_ok=True)
    try:
        url = server.publish(work.path, "rain.git")
        if by_id:
            bare = tmp_path / "served" / "rain.git"
            subprocess.run(
                ["git", "-C", str(bare), "config", "uploadpack.allowAnySHA1InWant", "true"], check=True
            )
        wanted = spec(clone_url=url, commit_sha=first)
        container = clone_container(wanted, Settings(data_dir=tmp_path), "workspace")
        workspace = tmp_path / "workspace"
        workspace.mkdir()
        done = subprocess.run(
            container["command"],
            env=clone_env(container, workspace, "glpat-secret"),
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert (workspace / "data.csv").read_text() == "1\n"
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True)
        assert head.stdout.strip() == first
        shallow = (workspace / ".git" / "shallow").exists()
        assert shallow is by_id  # only the commit where the server allows it
        assert "glpat-secret" not in (workspace / ".git" / "config").read_text()

        refused = tmp_path / "refused"
        refused.mkdir()
        done = subprocess.run(
            container["command"], env=clone_env(container, refused, "wrong"), capture_output=True, timeout=60
        )
        assert done.returncode != 0
        assert not (refused / "data.csv").exists()
    finally:
        server.stop()
