"""The search index: ranking, prefixes, diacritics, filters, facets, paging, access."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.access import Access
from kg.config import Settings
from kg.search import BACKENDS, Document, SearchIndex, SearchQuery
from kg.search.base import ProjectEntry


def index_settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings pointing kg at a fresh, empty index of `backend` (PostgreSQL: a new database
    on the session's server)."""
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        return Settings(data_dir=tmp_path, search_url=url)  # type: ignore[arg-type]
    return Settings(data_dir=tmp_path)


@pytest.fixture(params=list(BACKENDS))
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    """Each search index kg offers, with a few projects and their documents."""
    ix = filled(BACKENDS[request.param](index_settings(request.param, request, tmp_path)))
    yield ix
    ix.close()


def filled(ix: SearchIndex) -> SearchIndex:
    """`ix` with three projects (public, private, internal) and their documents."""
    projects = [
        ("climate/rainfall", "public", {}),
        ("climate/secret", "private", {"7": 50}),
        ("bio/genomes", "internal", {"8": 30}),
    ]
    for slug, visibility, members in projects:
        entry = ProjectEntry(
            slug,
            f"https://kg.test/projects/{slug}",
            f"https://kg.test/projects/{slug}/-/graphs/1",
            visibility,
            members,
        )  # type: ignore[arg-type]
        name = slug.split("/")[1]
        ix.replace_project(
            entry,
            [
                Document(
                    f"{entry.iri}",
                    "project",
                    slug,
                    name,
                    slug=slug,
                    description=f"All about {name}",
                    keywords=["weather"] if "climate" in slug else ["dna"],
                    created=f"2024-01-0{len(name) % 9 + 1}",
                ),
                Document(
                    f"{entry.iri}/-/d1",
                    "dataset",
                    slug,
                    f"{name} measurements Zürich",
                    keywords=["station"],
                    creators=["Ada Lovelace"],
                    paths=["data/raw/stations.csv"],
                    created="2024-03-01",
                ),
                Document("https://kg.test/persons/ada", "person", slug, "Ada Lovelace"),
            ],
        )
    return ix


def names(ix: SearchIndex, access: Access | None = None, **kw: object) -> list[str]:
    return [d.name for d in ix.search(SearchQuery(**kw), access or Access()).items]  # type: ignore[arg-type]


def test_prefix_multiword_and_diacritics(index: SearchIndex) -> None:
    assert names(index, text="rainf") == ["rainfall", "rainfall measurements Zürich"]
    assert names(index, text="zurich rain") == ["rainfall measurements Zürich"]
    assert names(index, text="stations") == ["rainfall measurements Zürich"]  # a file path
    assert names(index, text="lovelace", kinds=["person"]) == ["Ada Lovelace"]  # once, not per project


def test_name_matches_rank_above_description_matches(index: SearchIndex) -> None:
    result = index.search(SearchQuery(text="rainfall"), Access())
    assert result.items[0].kind == "project"
    assert result.scores[result.items[0].id] > result.scores[result.items[1].id]


def test_access(index: SearchIndex) -> None:
    projects = {"kinds": ["project"], "sort": [("name", "asc")]}
    assert names(index, **projects) == ["rainfall"]
    assert names(index, Access("99"), **projects) == ["genomes", "rainfall"]
    assert names(index, Access("7"), **projects) == ["genomes", "rainfall", "secret"]
    assert index.readable_projects(Access("7")) is None  # nothing hidden: queries read the union
    assert sorted(p.slug for p in index.readable_projects(Access("99")) or []) == [
        "bio/genomes",
        "climate/rainfall",
    ]
    assert [p.slug for p in index.readable_projects(Access()) or []] == ["climate/rainfall"]


def test_filters_facets_and_paging(index: SearchIndex) -> None:
    access = Access("7")
    result = index.search(SearchQuery(kinds=["dataset"], namespaces=["climate"]), access)
    assert result.total == 2
    assert result.facets["type"] == {"dataset": 2, "project": 2, "person": 1}
    assert result.facets["namespace"] == {"climate": 2, "bio": 1}
    assert names(index, access, creators=["Ada Lovelace"], visibilities=["private"]) == [
        "secret measurements Zürich"
    ]
    assert names(index, access, roles=["owner"], kinds=["project"]) == ["secret"]
    assert names(index, access, roles=["reader"], kinds=["project"]) == []
    page = index.search(SearchQuery(sort=[("name", "asc")], page=2, per_page=2), access)
    assert page.total == 7 and len(page.items) == 2
    assert names(index, access, since="2024-02-01", sort=[("name", "asc")]) == [
        "genomes measurements Zürich",
        "rainfall measurements Zürich",
        "secret measurements Zürich",
    ]


