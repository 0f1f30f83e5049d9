"""Audience graphs: every project's triples merged into the graph of its visibility,
retracted when they leave it, and read by callers instead of long graph lists."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.access import Access
from kg.config import Settings
from kg.store import ProjectRecord
from kg.store.audiences import audience_of
from kg.store.oxigraph import OxigraphStore, Snapshot, stored_records
from kg.store.oxigraph.checkpoints import newest_snapshot, read_records
from kg.store.reading import QueryRequest
from kg.store.records import record_ntriples
from tests.store.helpers import ntriples

SHARED = '<https://kg.test/people/ann> <https://kg.test/name> "Ann" .\n'
ANONYMOUS, OUTSIDER, MEMBER = Access(), Access("99"), Access("7")


def record(store: OxigraphStore, slug: str, visibility: str = "public") -> ProjectRecord:
    return ProjectRecord(
        iri=store.minter.project(slug),
        slug=slug,
        name=slug.rsplit("/")[-1],
        visibility=visibility,
        ingested_commit="c" * 40,
        members=(("7", 30),),
    )


def audience(
    store: OxigraphStore, visibility: str, members: tuple[tuple[str, int], ...] = (("7", 30),)
) -> set[str]:
    probe = ProjectRecord("p", "g/p", "p", visibility, members=members)
    graph = ox.NamedNode(audience_of(store.minter, probe))
    return {
        f"{q.subject} {q.predicate} {q.object}" for q in store.raw.quads_for_pattern(None, None, None, graph)
    }


def data(store: OxigraphStore, visibility: str) -> set[str]:
    """The audience's triples that are not project descriptions."""
    return {t for t in audience(store, visibility) if "kg.test" in t}


def seen(settings: Settings, store: OxigraphStore, access: Access | None) -> set[str]:
    """The subjects of kg.test triples a caller's SPARQL query finds."""
    snapshot = Snapshot(settings.store_path, store.minter, 10**7)
    query = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), 'https://kg.test/')) }"
    body = snapshot.answer(QueryRequest(query=query, accept="text/csv", access=access)).body.decode()
    return set(body.split()[1:])


def test_a_project_is_merged_into_its_audience_with_its_description(
    store: OxigraphStore, tmp_path: Path
) -> None:
    published = store.replace_project_graph(record(store, "g/a"), ntriples(tmp_path / "a.nt", "a", 3))
    assert published.audience == store.minter.audience_graph("public")
    assert len(data(store, "public")) == 3
    assert any("kg#slug" in t or "ontology#slug" in t for t in audience(store, "public"))
    assert audience(store, "internal") == audience(store, "private") == set()


def test_a_rebuild_retracts_the_old_generation_but_keeps_what_others_hold(
    store: OxigraphStore, tmp_path: Path
) -> None:
    store.replace_project_graph(record(store, "g/a"), ntriples(tmp_path / "a1.nt", "a", 3, SHARED))
    store.replace_project_graph(record(store, "g/b"), ntriples(tmp_path / "b.nt", "b", 1, SHARED))
    # a's new history no longer has a/1, a/2 nor Ann; b still has Ann
    store.replace_project_graph(record(store, "g/a"), ntriples(tmp_path / "a2.nt", "a", 1))
    triples = data(store, "public")
    assert not any("kg.test/a/1" in t or "kg.test/a/2" in t for t in triples)
    assert any("people/ann" in t for t in triples)
    assert len(triples) == 3  # a/0, b/0, Ann


def test_extending_adds_the_increment_to_the_audience(store: OxigraphStore, tmp_path: Path) -> None:
    store.replace_project_graph(record(store, "g/a"), ntriples(tmp_path / "a.nt", "a", 2))
    store.extend_project_graph(record(store, "g/a"), ntriples(tmp_path / "more.nt", "more", 2))
    assert len(data(store, "public")) == 4


