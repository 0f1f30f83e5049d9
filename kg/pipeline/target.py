"""What a job ingests: the project's path, repository, branch and readers, from GitLab by the
project's id when it is configured (a payload is not trusted for any of them), else from the
payload, checked (`kg.pipeline.location`, `kg.slug`)."""

from __future__ import annotations

from dataclasses import dataclass

from kg.config import Settings
from kg.errors import NotFound
from kg.events import Job
from kg.forge import GitLab
from kg.pipeline.location import LocationRefused, check_clone_url, forge_clone_url
from kg.slug import check_slug
from kg.store import ProjectRecord


@dataclass(frozen=True)
class Target:
    """What one job ingests, and whether GitLab (not a payload) said so."""

    slug: str
    clone_url: str
    default_branch: str
    visibility: str
    members: tuple[tuple[str, int], ...] | None
    authoritative: bool


def gitlab_for(settings: Settings, token: str | None) -> GitLab | None:
    """GitLab as the worker asks it: with kg's own token, the project's stored one, or
    anonymously; None without GitLab."""
    if not settings.gitlab_url:
        return None
    own = settings.gitlab_token.get_secret_value() if settings.gitlab_token else None
    return GitLab(settings.gitlab_url, own or token)


def target_of(job: Job, settings: Settings, forge: GitLab | None) -> Target:
    """What `job` ingests; `LocationRefused` when kg may not fetch it."""
    if forge is None:
        if not job.path:
            raise LocationRefused("no repository location is known for this project yet")
        url = check_clone_url(job.clone_url, settings.allowed_origins)
        return Target(check_slug(job.path), url, job.default_branch, job.visibility, None, False)
    try:
        project = forge.describe(job.project_id)
        access = forge.access(job.project_id)
    except NotFound:
        raise LocationRefused(f"GitLab does not show project {job.project_id} to kg") from None
    slug = check_slug(project.path)
    url = forge_clone_url(settings.gitlab_url, slug)
    return Target(slug, url, project.default_branch, access.visibility, access.members, True)


def moved_away(record: ProjectRecord | None, forge: GitLab | None) -> bool:
    """Whether GitLab keeps `record`'s project at another path now, or not at all: then the
    record is stale (renamed or deleted) and its path is free for the project GitLab puts there."""
    if record is None or record.gitlab_id is None or forge is None:
        return False
    try:
        return forge.describe(record.gitlab_id).path != record.slug
    except NotFound:
        return True
