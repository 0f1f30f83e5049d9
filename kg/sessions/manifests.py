"""What the Kubernetes backend creates for one session, as plain manifests (dicts).

Shared by every kind: the labels and annotations that identify a session (and let kg rebuild
its `Session` from any of its resources), the Secret holding the clone token, the init
container that clones the project at the commit, and the Pod + Service + Ingress of the
`pod` kind. The Amalthea custom resources are in `kg.sessions.manifests_amalthea`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import urlsplit

from kg.config import Settings
from kg.sessions.base import Resources, SessionSpec

Manifest = dict[str, Any]

PREFIX = "kg.dev/"
MANAGED = {"app.kubernetes.io/managed-by": "kg"}
PORT = 8888
WORKSPACE = "/home/jovyan/work"
"""Where the project is cloned: the working directory of the session's main container."""
MAIN_CONTAINER = "session"
SESSION_UID, SESSION_GID = 1000, 100
"""The Jupyter Docker Stacks' user (jovyan) and group (users): the clone is made as them, so
the notebook can write to it."""
TOKEN_KEY = "token"
NOTEBOOK_TOKEN_KEY = "notebook-token"

_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")

# The clone runs in a shell so that the token never appears in an argument (nor in the pod
# spec): it comes from the Secret into the environment, and reaches git as a header through
# git's environment-borne configuration (GIT_CONFIG_COUNT, git >= 2.31).
CLONE_SCRIPT = """set -eu
cd "$KG_WORKSPACE"
git init -q .
if [ -n "${KG_GIT_TOKEN:-}" ]; then
  GIT_CONFIG_VALUE_0="Authorization: Basic $(printf 'oauth2:%s' "$KG_GIT_TOKEN" | base64 | tr -d '\\n')"
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraHeader GIT_CONFIG_VALUE_0
fi
# the commit alone where the server allows fetching it by id, else every branch (it is on one)
git fetch -q --depth 1 "$KG_CLONE_URL" "$KG_COMMIT" 2>/dev/null ||
  git fetch -q "$KG_CLONE_URL" '+refs/heads/*:refs/remotes/origin/*'
git checkout -q -B "$KG_BRANCH" "$KG_COMMIT"
"""


def user_label(user: str) -> str:
    """The user as a label value: itself when it is a valid one, else a hash of it (the raw
    id is in an annotation).

    >>> user_label("7")
    '7'
    >>> user_label("ana@example.org")[:2]
    'u-'
    """
    if _LABEL_VALUE.match(user) and not user.startswith("u-"):
        return user
    return "u-" + hashlib.sha256(user.encode()).hexdigest()[:40]


def labels(spec: SessionSpec) -> dict[str, str]:
    """What `list(user)` selects on and what an operator sees in `kubectl get -l`."""
    return {
        **MANAGED,
        f"{PREFIX}session": spec.name,
        f"{PREFIX}user": user_label(spec.user),
        f"{PREFIX}project-id": str(spec.project_id),
        f"{PREFIX}commit": spec.commit_sha.lower(),
    }


