"""PROV files and CWLProv bags: the revsort bag of cwlprov-py, in all its serializations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.bounded import Exceeded
from kg.extract import rdfdoc
from kg.rdf import CUT_MARK, MAX_LITERAL_CHARS
from tests.extract.helpers import PROJECT, copy_tree, extract, rows
from tests.fixtures.bombs import deep_jsonld
from tests.fixtures.gitrepo import GitRepo

BAG = "cwlprov/test/revsort-cwlprov-0.4.0"
PROVENANCE = "test/revsort-cwlprov-0.4.0/metadata/provenance"


@pytest.fixture
def bag(real: Path, git_repo: Callable[[str], GitRepo]) -> GitRepo:
    repo = git_repo("bag")
    copy_tree(real / "cwlprov", repo.path)
    repo.commit(message="cwlprov bag")
    return repo


def test_the_bag_is_ingested_once_with_runs_and_shortcuts(bag: GitRepo) -> None:
    store, warnings = extract(bag.path)
    assert warnings == []
    runs = rows(
        store,
        "SELECT ?run ?start WHERE { ?run a kg:Run ; kg:tool 'cwlprov' ; prov:startedAtTime ?start }",
    )
    assert len(runs) == 3
    used = rows(store, "SELECT ?run ?e WHERE { ?run kg:tool 'cwlprov' ; prov:used ?e }")
    made = rows(store, "SELECT ?run ?e WHERE { ?e prov:wasGeneratedBy ?run . ?run kg:tool 'cwlprov' }")
    assert (len(used), len(made)) == (5, 3)
    plans = rows(store, "SELECT ?p WHERE { ?p a prov:Plan }")
    assert len(plans) == 3
    assert all(r["p"].startswith(f"{PROJECT}/-/cwlprov/d47d3d43-4830-44f0-aa32-4cda74849c63/") for r in plans)
    assert rows(store, "SELECT ?x WHERE { ?x ?p ?o FILTER(STRSTARTS(STR(?x), 'arcp:')) }") == []
    content = rows(
        store,
        "SELECT ?e WHERE { ?x prov:specializationOf ?e FILTER(STRSTARTS(STR(?e), 'urn:hash::sha1:')) }",
    )
    assert "urn:hash::sha1:97fe1b50b4582cebc7d853796ebd62e3e163aa3f" in {r["e"] for r in content}


def test_the_payload_is_the_content_of_the_hash_entities(bag: GitRepo) -> None:
    store, _ = extract(bag.path)
    found = rows(
        store,
        """SELECT ?e ?sha ?path WHERE { ?e kg:sha1 ?sha ; prov:alternateOf ?v .
           ?v a kg:FileVersion ; prov:atLocation ?path FILTER(STRSTARTS(STR(?e), 'urn:hash:')) }""",
    )
    assert {(r["e"], r["path"]) for r in found} == {
        (f"urn:hash::sha1:{r['sha']}", f"test/revsort-cwlprov-0.4.0/data/{r['sha'][:2]}/{r['sha']}")
        for r in found
    }
    assert len(found) == 3


def test_the_runs_files_are_at_the_payload_of_their_content(bag: GitRepo) -> None:
    """The runs use and generate `urn:uuid:` entities, specializations of the hash entities:
    they are where the payload is, so the rev step's output is the sorted step's input."""
    store, _ = extract(bag.path)
    found = rows(
        store,
        """SELECT ?step ?role ?path WHERE {
             ?run kg:tool 'cwlprov' ; rdfs:label ?label .
             { ?run prov:used ?e BIND('in' AS ?role) } UNION { ?e prov:wasGeneratedBy ?run BIND('out' AS ?role) }
             ?e prov:atLocation ?path ; prov:alternateOf/a kg:FileVersion ; kg:sha1 ?sha .
             BIND(STRAFTER(?label, '#main') AS ?step) FILTER(STRSTARTS(STR(?e), 'urn:uuid:')) }""",
    )
    data = "test/revsort-cwlprov-0.4.0/data/"
    whale, reversed_, sorted_ = (
        data + "32/327fc7aedf4f6b69a42a7c8b808dc5a7aff61376",
        data + "97/97fe1b50b4582cebc7d853796ebd62e3e163aa3f",
        data + "b9/b9214658cc453331b62c2282b772a5c063dbd284",
    )
    assert {(r["step"], r["role"], r["path"]) for r in found} == {
        ("", "in", whale),
        ("", "out", sorted_),
        ("/rev", "in", whale),
        ("/rev", "out", reversed_),
        ("/sorted", "in", reversed_),
        ("/sorted", "out", sorted_),
    }


def test_six_serializations_give_the_graph_of_one(
    bag: GitRepo, real: Path, git_repo: Callable[[str], GitRepo]
) -> None:
    full, _ = extract(bag.path)
    single = git_repo("single")
    target = single.path / PROVENANCE / "primary.cwlprov.ttl"
    target.parent.mkdir(parents=True)
    target.write_bytes((real / BAG / "metadata/provenance/primary.cwlprov.ttl").read_bytes())
    copy_tree(real / BAG / "data", single.path / "test/revsort-cwlprov-0.4.0/data")  # the payload
    single.commit(message="only turtle")
    one, _ = extract(single.path)
    count = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o "
        f"FILTER(!STRSTARTS(STR(?s), '{PROJECT}/-/commits') && !STRSTARTS(STR(?s), '{PROJECT}/-/files')"
        " && !STRSTARTS(STR(?s), 'https://kg.test/persons')) }"
    )
    assert rows(full, count) == rows(one, count)


def test_prov_json_alone_is_read_and_provn_alone_is_reported(
    real: Path, git_repo: Callable[[str], GitRepo]
) -> None:
    repo = git_repo("provjson")
    source = real / BAG / "metadata/provenance"
    (repo.path / "prov").mkdir()
    (repo.path / "prov/run.json").write_bytes((source / "primary.cwlprov.json").read_bytes())
    (repo.path / "prov/run.provn").write_bytes((source / "primary.cwlprov.provn").read_bytes())
    (repo.path / "prov/broken.ttl").write_text("@prefix prov: <http://www.w3.org/ns/prov#> .\n<a> prov:used")
    (repo.path / "package.json").write_text('{"name": "not prov"}')
    sha = repo.commit(message="prov files")
    store, warnings = extract(repo.path)
    assert sorted((w.path, w.reason.split(" ")[0]) for w in warnings) == [
        ("prov/broken.ttl", "unreadable"),
        ("prov/run.provn", "PROV-N"),
    ]
    runs = rows(store, f"SELECT ?r WHERE {{ ?r a kg:Run ; kg:tool 'prov' ; kg:inCommit/kg:sha '{sha}' }}")
    assert len(runs) == 3


ONTOLOGY = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
    <!ENTITY owl "http://www.w3.org/2002/07/owl#" >
    <!ENTITY prov "http://www.w3.org/ns/prov#" >
    <!ENTITY rdf "http://www.w3.org/1999/02/22-rdf-syntax-ns#" >
]>
<rdf:RDF xmlns="urn:x:onto#" xml:base="urn:x:onto" xmlns:rdf="&rdf;" xmlns:owl="&owl;" xmlns:prov="&prov;">
    <owl:Ontology rdf:about="urn:x:onto"/>
    <!-- as Protege writes it -->
    <rdf:Description rdf:about="urn:x:onto#run">
        <rdf:type rdf:resource="&prov;Activity"/>
        <prov:used rdf:resource="urn:x:onto#input"/>
    </rdf:Description>
</rdf:RDF>
"""


