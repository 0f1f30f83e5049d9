"""The search index interface: documents in, ranked and access-filtered pages out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote

from kg.access import Access, Visibility, may_read, role

Kind = Literal["project", "dataset", "workflow", "person"]


@dataclass
class Document:
    """One searchable thing of one project."""

    id: str
    kind: Kind
    project: str
    name: str
    slug: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    created: str = ""
    modified: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectEntry:
    """A project as the index knows it: for access checks and listings."""

    slug: str
    iri: str
    graph: str
    visibility: Visibility
    members: dict[str, int]
    gitlab_id: int | None = None

    def readable_by(self, access: Access) -> bool:
        """Whether `access` may read the project (`kg.access.may_read`)."""
        return may_read(self.visibility, self.members, access)

    @property
    def gitlab_ref(self) -> int | str:
        """How GitLab's REST API names the project: its id, else its URL-encoded path."""
        return self.gitlab_id or quote(self.slug, safe="")

    def role_of(self, user: str | None) -> str | None:
        """owner, maintainer or reader, for a member; None otherwise (`kg.access.role`)."""
        return role(self.members.get(user or ""))


@dataclass
class SearchQuery:
    """`GET /knowledge-graph/entities` parameters, validated."""

    text: str = ""
    kinds: list[Kind] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    visibilities: list[Visibility] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    since: str = ""
    until: str = ""
    sort: list[tuple[str, str]] = field(default_factory=lambda: [("matchingScore", "desc")])
    page: int = 1
    per_page: int = 20


@dataclass
class SearchResult:
    """One page of hits, the total, and counts per facet value over all hits."""

    items: list[Document]
    total: int
    facets: dict[str, dict[str, int]]
    visibility: dict[str, Visibility]
    scores: dict[str, float] = field(default_factory=dict)


class SearchIndex(Protocol):
    """Full-text, ranked search that knows each project's visibility and members."""

    def replace_project(self, entry: ProjectEntry, documents: list[Document]) -> None:
        """Replace everything indexed for one project, in one transaction."""
        ...

    def remove_project(self, slug: str) -> None:
        """Forget a project."""
        ...

    def amend_project(self, slug: str, fields: dict[str, Any]) -> None:
        """Apply edits made in GitLab through kg (description, keywords, visibility)."""
        ...

    def bury_project(self, slug: str, gitlab_id: int | None) -> None:
        """Take a project deleted through kg out of the index, for good."""
        ...

    def is_buried(self, gitlab_id: int) -> bool:
        """Whether the GitLab project was deleted through kg."""
        ...

    def project(self, slug: str) -> ProjectEntry | None:
        """A project's access entry, or None."""
        ...

    def projects_of(self, gitlab_id: int) -> list[ProjectEntry]:
        """The indexed projects (slugs) one GitLab project has had."""
        ...

    def projects(self) -> list[ProjectEntry]:
        """Every indexed project."""
        ...

    def readable_projects(self, access: Access) -> list[ProjectEntry] | None:
        """Projects the caller may read, or None when nothing is hidden from them."""
        ...

    def documents(self, slug: str, kind: Kind) -> list[Document]:
        """One project's documents of a kind, by name (no access check: callers check first)."""
        ...

    def find(self, kind: Kind, key: str) -> list[Document]:
        """Documents of a kind whose IRI, identifier or slug is `key` (no access check)."""
        ...

    def member_projects(self, user: str) -> list[ProjectEntry]:
        """Projects a user is a member of (no access check)."""
        ...

    def search(self, query: SearchQuery, access: Access) -> SearchResult:
        """Ranked hits the caller may see."""
        ...

    def probe(self) -> None:
        """Raise `kg.errors.Unavailable` unless the index can be read now (for `/ready`)."""
        ...

    def close(self) -> None:
        """Release the index."""
        ...