def test_a_project_turning_private_leaves_the_public_audience(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    store.replace_project_graph(record(store, "g/a"), ntriples(tmp_path / "a.nt", "a", 2, SHARED))
    store.replace_project_graph(record(store, "g/b"), ntriples(tmp_path / "b.nt", "b", 1, SHARED))
    store.replace_project_graph(record(store, "g/c"), ntriples(tmp_path / "c.nt", "c", 1, SHARED))
    moved = store.publish_record(record(store, "g/a", "private"))
    assert moved.audience == audience_of(store.minter, moved)
    assert moved.audience.startswith("https://kg.local/audiences/private/")
    assert {t.split()[0] for t in data(store, "public")} == {
        "<https://kg.test/b/0>",
        "<https://kg.test/c/0>",
        "<https://kg.test/people/ann>",
    }
    assert len(data(store, "private")) == 3
    assert not any(store.minter.project("g/a") in t for t in audience(store, "public"))
    assert "https://kg.test/a/0" not in seen(settings, store, ANONYMOUS)
    assert "https://kg.test/a/0" not in seen(settings, store, OUTSIDER)
    assert "https://kg.test/a/0" in seen(settings, store, MEMBER)
    # and back: public again, merged again
    store.publish_record(record(store, "g/a", "public"))
    assert "https://kg.test/a/0" in seen(settings, store, ANONYMOUS)
    assert data(store, "private") == set()


def test_readers_see_by_visibility_and_membership(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    for slug, visibility in (("g/pub", "public"), ("g/int", "internal"), ("g/priv", "private")):
        store.replace_project_graph(record(store, slug, visibility), ntriples(tmp_path / "x.nt", slug[2:], 1))
    pub, internal, private = "https://kg.test/pub/0", "https://kg.test/int/0", "https://kg.test/priv/0"
    assert seen(settings, store, ANONYMOUS) == {pub}
    assert seen(settings, store, OUTSIDER) == {pub, internal}
    assert seen(settings, store, MEMBER) == {pub, internal, private}
    assert seen(settings, store, None) == {pub, internal, private}


def test_projects_not_merged_yet_are_read_one_by_one_then_merged(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    # A store written before audience graphs existed: a graph and a record, no merge.
    rec = record(store, "g/old").evolve(graph=store.minter.project_graph(store.minter.project("g/old"), 1))
    store.raw.bulk_load(
        ntriples(tmp_path / "o.nt", "old", 2).read_bytes(),
        ox.RdfFormat.N_TRIPLES,
        to_graph=ox.NamedNode(rec.graph or ""),
    )
    store.raw.update(
        f"INSERT DATA {{ GRAPH <{store.minter.record_graph(rec.iri)}> {{ {record_ntriples(rec)} }} }}"
    )
    store.checkpoint()
    assert store.project(rec.iri).audience is None  # type: ignore[union-attr]
    assert seen(settings, store, ANONYMOUS) == {"https://kg.test/old/0", "https://kg.test/old/1"}
    assert store.merge_audiences() == 1
    assert len(data(store, "public")) == 2
    assert seen(settings, store, ANONYMOUS) == {"https://kg.test/old/0", "https://kg.test/old/1"}
    assert store.merge_audiences() == 0


def test_garbage_collection_retracts_a_half_loaded_generation(store: OxigraphStore, tmp_path: Path) -> None:
    store.replace_project_graph(record(store, "g/a"), ntriples(tmp_path / "a.nt", "a", 2))
    # a job killed after loading generation 2 into its graph and the audience, before publishing
    dead = ox.NamedNode(store.minter.project_graph(store.minter.project("g/a"), 2))
    garbage = ntriples(tmp_path / "dead.nt", "dead", 3).read_bytes()
    store.raw.bulk_load(garbage, ox.RdfFormat.N_TRIPLES, to_graph=dead)
    store.raw.bulk_load(
        garbage, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(store.minter.audience_graph("public"))
    )
    assert store.collect_garbage() == 1
    assert {t.split()[0] for t in data(store, "public")} == {"<https://kg.test/a/0>", "<https://kg.test/a/1>"}


def test_private_projects_share_an_audience_per_member_set(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    team = (("7", 30), ("8", 40))
    a = store.replace_project_graph(
        record(store, "g/a", "private").evolve(members=team), ntriples(tmp_path / "a.nt", "a", 1)
    )
    b = store.replace_project_graph(
        record(store, "g/b", "private").evolve(members=team[::-1]), ntriples(tmp_path / "b.nt", "b", 1)
    )
    c = store.replace_project_graph(
        record(store, "g/c", "private").evolve(members=(("8", 40),)), ntriples(tmp_path / "c.nt", "c", 1)
    )
    assert a.audience == b.audience != c.audience
    snapshot = Snapshot(settings.store_path, store.minter, 10**7)
    seven, eight = snapshot.readable(Access("7")), snapshot.readable(Access("8"))
    assert list(seven.default).count(a.audience) == 1
    assert set(eight.default) >= {a.audience, c.audience}
    assert c.audience not in set(seven.default)
    assert seen(settings, store, Access("7")) == {"https://kg.test/a/0", "https://kg.test/b/0"}
    # 7 leaves b: b moves to an audience of its own, and 7 no longer reads it
    store.publish_record(b.evolve(members=(("8", 40),)))
    assert seen(settings, store, Access("7")) == {"https://kg.test/a/0"}
    assert seen(settings, store, Access("8")) == {
        "https://kg.test/a/0",
        "https://kg.test/b/0",
        "https://kg.test/c/0",
    }
    assert "<https://kg.test/b/0>" not in {t.split()[0] for t in audience(store, "private", team)}


def test_an_audience_nobody_belongs_to_any_more_is_emptied_and_dropped(
    store: OxigraphStore, tmp_path: Path
) -> None:
    solo = store.replace_project_graph(record(store, "g/a", "private"), ntriples(tmp_path / "a.nt", "a", 2))
    old = solo.audience
    store.publish_record(solo.evolve(members=(("9", 50),)))
    assert not list(store.raw.quads_for_pattern(None, None, None, ox.NamedNode(old or "")))
    assert store.collect_garbage() == 1
    assert old not in {g.value for g in store.raw.named_graphs()}


def test_remembered_records_and_checkpoint_records_match_the_store(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    team = (("8", 40), ("7", 30))
    store.replace_project_graph(
        record(store, "g/a", "private").evolve(members=team), ntriples(tmp_path / "a.nt", "a", 2)
    )
    store.replace_project_graph(record(store, "g/b"), ntriples(tmp_path / "b.nt", "b", 1))
    store.extend_project_graph(record(store, "g/b", "internal"), ntriples(tmp_path / "c.nt", "c", 1))
    remembered = store.projects()
    assert remembered == stored_records(store.raw, store.minter.base)  # read again with SPARQL
    snapshot = newest_snapshot(settings.store_path)
    assert snapshot is not None
    assert read_records(snapshot) == remembered


def test_a_removed_project_leaves_its_audience_its_records_and_at_last_the_store(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    store.replace_project_graph(record(store, "g/a"), ntriples(tmp_path / "a.nt", "a", 2, SHARED))
    store.replace_project_graph(record(store, "g/b"), ntriples(tmp_path / "b.nt", "b", 1, SHARED))
    gone = store.project(store.minter.project("g/a"))
    assert gone is not None and gone.graph
    assert store.remove_project(gone.iri) is True
    assert store.remove_project(gone.iri) is False
    assert store.project(gone.iri) is None
    assert {t.split()[0] for t in data(store, "public")} == {
        "<https://kg.test/b/0>",
        "<https://kg.test/people/ann>",
    }
    assert not any(gone.iri in t for t in audience(store, "public"))  # its description too
    assert "https://kg.test/a/0" not in seen(settings, store, None)  # not even for kg's own tools
    snapshot = newest_snapshot(settings.store_path)
    assert snapshot is not None
    assert [r.slug for r in read_records(snapshot) or []] == ["g/b"]
    assert store.collect_garbage() >= 1  # its last generation goes with the next collection
    assert not store.raw.contains_named_graph(ox.NamedNode(gone.graph))