def test_rdf_xml_declaring_namespace_entities_still_loads(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("owl")
    repo.commit({"onto.owl": ONTOLOGY}, "ontology")
    store, warnings = extract(repo.path)
    assert warnings == []
    assert rows(store, "SELECT ?e WHERE { <urn:x:onto#run> a kg:Run ; prov:used ?e }") == [
        {"e": "urn:x:onto#input"}
    ]


def test_deep_json_ld_never_reaches_pyoxigraph(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyoxigraph would overflow its stack and kill the process: refused on the bytes first."""

    def crash(*args: object, **kwargs: object) -> None:
        raise AssertionError("pyoxigraph saw the document")

    monkeypatch.setattr(rdfdoc.ox, "parse", crash)
    with pytest.raises(Exceeded, match="JSON-LD nested deeper than 128"):
        rdfdoc.parse(deep_jsonld(), ox.RdfFormat.JSON_LD, f"{PROJECT}/-/prov/")
    with pytest.raises(AssertionError, match="saw"):  # the guard above is what stopped it
        rdfdoc.parse(deep_jsonld(depth=10), ox.RdfFormat.JSON_LD, f"{PROJECT}/-/prov/")


def test_literals_too_long_for_the_store_are_cut_or_dropped(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("long")
    text, digits = "t" * (2 * MAX_LITERAL_CHARS), "9" * (MAX_LITERAL_CHARS + 1)
    ttl = (
        "@prefix prov: <http://www.w3.org/ns/prov#> .\n"
        f'<urn:x:run> a prov:Activity ; prov:label "{text}"@en ; prov:value {digits} ; prov:atLocation "here" .\n'
    )
    huge = f'<urn:x:other> <urn:x:p> "{"h" * (17 * 1024 * 1024)}" .\n<urn:x:other> a <http://www.w3.org/ns/prov#Entity> .'
    repo.commit({"prov/long.ttl": ttl, "prov/huge.nt": huge})
    store, warnings = extract(repo.path)
    assert sorted((w.path, w.reason.split(":")[0]) for w in warnings) == [
        ("prov/huge.nt", "a term longer than pyoxigraph's parser takes (16 MB)"),
        ("prov/long.ttl", "long literal cut"),
        ("prov/long.ttl", "long literal dropped"),
    ]
    (label,) = rows(store, "SELECT ?l WHERE { <urn:x:run> prov:label ?l }")
    assert label["l"] == text[:MAX_LITERAL_CHARS] + CUT_MARK
    assert rows(store, "SELECT ?v WHERE { <urn:x:run> prov:value ?v }") == []
    assert rows(store, "SELECT ?v WHERE { <urn:x:run> prov:atLocation ?v }") == [{"v": "here"}]