def fingerprint(spec: SessionSpec) -> str:
    """A hash of everything that makes two starts the same session (not the token, whose
    value may change between two requests of the same user)."""
    parts = (
        spec.user,
        str(spec.project_id),
        spec.project_path,
        spec.commit_sha.lower(),
        spec.branch,
        spec.image,
        repr(spec.resources),
        spec.default_url,
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def notes(spec: SessionSpec, started: float) -> dict[str, str]:
    """Everything `Session` shows, so any kind's resource gives the session back."""
    return {
        f"{PREFIX}user": spec.user,
        f"{PREFIX}project-path": spec.project_path,
        f"{PREFIX}branch": spec.branch,
        f"{PREFIX}image": spec.image,
        f"{PREFIX}cpu": repr(spec.resources.cpu),
        f"{PREFIX}memory": str(spec.resources.memory),
        f"{PREFIX}gpu": str(spec.resources.gpu),
        f"{PREFIX}default-url": spec.default_url,
        f"{PREFIX}started": repr(started),
        f"{PREFIX}fingerprint": fingerprint(spec),
    }


def metadata(spec: SessionSpec, name: str, started: float) -> Manifest:
    return {"name": name, "labels": labels(spec), "annotations": notes(spec, started)}


def secret_name(name: str) -> str:
    return f"{name}-git"


def notebook_token(settings: Settings, name: str) -> str:
    """The token Jupyter asks for in a `pod` session: derived from kg's key and the name, so
    kg can put it in the session's URL without reading the Secret back."""
    key = settings.token_key.get_secret_value().encode()
    return hmac.new(key, f"kg-session-notebook\0{name}".encode(), hashlib.sha256).hexdigest()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(spec: SessionSpec, settings: Settings, started: float) -> Manifest:
    """The clone token, read by the init container through `secretKeyRef`, and the notebook
    token the `pod` kind's Jupyter reads from JUPYTER_TOKEN."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(spec, secret_name(spec.name), started),
        "type": "Opaque",
        "data": {
            TOKEN_KEY: _b64(spec.token or ""),
            NOTEBOOK_TOKEN_KEY: _b64(notebook_token(settings, spec.name)),
        },
    }


def jupyter_token_env(name: str) -> Manifest:
    """JUPYTER_TOKEN from the session's Secret: Jupyter asks for it, and it is never in clear."""
    return {
        "name": "JUPYTER_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": secret_name(name), "key": NOTEBOOK_TOKEN_KEY}},
    }


def container_resources(resources: Resources) -> Manifest:
    """Requests and limits alike: a session gets what it asked for and no more."""
    amounts: dict[str, str] = {"cpu": f"{round(resources.cpu * 1000)}m", "memory": str(resources.memory)}
    if resources.gpu:
        amounts["nvidia.com/gpu"] = str(resources.gpu)
    return {"requests": dict(amounts), "limits": dict(amounts)}


def clone_container(spec: SessionSpec, settings: Settings, volume: str) -> Manifest:
    """The init container: clones the project at the commit into the shared volume."""
    env: list[Manifest] = [
        {"name": "HOME", "value": "/tmp"},  # git wants one; the image's is root's
        {"name": "KG_WORKSPACE", "value": WORKSPACE},
        {"name": "KG_CLONE_URL", "value": spec.clone_url},
        {"name": "KG_COMMIT", "value": spec.commit_sha},
        {"name": "KG_BRANCH", "value": spec.branch or "main"},
        {
            "name": "KG_GIT_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": secret_name(spec.name), "key": TOKEN_KEY}},
        },
    ]
    return {
        "name": "git-clone",
        "image": settings.sessions_git_image,
        "command": ["sh", "-c", CLONE_SCRIPT],
        "env": env,
        "volumeMounts": [{"name": volume, "mountPath": WORKSPACE}],
        "resources": container_resources(Resources(cpu=0.1, memory=256 * 1024 * 1024)),
        "securityContext": {
            "runAsUser": SESSION_UID,
            "runAsGroup": SESSION_GID,
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
        },
    }


def base_path(name: str) -> str:
    """Where a session is served under its host: also Jupyter's base URL."""
    return f"/sessions/{name}/"


def session_url(settings: Settings, name: str) -> str:
    """The public URL when KG_SESSIONS_URL is set, else the in-cluster Service's."""
    if settings.sessions_url:
        return settings.sessions_url.rstrip("/") + base_path(name)
    return f"http://{name}.{settings.sessions_namespace}.svc:{PORT}{base_path(name)}"


def ingress_host(settings: Settings) -> str:
    return urlsplit(settings.sessions_url).hostname or ""


def jupyter_command(spec: SessionSpec) -> list[str]:
    """Jupyter's command line; the notebook token comes from JUPYTER_TOKEN (the Secret)."""
    return [
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=0.0.0.0",
        f"--port={PORT}",
        f"--ServerApp.base_url={base_path(spec.name)}",
        f"--ServerApp.default_url={spec.default_url}",
        f"--ServerApp.root_dir={WORKSPACE}",
    ]
