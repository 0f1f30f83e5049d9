"""The one read rule, fed the same cases in every form kg uses it: the Python predicate,
the search index's SQL (its project listing and its hits), the graphs a SPARQL query reads,
and the audience a project belongs in."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.access import Access, audience_key, may_read, role
from kg.iri import Minter
from kg.search import Document, SearchQuery
from kg.search.base import ProjectEntry
from kg.search.sqlite import SqliteIndex
from kg.sparql.readable import readable
from kg.store import ProjectRecord
from kg.store.audiences import audience_of

# (slug, visibility, members: user → GitLab access level)
PROJECTS = [
    ("g/open", "public", {}),
    ("g/open-with-members", "public", {"7": 30}),
    ("g/inside", "internal", {}),
    ("g/team", "private", {"7": 40, "8": 20}),
    ("g/solo", "private", {"8": 50}),
    ("g/nobody", "private", {}),
]
CALLERS = {"anonymous": Access(), "member 7": Access("7"), "member 8": Access("8"), "outsider": Access("99")}
# the rule, written out by hand: what each caller may read
EXPECTED = {
    "anonymous": {"g/open", "g/open-with-members"},
    "member 7": {"g/open", "g/open-with-members", "g/inside", "g/team"},
    "member 8": {"g/open", "g/open-with-members", "g/inside", "g/team", "g/solo"},
    "outsider": {"g/open", "g/open-with-members", "g/inside"},
}
MINTER = Minter("https://kg.test/")


def entry(slug: str, visibility: str, members: dict[str, int]) -> ProjectEntry:
    iri = MINTER.project(slug)
    return ProjectEntry(slug, iri, f"{iri}/-/graphs/1", visibility, members)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SqliteIndex:
    ix = SqliteIndex(Path(tmp_path_factory.mktemp("access")) / "search.sqlite")
    for slug, visibility, members in PROJECTS:
        e = entry(slug, visibility, members)
        ix.replace_project(e, [Document(e.iri, "project", slug, slug.split("/")[1] + " rainfall", slug=slug)])
    return ix


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_every_form_of_the_rule_agrees(caller: str, index: SqliteIndex) -> None:
    access = CALLERS[caller]
    python = {slug for slug, visibility, members in PROJECTS if may_read(visibility, members, access)}
    entries = {slug for slug, v, m in PROJECTS if entry(slug, v, m).readable_by(access)}
    listed = index.readable_projects(access)
    sql_listing = {p.slug for p in index.projects()} if listed is None else {p.slug for p in listed}
    hits = index.search(SearchQuery(text="rainfall", per_page=100), access)
    sql_hits = {item.project for item in hits.items}
    records = [
        ProjectRecord(MINTER.project(slug), slug, slug, visibility, members=tuple(members.items()))
        for slug, visibility, members in PROJECTS
    ]
    records = [r.evolve(graph=f"{r.iri}/-/graphs/1") for r in records]
    graphs = readable(MINTER, records, access).graphs
    sparql = {r.slug for r in records if r.graph in graphs}
    assert python == entries == sql_listing == sql_hits == sparql == EXPECTED[caller]


def test_kgs_own_tools_read_everything() -> None:
    records = [
        ProjectRecord(
            MINTER.project(slug),
            slug,
            slug,
            v,
            members=tuple(m.items()),
            graph=f"{MINTER.project(slug)}/-/graphs/1",
        )
        for slug, v, m in PROJECTS
    ]
    assert readable(MINTER, records, None).graphs >= {r.graph for r in records}


def test_audiences_follow_visibility_and_member_sets() -> None:
    assert audience_key("public", ["7"]) == "public"
    assert audience_key("internal", []) == "internal"
    # private projects with one set of members share an audience; another set is another
    assert audience_key("private", ["7", "8"]) == audience_key("private", ["8", "7"])
    assert audience_key("private", ["7", "8"]) != audience_key("private", ["8"])
    team = ProjectRecord(
        MINTER.project("g/team"), "g/team", "team", "private", members=(("7", 40), ("8", 20))
    )
    assert audience_of(MINTER, team) == MINTER.audience_graph(audience_key("private", ["7", "8"]))


@pytest.mark.parametrize(
    ("level", "expected"), [(None, None), (10, "reader"), (30, "reader"), (40, "maintainer"), (50, "owner")]
)
def test_roles_follow_gitlab_levels(level: int | None, expected: str | None) -> None:
    assert role(level) == expected


@pytest.mark.parametrize("caller", ["member 7", "member 8"])
@pytest.mark.parametrize("name", ["owner", "maintainer", "reader"])
def test_the_role_filter_agrees_with_role(caller: str, name: str, index: SqliteIndex) -> None:
    access = CALLERS[caller]
    python = {slug for slug, _, members in PROJECTS if role(members.get(access.user or "")) == name}
    hits = index.search(SearchQuery(text="rainfall", roles=[name], per_page=100), access)  # type: ignore[list-item]
    assert {item.project for item in hits.items} == python
