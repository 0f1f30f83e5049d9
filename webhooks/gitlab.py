"""GitLab webhook payloads, as GitLab documents and sends them (only the fields kg reads)."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kg.errors import InvalidInput
from kg.events import Push

ZERO_SHA = "0" * 40
PUSH_HOOK = "Push Hook"
TAG_PUSH_HOOK = "Tag Push Hook"
_VISIBILITY = {0: "private", 10: "internal", 20: "public"}


class Project(BaseModel):
    """The `project` object of a hook payload."""

    model_config = ConfigDict(extra="ignore")

    id: int
    path_with_namespace: str = Field(min_length=1)
    git_http_url: str = Field(min_length=1)
    default_branch: str | None = None
    visibility_level: int = 0


class Commit(BaseModel):
    """One entry of `commits[]` (GitLab sends at most the newest 20)."""

    model_config = ConfigDict(extra="ignore")

    id: str


class PushEvent(BaseModel):
    """A `Push Hook` or `Tag Push Hook` body."""

    model_config = ConfigDict(extra="ignore")

    object_kind: str
    ref: str
    before: str | None = None
    after: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    checkout_sha: str | None = None
    project: Project
    commits: list[Commit] = []
    total_commits_count: int = 0


def project_id_of(body: Any) -> int | None:
    """The project id of any GitLab hook body, if it has one."""
    if not isinstance(body, dict):
        return None
    project = body.get("project")
    candidate = project.get("id") if isinstance(project, dict) else body.get("project_id")
    return candidate if isinstance(candidate, int) and not isinstance(candidate, bool) else None


def parse_push(body: Any) -> PushEvent:
    """Validate a push or tag push body; `InvalidInput` names the first bad field."""
    try:
        return PushEvent.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "body"
        raise InvalidInput(f"{where}: {error['msg']}", field=where) from None


def delivery_key(headers: dict[str, str], raw_body: bytes) -> str:
    """GitLab's `Idempotency-Key` (stable across its retries), else the event UUID.

    Old GitLab versions send neither; then identical retried bodies share a key.
    """
    for header in ("idempotency-key", "x-gitlab-event-uuid"):
        if value := headers.get(header, "").strip():
            return f"{header}:{value}"
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


def to_push(event: PushEvent, kind: str, key: str) -> tuple[Push | None, str]:
    """The event-log push this hook asks for, or None with the reason it asks for nothing."""
    project = event.project
    branch = project.default_branch or "main"
    if event.after == ZERO_SHA:
        return None, f"{event.ref} was deleted; nothing to ingest"
    if kind == PUSH_HOOK and event.ref != f"refs/heads/{branch}":
        return None, f"push to {event.ref}, not to the default branch {branch}"
    push = Push(
        delivery_key=key,
        project_id=project.id,
        path=project.path_with_namespace,
        clone_url=project.git_http_url,
        # A tag does not move the default branch: refresh whatever it points at.
        commit=event.after if kind == PUSH_HOOK else None,
        ref=event.ref,
        kind="push" if kind == PUSH_HOOK else "tag_push",
        default_branch=branch,
        visibility=_VISIBILITY.get(project.visibility_level, "private"),
    )
    return push, ""


def request_schema() -> dict[str, Any]:
    """The JSON schema of a push body, self-contained (for the OpenAPI document)."""
    schema = PushEvent.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result
