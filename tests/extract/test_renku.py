"""Renku >= 1.0 object database: fairagro/m4.4_renku-test-arc (renku 2.9.4, schema 10)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kg.extract.renku_db import CorruptObject, decode, oid_path
from tests.extract.helpers import PROJECT, copy_tree, extract, rows
from tests.fixtures.bombs import renku_back_references
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.renku import renku_object, tagged_rainfall

RENKU = "PREFIX renku: <https://swissdatasciencecenter.github.io/renku-ontology#>\n"


@pytest.fixture
def arc(real: Path, git_repo: Callable[[str], GitRepo]) -> GitRepo:
    repo = git_repo("arc")
    copy_tree(real / "renku-v1-arc", repo.path)
    repo.commit(message="renku metadata")
    return repo


def test_activities_with_plans_agents_and_git_blob_entities(arc: GitRepo) -> None:
    store, warnings = extract(arc.path)
    assert warnings == []
    found = rows(
        store,
        RENKU
        + """
        SELECT ?run ?plan ?started WHERE {
          ?run a renku:Activity, kg:Run ; prov:startedAtTime ?started ;
               prov:qualifiedAssociation/prov:hadPlan/schema:name ?plan .
        }""",
    )
    assert sorted(r["plan"] for r in found) == [
        "calculation",
        "plot",
        "python-workflows_ca-a51b8",
        "python-workflows_pl-b7d32",
    ]
    agents = rows(
        store,
        """
        SELECT DISTINCT ?who WHERE {
          ?run a kg:Run ; prov:wasAssociatedWith ?a .
          { ?a schema:email ?who } UNION { ?a a prov:SoftwareAgent . BIND(STR(?a) AS ?who) }
        }""",
    )
    assert {r["who"] for r in agents} == {
        "j.krumsieck@outlook.de",
        "https://github.com/swissdatasciencecenter/renku-python/tree/v2.9.4",
    }
    plot = rows(
        store,
        f"""
        SELECT ?in ?out ?blob WHERE {{
          <{PROJECT}/-/renku/activities/3a9997e85f514902bf55ff5760371671> prov:used/prov:atLocation ?in .
          ?o prov:wasGeneratedBy <{PROJECT}/-/renku/activities/3a9997e85f514902bf55ff5760371671> ;
             prov:atLocation ?out ; kg:blob ?blob .
        }}""",
    )
    assert {r["in"] for r in plot} == {"workflows/plot/plot.py", "results.csv"}
    assert {(r["out"], r["blob"]) for r in plot} == {
        ("results.svg", "5c4d27e043d10d10067d4af5dff95458d35a6bd6")
    }
    # the renku entity is the git file version: same IRI the git layer uses
    assert f"{PROJECT}/-/files/5c4d27e043d10d10067d4af5dff95458d35a6bd6/results.svg" in {
        r["o"]
        for r in rows(store, "SELECT ?o WHERE { ?o prov:atLocation 'results.svg' ; prov:wasGeneratedBy ?a }")
    }


def test_plans_versions_and_composites(arc: GitRepo) -> None:
    store, _ = extract(arc.path)
    plans = rows(
        store,
        RENKU
        + """
        SELECT ?plan ?name ?from ?removed WHERE {
          ?plan a renku:Plan ; schema:name ?name .
          OPTIONAL { ?plan prov:wasDerivedFrom ?from } OPTIONAL { ?plan prov:invalidatedAtTime ?removed }
        }""",
    )
    assert len(plans) == 11
    composites = rows(
        store,
        RENKU
        + "SELECT ?name (COUNT(?step) AS ?n) WHERE { ?c a renku:CompositePlan ; schema:name ?name ; schema:hasPart ?step } GROUP BY ?c ?name",
    )
    assert sorted((r["name"], r["n"]) for r in composites) == [
        ("arc", "2"),
        ("arc", "2"),
        ("main", "2"),
    ]
    removed = {r["name"] for r in plans if "removed" in r}
    assert removed == {"python-workflows_ca-a51b8", "python-workflows_pl-b7d32", "arc"}
    edited = [r for r in plans if r["name"] == "calculation" and "from" in r]
    assert edited and edited[0]["from"].endswith("/renku/plans/99d859da19e6475aa09ab6676b1e6ad2")


def test_dataset_versions(arc: GitRepo) -> None:
    store, _ = extract(arc.path)
    versions = rows(
        store,
        RENKU
        + """
        SELECT ?d ?slug ?lineage ?removed WHERE {
          ?d a schema:Dataset ; renku:slug ?slug ; renku:originalIdentifier ?lineage .
          OPTIONAL { ?d prov:invalidatedAtTime ?removed }
        }""",
    )
    assert len(versions) == 12
    assert len({r["lineage"] for r in versions}) == 4
    assert {r["slug"] for r in versions} == {"population", "speakers"}
    files = rows(
        store,
        f"""
        SELECT ?path ?blob WHERE {{
          <{PROJECT}/-/renku/datasets/c4775829e2e246dfa48e25a1e77bffd3> schema:hasPart/prov:entity ?e .
          ?e prov:atLocation ?path ; kg:blob ?blob .
        }}""",
    )
    assert ("assays/speakers/dataset/speakers_revised.csv", "60266336") in {
        (r["path"], r["blob"][:8]) for r in files
    }
    chain = rows(
        store,
        f"SELECT ?prev WHERE {{ <{PROJECT}/-/renku/datasets/6c17d700fdd6414cb45416bc390631df> prov:wasDerivedFrom ?prev }}",
    )
    assert len(chain) == 1
    assert chain[0]["prev"].rsplit("/", 1)[-1].startswith("f1638440")


def test_project_object(arc: GitRepo) -> None:
    store, _ = extract(arc.path)
    project = rows(
        store,
        f"SELECT ?v ?agent WHERE {{ <{PROJECT}> schema:schemaVersion ?v ; schema:agent ?agent }}",
    )
    assert project == [{"v": "10", "agent": "2.9.4"}]


def test_a_corrupt_object_is_a_warning(arc: GitRepo) -> None:
    victim = arc.path / oid_path("/activities/3a9997e85f514902bf55ff5760371671")
    victim.write_bytes(victim.read_bytes()[:40])  # truncated zstd frame
    (arc.path / ".renku/metadata/ab/cd").mkdir(parents=True)
    (arc.path / ".renku/metadata/ab/cd" / ("ab" * 32)).write_text('{"not": "renku"}')
    broken = arc.commit(message="break two objects")
    store, warnings = extract(arc.path)
    assert [(w.commit, w.source) for w in warnings] == [(broken, "renku")] * 2
    assert all("corrupt object" in w.reason for w in warnings)
    # the object's earlier version and everything else are still there
    assert len(rows(store, "SELECT ?r WHERE { ?r a kg:Run ; kg:tool 'renku' }")) == 4


def test_dataset_tags_are_publication_events_about_a_version(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("tags")
    for files in tagged_rainfall():
        repo.commit(files, "renku dataset")
    repo.commit(dict([renku_object("dataset.DatasetTag", id="/dataset-tags/broken", name="x")]), "bad tag")
    store, warnings = extract(repo.path)
    found = rows(
        store,
        "SELECT ?name ?about ?date ?description WHERE { ?t a schema:PublicationEvent ; schema:name ?name ;"
        " schema:about ?about ; schema:startDate ?date OPTIONAL { ?t schema:description ?description } }",
    )
    assert {(r["name"], r["about"].rsplit("/", 1)[-1], r.get("description")) for r in found} == {
        ("v1.0", "aaa111", "first release"),
        ("v2.0", "bbb222", None),
        ("v2.0-final", "bbb222", "fixed units"),
    }
    assert all(r["about"].startswith(f"{PROJECT}/-/renku/datasets/") for r in found)
    assert [w.source for w in warnings] == ["renku"]
    assert "dataset_id" in warnings[0].reason


def _object(**fields: Any) -> bytes:
    return json.dumps({"@renku_data_type": "renku.domain_model.dataset.Dataset", **fields}).encode()


def test_back_references_are_counted_every_time_they_are_used() -> None:
    with pytest.raises(CorruptObject, match="more than 2000000 values"):
        decode(_object(id="/datasets/x", **renku_back_references(levels=60)))
    shared = decode(_object(id="/datasets/x", **renku_back_references(levels=10)))
    assert str(shared["keywords"][10]).count("lol") == 2**10  # within the bound: decoded as renku does
    text = {"@renku_data_type": "builtins.object", "@renku_data_value": {"v": "x" * 100_000}}
    ref = {"@renku_data_type": "reference", "@renku_data_value": 0}
    with pytest.raises(CorruptObject, match="more than 67108864 characters"):
        decode(_object(id="/datasets/x", keywords=[text] + [ref] * 700))


def test_a_back_reference_cycle_gives_a_finite_structure() -> None:
    loop = {
        "@renku_data_type": "builtins.object",
        "@renku_data_value": {"me": {"@renku_data_type": "reference", "@renku_data_value": 0}},
    }
    decoded = decode(_object(id="/datasets/x", keywords=[loop]))
    assert json.loads(json.dumps(decoded))["keywords"] == [
        {"@type": "builtins.object", "me": {"@type": "builtins.object"}}
    ]


def test_runs_carry_their_command_line_as_run(arc: GitRepo) -> None:
    store, _ = extract(arc.path)
    found = rows(
        store, "SELECT DISTINCT ?line WHERE { ?run kg:tool 'renku' ; a kg:Run ; kg:commandLine ?line }"
    )
    assert {r["line"] for r in found} == {
        "python workflows/calculation/calculation.py -p assays/population/dataset/population.csv"
        " -s assays/speakers/dataset/speakers_revised.csv",
        "python workflows/plot/plot.py -r results.csv",
    }


def _entity(path: str, blob: str, kind: str = "Entity", **more: Any) -> dict[str, Any]:
    return {
        "@renku_data_type": f"renku.domain_model.entity.{kind}",
        "@renku_data_value": {"id": f"/entities/{blob}/{path}", "path": path, "checksum": blob, **more},
    }


def test_a_collection_a_run_used_lists_its_members(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("collection")
    folder = _entity(
        "data/raw",
        "a" * 40,
        "Collection",
        members=[_entity("data/raw/a.csv", "b" * 40), _entity("data/raw/b.csv", "c" * 40)],
    )
    usage = {
        "@renku_data_type": "renku.domain_model.provenance.activity.Usage",
        "@renku_data_value": {"id": "/activities/a1/usages/1", "entity": folder},
    }
    activity = renku_object(
        "provenance.activity.Activity",
        id="/activities/a1",
        started_at_time="2024-03-01T10:00:00+00:00",
        ended_at_time="2024-03-01T10:01:00+00:00",
        usages=[usage],
        generations=[],
        agents=[],
    )
    repo.commit(dict([activity]), "renku run")
    store, warnings = extract(repo.path)
    assert warnings == []
    members = rows(
        store,
        """SELECT ?m WHERE { ?run kg:tool 'renku' ; prov:used ?c .
           ?c a prov:Collection ; prov:atLocation "data/raw" ; prov:hadMember/prov:atLocation ?m }""",
    )
    assert {r["m"] for r in members} == {"data/raw/a.csv", "data/raw/b.csv"}
