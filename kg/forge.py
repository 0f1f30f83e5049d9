"""GitLab, as kg uses it: projects' visibility and members, and webhooks (python-gitlab)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gitlab
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError, GitlabGetError

from kg import metrics
from kg.errors import CommandFailed, Forbidden, NotFound, Unauthorized

MOST_LISTED = 1000
"""Most projects listed from GitLab for one request (ten pages): a user owning more sees the
first thousand; a request must not page through a whole instance."""


@dataclass(frozen=True)
class ForgeProject:
    """What GitLab says a project is: the authority on its path, branch and visibility."""

    id: int
    path: str
    default_branch: str
    visibility: str


@dataclass(frozen=True)
class ProjectAccess:
    """Who may read a project, as GitLab says."""

    visibility: str
    members: tuple[tuple[str, int], ...]


class GitLab:
    """A GitLab instance reached with one token (kg's own, or a caller's)."""

    def __init__(self, url: str, token: str | None, *, oauth: bool = False, timeout: float = 15.0) -> None:
        # no token: GitLab answers as to an anonymous visitor (public projects only)
        auth = {} if token is None else {"oauth_token": token} if oauth else {"private_token": token}
        self._gl = gitlab.Gitlab(url, timeout=timeout, **auth)  # type: ignore[arg-type]

    def _project(self, project_id: int | str) -> Any:
        try:
            return self._gl.projects.get(project_id)
        except GitlabAuthenticationError as exc:
            raise Unauthorized() from exc
        except GitlabGetError as exc:
            if exc.response_code in (403, 404):
                raise NotFound("project", str(project_id)) from exc
            metrics.IDENTITY_ERRORS.labels("gitlab").inc()
            raise CommandFailed(
                ["GET", f"/projects/{project_id}"], exc.response_code or -1, str(exc), recoverable=True
            ) from exc
        except (GitlabError, requests.RequestException) as exc:
            metrics.IDENTITY_ERRORS.labels("gitlab").inc()
            raise CommandFailed(["GET", f"/projects/{project_id}"], -1, str(exc), recoverable=True) from exc

    def access(self, project_id: int) -> ProjectAccess:
        """The project's visibility and every member with their access level (inherited included)."""
        project = self._project(project_id)
        with _calling("GET", f"/projects/{project_id}/members/all"):
            members = project.members_all.list(get_all=True)
        pairs = tuple(sorted((str(m.id), int(m.access_level)) for m in members))
        return ProjectAccess(str(project.visibility), pairs)

    def describe(self, project_id: int | str) -> ForgeProject:
        """The project's id, path_with_namespace, default branch and visibility (by id or path)."""
        project = self._project(project_id)
        return ForgeProject(
            id=int(project.id),
            path=str(project.path_with_namespace),
            default_branch=str(project.default_branch or "main"),
            visibility=str(project.visibility),
        )

    def user_projects(self, user_id: int, most: int = MOST_LISTED) -> list[dict[str, Any]]:
        """`GET /users/:id/projects`: the projects the user owns that this token may see
        (an unknown user has none), `most` of them at most."""
        path = f"/users/{user_id}/projects"
        try:
            with _calling("GET", path):
                pages = self._gl.users.get(user_id, lazy=True).projects.list(iterator=True, per_page=100)
                found = list(itertools.islice(pages, most))
        except CommandFailed as exc:
            if exc.returncode == 404:
                return []
            raise
        return [dict(p.attributes) for p in found]

    def ensure_hook(self, project_id: int, url: str, token: str) -> bool:
        """Create the push hook unless one with `url` exists; True if it was created."""
        project = self._project(project_id)
        with _calling("POST", f"/projects/{project_id}/hooks", _MAINTAINERS_ONLY):
            if any(h.url == url for h in project.hooks.list(get_all=True)):
                return False
            project.hooks.create(
                {
                    "url": url,
                    "token": token,
                    "push_events": True,
                    "tag_push_events": True,
                    "enable_ssl_verification": True,
                }
            )
        return True

    def remove_hook(self, project_id: int, url: str) -> bool:
        """Delete the hook pointing at `url`; True if there was one."""
        project = self._project(project_id)
        with _calling("DELETE", f"/projects/{project_id}/hooks", _MAINTAINERS_ONLY):
            hooks = [h for h in project.hooks.list(get_all=True) if h.url == url]
            for hook in hooks:
                hook.delete()
        return bool(hooks)

    def has_hook(self, project_id: int, url: str) -> bool:
        """Whether the project has a hook pointing at `url`."""
        project = self._project(project_id)
        with _calling("GET", f"/projects/{project_id}/hooks", _MAINTAINERS_ONLY):
            return any(h.url == url for h in project.hooks.list(get_all=True))


_MAINTAINERS_ONLY = "only a project maintainer can manage its webhooks"


@contextmanager
def _calling(
    method: str, path: str, forbidden: str | None = None, *, missing: int | str | None = None
) -> Iterator[None]:
    """GitLab's errors as kg's: 401 → Unauthorized, 403 → Forbidden (where it means that),
    404 → NotFound (where a project was named), anything else (GitLab or the network
    failing) → a recoverable CommandFailed."""
    try:
        yield
    except GitlabAuthenticationError as exc:
        raise Unauthorized() from exc
    except (GitlabError, requests.RequestException) as exc:
        code = getattr(exc, "response_code", None)
        if missing is not None and code == 404:
            raise NotFound("project", str(missing)) from exc
        if missing is not None and code == 403:
            raise Forbidden(forbidden or "GitLab does not let you do this to the project") from exc
        if forbidden and code == 403:
            raise Forbidden(forbidden) from exc
        metrics.IDENTITY_ERRORS.labels("gitlab").inc()
        raise CommandFailed([method, path], code or -1, str(exc), recoverable=True) from exc


class ProjectEdits:
    """Changes to a GitLab project made for its caller (the caller's own token)."""

    def __init__(self, forge: GitLab) -> None:
        self.forge = forge
        self._gl = forge._gl

    def details(self, project_id: int | str) -> dict[str, Any]:
        """`GET /projects/:id?statistics=true`: GitLab's own description of the project."""
        with _calling("GET", f"/projects/{project_id}", missing=project_id):
            found = self._gl.http_get(f"/projects/{project_id}", query_data={"statistics": "true"})
        return dict(found) if isinstance(found, dict) else {}

    def update(self, project_id: int | str, fields: dict[str, Any]) -> None:
        """`PUT /projects/:id` with description, topics and/or visibility."""
        with _calling("PUT", f"/projects/{project_id}", missing=project_id):
            self._gl.http_put(f"/projects/{project_id}", post_data=fields)

    def set_avatar(self, project_id: int | str, filename: str, content: bytes, media_type: str) -> None:
        """`PUT /projects/:id` multipart with the `avatar` file."""
        with _calling("PUT", f"/projects/{project_id}", missing=project_id):
            self._gl.http_put(
                f"/projects/{project_id}", files={"avatar": (filename, content, media_type)}, post_data={}
            )

    def delete(self, project_id: int | str) -> None:
        """`DELETE /projects/:id` (GitLab answers 202 and deletes it)."""
        with _calling("DELETE", f"/projects/{project_id}", missing=project_id):
            self._gl.http_delete(f"/projects/{project_id}")

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """`POST /projects`: the new project as GitLab describes it."""
        with _calling("POST", "/projects"):
            made = self._gl.http_post("/projects", post_data=fields)
        return dict(made) if isinstance(made, dict) else {}
