"""Deterministic IRIs: the same thing in the same instance always gets the same IRI.

Everything inside a project lives under `<project>/-/`, because `-` can never be a
GitLab group or project name (GitLab uses the same trick in its URLs), so a project's
IRIs never collide with another project nested below it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import unquote

from kg.rdf import path_segment


@dataclass(frozen=True)
class Minter:
    """Mints IRIs for one kg instance, below `base` (e.g. `https://kg.local/`)."""

    base: str

    def project(self, slug: str) -> str:
        """The project's IRI, from its `namespace/name` path.

        >>> Minter("https://kg.local/").project("group/sub group/demo")
        'https://kg.local/projects/group/sub%20group/demo'
        """
        return f"{self.base}projects/{path_segment(slug)}"

    def project_graph(self, project_iri: str, generation: int) -> str:
        """The named graph holding one generation of a project's triples.

        >>> Minter("https://kg.local/").project_graph("https://kg.local/projects/a/b", 3)
        'https://kg.local/projects/a/b/-/graphs/3'
        """
        return f"{project_iri}/-/graphs/{generation}"

    def record_graph(self, project_iri: str) -> str:
        """The small graph describing one project (name, visibility, members, live graph).

        Each project's description has a graph of its own, so that who may read a project
        is decided per graph, descriptions included.

        >>> Minter("https://kg.local/").record_graph("https://kg.local/projects/a/b")
        'https://kg.local/projects/a/b/-/record'
        """
        return f"{project_iri}/-/record"

    def audience_graph(self, visibility: str) -> str:
        """The graph merging the triples of every project of one visibility (see `kg.store.audiences`).

        >>> Minter("https://kg.local/").audience_graph("public")
        'https://kg.local/audiences/public'
        """
        return f"{self.base}audiences/{visibility}"

    def stamp_graph(self) -> str:
        """The graph holding the stamp a remote store's writer changes with every publish."""
        return f"{self.base}-/stamp"

    def is_project_graph(self, graph: str) -> bool:
        """Whether `graph` holds (or was staged to hold) a generation of some project's triples.

        >>> m = Minter("https://kg.local/")
        >>> m.is_project_graph(m.project_graph(m.project("a/b"), 2)), m.is_project_graph(m.record_graph("a"))
        (True, False)
        """
        inside = graph.startswith(f"{self.base}projects/")
        return inside and ("/-/graphs/" in graph or "/-/staging/" in graph)

    def person(self, name: str, email: str) -> str:
        """One IRI per person per instance, keyed by e-mail (or by name when there is none).

        >>> m = Minter("https://kg.local/")
        >>> m.person("Ann", "Ann@Example.org") == m.person("Ann B.", "ann@example.org")
        True
        """
        key = email.strip().lower() or f"name:{name.strip()}"
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return f"{self.base}persons/{digest}"


def commit(project_iri: str, sha: str) -> str:
    """A commit of a project."""
    return f"{project_iri}/-/commits/{sha}"


def file_version(project_iri: str, path: str | bytes, blob: str) -> str:
    """A file version: a path with the blob it holds.

    >>> file_version("https://kg.local/projects/a/b", "x y.txt", "ab12")
    'https://kg.local/projects/a/b/-/files/ab12/x%20y.txt'
    """
    return f"{project_iri}/-/files/{blob}/{path_segment(path)}"


def path_key(name: str) -> str:
    """A name made safe as one IRI path segment.

    >>> path_key("train.seed/x y")
    'train.seed%2Fx%20y'
    """
    return path_segment(name).replace("/", "%2F")


def owned(project_iri: str, base: str, value: str) -> str:
    """What a project's own documents may call `value`: the project's IRIs (itself and below
    `<project>/-/`) and IRIs outside kg's `base` as they are; any other IRI under the base
    moved below `<project>/-/foreign/`, so no document speaks for kg or another project.

    >>> owned("https://kg.local/projects/a/b", "https://kg.local/", "https://kg.local/projects/c/d#x")
    'https://kg.local/projects/a/b/-/foreign/projects/c/d#x'
    >>> owned("https://kg.local/projects/a/b", "https://kg.local/", "https://kg.local/projects/a/b/-/x")
    'https://kg.local/projects/a/b/-/x'
    >>> owned("https://kg.local/projects/a/b", "https://kg.local/", "https://orcid.org/0000-0001")
    'https://orcid.org/0000-0001'

    Dot segments would walk out of any prefix once a client resolves them: such IRIs are
    replaced by a hash.

    >>> owned("https://kg.local/projects/a/b", "https://kg.local/", "https://kg.local/projects/a/b/-/../../c")
    'https://kg.local/projects/a/b/-/foreign/8a1e1c61a6d1effb'
    """
    if value[: len(base)].lower() != base.lower():  # scheme and host compare case-insensitively
        return value
    rest, own = value[len(base) :], project_iri[len(base) :]
    dotted = any(unquote(s) in (".", "..") for s in re.split(r"[?#]", rest, maxsplit=1)[0].split("/"))
    if dotted:
        digest = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return f"{project_iri}/-/foreign/{digest}"
    if rest == own or rest.startswith(own + "/-/"):
        return value
    return f"{project_iri}/-/foreign/{rest}"
