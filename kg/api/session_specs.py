"""What a `POST /sessions` request may ask for, checked against the settings, and how a session
is shown (Renku's notebook service's shape).

The request names a project, a commit and what to run; kg decides where the repository comes
from (`clone_url`: its own mirror, or GitLab for the project kg holds) and which credential
goes with it (kg's git token, only to GitLab's origin). Nothing in the request reaches a
command line or a URL unchecked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kg.config import Settings
from kg.errors import InvalidInput, Unprocessable
from kg.pipeline.location import forge_clone_url
from kg.search.base import ProjectEntry
from kg.sessions import Resources, Session

MAX_REQUEST_BYTES = 64 << 10
"""Largest `POST /sessions` body read: a real one is a few hundred bytes."""
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(Ki|Mi|Gi|Ti|K|k|M|G|T)?$")
_FACTORS = {
    None: 1,
    "K": 10**3,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 1 << 10,
    "Mi": 1 << 20,
    "Gi": 1 << 30,
    "Ti": 1 << 40,
}


class ResourceRequest(BaseModel):
    """What a session asks for; anything left out gets the settings' default."""

    model_config = ConfigDict(extra="forbid")
    cpu: float | None = Field(default=None, gt=0, le=1024)
    memory: str | int | None = Field(default=None, description='bytes, or a size like "2G", "512M", "1Gi"')
    gpu: int | None = Field(default=None, ge=0, le=64)


class SessionRequest(BaseModel):
    """The body of `POST /sessions`."""

    model_config = ConfigDict(extra="forbid")
    project: str | int = Field(description='"namespace/name" or the GitLab project id')
    commit_sha: str = Field(pattern=r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
    branch: str = Field("", max_length=200, pattern=r"^(?:[A-Za-z0-9_][A-Za-z0-9._/-]*)?$")
    image: str | None = Field(None, min_length=1, max_length=500)
    resources: ResourceRequest | None = None
    default_url: str = Field("/", max_length=200, pattern=r"^/[A-Za-z0-9._~/-]*$")


REQUEST_SCHEMA: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["project", "commit_sha"],
                "properties": {
                    "project": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                    "commit_sha": {"type": "string", "pattern": "^[0-9a-fA-F]{40}$"},
                    "branch": {"type": "string"},
                    "image": {"type": "string"},
                    "resources": {
                        "type": "object",
                        "properties": {
                            "cpu": {"type": "number"},
                            "memory": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                            "gpu": {"type": "integer"},
                        },
                    },
                    "default_url": {"type": "string", "example": "/lab"},
                },
            },
            "example": {"project": "climate/rainfall", "commit_sha": "a" * 40, "image": "jupyter/minimal"},
        }
    },
}


def read_request(body: bytes) -> SessionRequest:
    """The request, or `InvalidInput` (400) naming the first thing wrong with it."""
    try:
        return SessionRequest.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"{where}: {first['msg']}", field=where) from None


def memory_bytes(value: str | int) -> int:
    """A memory size in bytes, from bytes or a Kubernetes quantity (K, M, G decimal; Ki, Mi,
    Gi binary).

    >>> memory_bytes("2G"), memory_bytes("512Mi"), memory_bytes(1024)
    (2000000000, 536870912, 1024)
    """
    found = _QUANTITY.match(str(value).strip())
    if found is None or isinstance(value, bool):
        raise InvalidInput(
            f'resources.memory: {value!r} is not bytes or a size like "2G"', field="resources.memory"
        )
    return int(float(found.group(1)) * _FACTORS[found.group(2)])


def quantity(size: int) -> str:
    """Bytes as the shortest exact Kubernetes quantity.

    >>> quantity(1 << 30), quantity(2 * 10**9), quantity(1000001)
    ('1Gi', '2G', '1000001')
    """
    for suffix in ("Ti", "T", "Gi", "G", "Mi", "M", "Ki", "K"):  # the largest unit that fits
        if size and size % _FACTORS[suffix] == 0:
            return f"{size // _FACTORS[suffix]}{suffix}"
    return str(size)


