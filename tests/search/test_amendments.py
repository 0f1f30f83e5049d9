"""Edits and deletions made through kg's API outlive a re-index of the project."""

from __future__ import annotations

from pathlib import Path

from kg.access import Access
from kg.search import Document, SearchQuery
from kg.search.base import ProjectEntry
from kg.search.sqlite import SqliteIndex

ENTRY = ProjectEntry("g/p", "https://kg.test/projects/g/p", "https://kg.test/g/p/-/graphs/1", "public", {}, 5)


def _docs(description: str = "from the repository") -> list[Document]:
    return [Document(ENTRY.iri, "project", "g/p", "p", slug="g/p", description=description, keywords=["old"])]


def test_an_edit_shows_at_once_and_survives_reindexing(tmp_path: Path) -> None:
    index = SqliteIndex(tmp_path / "search.sqlite")
    index.replace_project(ENTRY, _docs())
    index.amend_project("g/p", {"description": "edited", "keywords": ["new"], "visibility": "private"})
    entry = index.project("g/p")
    assert entry is not None and entry.visibility == "private"
    assert index.readable_projects(Access()) == []  # nothing readable to an anonymous caller
    index.replace_project(ENTRY, _docs("pushed later"))  # the worker re-indexes it
    (doc,) = index.documents("g/p", "project")
    assert (doc.description, doc.keywords) == ("edited", ["new"])
    found = index.search(SearchQuery(text="edited"), Access())
    assert [d.slug for d in found.items] == ["g/p"]  # public again: GitLab's word on re-index


def test_a_buried_project_never_comes_back(tmp_path: Path) -> None:
    index = SqliteIndex(tmp_path / "search.sqlite")
    index.replace_project(ENTRY, _docs())
    index.bury_project("g/p", 5)
    assert index.project("g/p") is None
    index.replace_project(ENTRY, _docs())  # a job that was already running publishes it again
    assert index.project("g/p") is None
    other = ProjectEntry(
        "g/q", "https://kg.test/projects/g/q", "https://kg.test/g/q/-/graphs/1", "public", {}, 6
    )
    index.replace_project(other, [])
    assert index.project("g/q") is not None