def test_replacing_and_removing_a_project(index: SearchIndex) -> None:
    entry = index.project("climate/rainfall")
    assert entry is not None
    index.replace_project(entry, [Document(entry.iri, "project", entry.slug, "renamed")])
    assert names(index, text="rainfall") == []
    assert names(index, text="renamed") == ["renamed"]
    index.remove_project("climate/rainfall")
    assert index.project("climate/rainfall") is None
    assert names(index, text="renamed") == []


def test_probe_answers_when_the_index_can_be_read(index: SearchIndex) -> None:
    index.probe()  # raises kg.errors.Unavailable otherwise (see the backends' own tests)


def test_hostile_text_is_just_words(index: SearchIndex) -> None:
    for text in ['" OR 1=1 --', "NEAR(a b)", "*", "rain* AND", "{col}: x", "'; DROP TABLE docs; --"]:
        index.search(SearchQuery(text=text), Access())
    assert names(index, text="rainfall")


def test_readable_projects_follow_every_writer(
    index: SearchIndex, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    def readable() -> list[str]:
        return sorted(p.slug for p in index.readable_projects(Access()) or [])

    assert readable() == ["climate/rainfall"]
    # another handle on the same index, as another process would have
    backend = request.node.callspec.params["index"]
    other = BACKENDS[backend](index_settings(backend, request, tmp_path))
    other.replace_project(ProjectEntry("x/new", "https://kg.test/projects/x/new", "g", "public", {}), [])
    assert readable() == ["climate/rainfall", "x/new"]
    index.replace_project(ProjectEntry("x/own", "https://kg.test/projects/x/own", "g2", "public", {}), [])
    assert readable() == ["climate/rainfall", "x/new", "x/own"]
    index.remove_project("x/own")
    other.remove_project("x/new")
    assert readable() == ["climate/rainfall"]
    other.close()


def test_people_count_once_per_facet_value_and_are_listed_once(index: SearchIndex) -> None:
    result = index.search(SearchQuery(text="ada"), Access("7"))
    # two datasets and Ada in climate (Ada in two of its projects: counted once), a dataset
    # and Ada in bio
    assert result.facets["namespace"] == {"climate": 3, "bio": 2}
    assert result.facets["type"]["person"] == 1
    assert [d.name for d in result.items].count("Ada Lovelace") == 1


def test_searches_during_replacements_see_whole_projects(
    index: SearchIndex, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    e = ProjectEntry("g/busy", "https://kg.test/projects/g/busy", "g", "public", {})

    def docs(word: str) -> list[Document]:
        return [Document(f"{e.iri}/{i}", "dataset", e.slug, f"{word} {i}") for i in range(20)]

    index.replace_project(e, docs("alpha"))
    backend = request.node.callspec.params["index"]
    writer = BACKENDS[backend](index_settings(backend, request, tmp_path))  # as another process
    done = threading.Event()

    def replace() -> None:
        for n in range(40):
            writer.replace_project(e, docs("beta" if n % 2 else "alpha"))
        done.set()

    thread = threading.Thread(target=replace)
    thread.start()
    searches = 0
    while not done.is_set() or searches == 0:
        result = index.search(SearchQuery(namespaces=["g"], per_page=100), Access())
        assert result.total == len(result.items) == 20
        assert len({d.name.split()[0] for d in result.items}) == 1  # all alpha or all beta
        searches += 1
    thread.join()
    writer.close()
    assert names(index, text="alpha") == [] and len(names(index, text="beta", per_page=100)) == 20


def gallery(ix: SearchIndex) -> None:
    """A public project whose documents name creators: twice in one dataset, in another case."""
    e = ProjectEntry("art/gallery", "https://kg.test/projects/art/gallery", "g", "public", {})
    ix.replace_project(
        e,
        [
            Document(e.iri, "project", e.slug, "gallery", slug=e.slug, creators=["Grace Hopper"]),
            Document(
                f"{e.iri}/d1",
                "dataset",
                e.slug,
                "paintings",
                creators=["Ada Lovelace", "Grace Hopper", "Ada Lovelace"],
            ),
            Document(f"{e.iri}/d2", "dataset", e.slug, "sculptures", creators=["grace hopper"]),
            Document(f"{e.iri}/w1", "workflow", e.slug, "catalogue"),
        ],
    )


def test_creator_facet_counts_each_document_once_per_creator(index: SearchIndex) -> None:
    gallery(index)
    result = index.search(SearchQuery(), Access("7"))
    # Ada: the three datasets of `filled` and the paintings (named twice there, counted once);
    # largest first, ties by name
    assert list(result.facets["creator"].items()) == [
        ("Ada Lovelace", 4),
        ("Grace Hopper", 2),
        ("grace hopper", 1),
    ]
    assert index.search(SearchQuery(), Access()).facets["creator"] == {
        "Ada Lovelace": 2,
        "Grace Hopper": 2,
        "grace hopper": 1,
    }


def test_creator_facet_ignores_its_own_filter_and_the_others_honour_it(index: SearchIndex) -> None:
    gallery(index)
    everything = index.search(SearchQuery(), Access("7")).facets["creator"]
    result = index.search(SearchQuery(creators=["GRACE HOPPER"]), Access("7"))  # any case
    assert sorted(d.name for d in result.items) == ["gallery", "paintings", "sculptures"]
    assert result.total == 3
    assert result.facets["creator"] == everything
    assert result.facets["type"] == {"project": 1, "dataset": 2}
    assert result.facets["visibility"] == {"public": 3}
    assert result.facets["namespace"] == {"art": 3}
    datasets = index.search(SearchQuery(kinds=["dataset"], namespaces=["art"]), Access("7"))
    assert datasets.facets["creator"] == {"Ada Lovelace": 1, "Grace Hopper": 1, "grace hopper": 1}
    both = index.search(SearchQuery(creators=["Ada Lovelace", "grace hopper"], kinds=["dataset"]), Access())
    assert sorted(d.name for d in both.items) == [
        "paintings",
        "rainfall measurements Zürich",
        "sculptures",
    ]
    assert both.facets["type"] == {"dataset": 3, "project": 1}  # the type facet ignores `kinds`


def test_creator_filter_is_a_whole_name_ignoring_case_alone(index: SearchIndex) -> None:
    e = ProjectEntry("eu/letters", "https://kg.test/projects/eu/letters", "g", "public", {})
    index.replace_project(
        e,
        [
            Document(
                f"{e.iri}/d", "dataset", e.slug, "letters", creators=["Émilie du Châtelet", "Ada_Lovelace"]
            )
        ],
    )
    assert names(index, creators=["ÉMILIE DU CHÂTELET"]) == ["letters"]  # beyond ASCII alike
    assert names(index, creators=["Ada_Lovelace"]) == ["letters"]
    for pattern in ("Ada%", "Ada_Lovelace%", "%", "_da Lovelace", "Émilie", "du Châtelet"):
        assert names(index, creators=[pattern], kinds=["dataset"], namespaces=["eu"]) == [], pattern
    assert names(index, creators=["Ada Lovelace"], namespaces=["eu"]) == []  # `_` is no wildcard


def test_creator_facet_keeps_the_largest_counts(index: SearchIndex) -> None:
    from kg.search.hits import CREATORS_COUNTED

    e = ProjectEntry("big/authors", "https://kg.test/projects/big/authors", "g", "public", {})
    extra = CREATORS_COUNTED + 10
    docs = [
        # dataset i names authors 0..i: author j is in `extra - j` datasets
        Document(
            f"{e.iri}/d{i}",
            "dataset",
            e.slug,
            f"volume {i}",
            creators=[f"Author {j:03}" for j in range(i + 1)],
        )
        for i in range(extra)
    ]
    last = CREATORS_COUNTED - 1  # the last author that fits, were it not for Aardvark
    tied = extra - last
    for doc in docs[:tied]:
        doc.creators.append("Aardvark")  # as many as that author: the name decides
    index.replace_project(e, docs)
    counts = index.search(SearchQuery(namespaces=["big"]), Access()).facets["creator"]
    expected = [(f"Author {j:03}", extra - j) for j in range(last)]
    assert list(counts.items()) == [*expected, ("Aardvark", tied)]
    assert len(counts) == CREATORS_COUNTED