def allowed_images(settings: Settings) -> list[str]:
    """The images a request may name: KG_SESSIONS_IMAGE and KG_SESSIONS_ALLOWED_IMAGES."""
    listed = [i.strip() for i in settings.sessions_allowed_images.split(",") if i.strip()]
    return [settings.sessions_image, *[i for i in listed if i != settings.sessions_image]]


def image_of(asked: SessionRequest, settings: Settings) -> str:
    """The image to run; `Unprocessable` naming the allowed ones if it is not one of them."""
    image = asked.image or settings.sessions_image
    allowed = allowed_images(settings)
    if image not in allowed:
        raise Unprocessable(f"image {image!r} is not allowed; allowed: {', '.join(allowed)}", field="image")
    return image


def resources_of(asked: SessionRequest, settings: Settings) -> Resources:
    """What the session gets; `Unprocessable` naming the limit a request goes over."""
    given = asked.resources or ResourceRequest()
    cpu = given.cpu if given.cpu is not None else settings.sessions_cpu
    memory = memory_bytes(given.memory) if given.memory is not None else settings.sessions_memory_mb << 20
    gpu = given.gpu if given.gpu is not None else 0
    most_memory = settings.sessions_max_memory_mb << 20
    if cpu > settings.sessions_max_cpu:
        raise Unprocessable(
            f"cpu {cpu:g} is over the limit of {settings.sessions_max_cpu:g}", field="resources.cpu"
        )
    if memory > most_memory:
        raise Unprocessable(
            f"memory {quantity(memory)} is over the limit of {quantity(most_memory)}",
            field="resources.memory",
        )
    if memory < 1 << 20:
        raise Unprocessable("memory under 1Mi cannot run a session", field="resources.memory")
    if gpu > settings.sessions_max_gpu:
        raise Unprocessable(
            f"gpu {gpu} is over the limit of {settings.sessions_max_gpu}", field="resources.gpu"
        )
    return Resources(cpu=cpu, memory=memory, gpu=gpu)


def clone_source(entry: ProjectEntry, settings: Settings) -> tuple[str, str | None]:
    """Where the session's repository comes from, and the token for it (kg's, for GitLab only).

    The local backend prefers kg's own mirror (what the worker fetched); Kubernetes pods
    cannot reach the data dir, so they clone from GitLab, at the path kg holds for the
    project (which GitLab itself gave the worker, by the project's id).
    """
    if settings.sessions_backend == "local" and entry.gitlab_id is not None:
        mirror = settings.mirrors_dir / f"{entry.gitlab_id}.git"
        if mirror.is_dir():
            return str(mirror), None
    if settings.gitlab_url:
        own = settings.git_token or settings.gitlab_token
        return forge_clone_url(settings.gitlab_url, entry.slug), own.get_secret_value() if own else None
    raise Unprocessable(
        f"kg holds no repository of {entry.slug} a session can start from "
        "(no mirror of it, and no GitLab: KG_GITLAB_URL)",
        field="project",
    )


def session_link(slug: str, commit: str) -> dict[str, Any]:
    """How to open the project in a session at a commit: the request to send."""
    return {"method": "POST", "href": "/sessions", "body": {"project": slug, "commit_sha": commit}}


def session_json(session: Session) -> dict[str, Any]:
    """A session as the API shows it (the fields of Renku's notebook service)."""
    status = session.status
    return {
        "name": session.name,
        "url": session.url,
        "image": session.image,
        "started": datetime.fromtimestamp(session.started, UTC).isoformat(timespec="seconds"),
        "project": session.project_path,
        "project_id": session.project_id,
        "commit_sha": session.commit_sha,
        "branch": session.branch,
        "status": {
            "state": status.state,
            "message": status.message,
            "ready_containers": status.ready_containers,
            "total_containers": status.total_containers,
        },
        "resources": {
            "requests": {
                "cpu": session.resources.cpu,
                "memory": quantity(session.resources.memory),
                "gpu": session.resources.gpu,
            }
        },
    }
