"""GitLab webhook payloads, as GitLab documents and sends them (only the fields kg reads)."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from kg.errors import InvalidInput
from kg.events import Push
from kg.slug import check_slug
from kg.urls import without_credentials

ZERO_SHA = "0" * 40
PUSH_HOOK = "Push Hook"
TAG_PUSH_HOOK = "Tag Push Hook"
_VISIBILITY = {0: "private", 10: "internal", 20: "public"}
# In JSON an unescaped `"project_id"` followed by a colon can only be a key.
_PATH_SHAPE = r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$"
_PROJECT_ID = re.compile(rb'"project_id"\s*:\s*(\d{1,19})\b')


def _gitlab_path(value: str) -> str:
    try:
        return check_slug(value)
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None


class Project(BaseModel):
    """The `project` object of a hook payload."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(ge=1, le=2**63 - 1)
    path_with_namespace: Annotated[
        str, Field(max_length=1024, pattern=_PATH_SHAPE), AfterValidator(_gitlab_path)
    ]
    git_http_url: str = Field(min_length=1, max_length=2048)
    default_branch: str | None = Field(None, max_length=255)
    visibility_level: int = 0


class Commit(BaseModel):
    """One entry of `commits[]` (GitLab sends at most the newest 20)."""

    model_config = ConfigDict(extra="ignore")

    id: str


class PushEvent(BaseModel):
    """A `Push Hook` or `Tag Push Hook` body."""

    model_config = ConfigDict(extra="ignore")

    object_kind: str
    ref: str = Field(max_length=1024)
    before: str | None = None
    after: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    checkout_sha: str | None = None
    project_id: int = Field(ge=1, le=2**63 - 1)
    project: Project
    commits: list[Commit] = []
    total_commits_count: int = 0

    @model_validator(mode="after")
    def _one_project(self) -> PushEvent:
        if self.project_id != self.project.id:
            raise ValueError("project_id and project.id differ")
        return self


def project_id_in(raw: bytes) -> int | None:
    r"""The `project_id` a push body names, read from its bytes without decoding them, so a
    stranger's body is never parsed: its token is checked against this id first (and the
    decoded body must then agree with it).

    >>> project_id_in(b'{"object_kind": "push", "project_id": 15, "project": {"id": 15}}')
    15
    >>> project_id_in(b'{"note": "\\"project_id\\": 3"}') is None
    True
    """
    found = _PROJECT_ID.search(raw)
    return int(found.group(1)) if found else None


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


def refresh(project_id: int, key: str) -> Push:
    """What a body too large to read asks for, once its token is checked: ingest whatever the
    default branch holds now (where to fetch it from is what kg already knows, or GitLab)."""
    return Push(
        delivery_key=key,
        project_id=project_id,
        path="",  # "" keeps what the event log knows of the project (see kg.events)
        clone_url="",
        commit=None,
        kind="refresh",
        visibility="private",  # if it knows nothing yet: the narrowest
    )


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
        # a URL that does not parse is kept (to be refused, saying so) unless it may hold credentials
        clone_url=without_credentials(project.git_http_url)
        or ("" if "@" in project.git_http_url else project.git_http_url),
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
