"""A CWLProv bag made here (no shared fixture): lineage by a payload path goes through the
runs, whose files are `urn:uuid:` specializations of `urn:hash::sha1:` entities."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from kg.config import Settings
from kg.iri import Minter
from kg.pipeline.ingest import ProjectInfo, ingest_repository
from kg.store import open_reader, open_store
from tests.fixtures.gitrepo import GitRepo
from tests.lineage.helpers import walk

TEXTS = {"whale": "Call me Ishmael.\n", "reversed": ".leamhsI em llaC\n", "sorted": " .ICaeehllmmls\n"}
SHA1 = {name: hashlib.sha1(text.encode()).hexdigest() for name, text in TEXTS.items()}


def _step(name: str, used: str, made: str, minute: int) -> str:
    """One step run as cwltool writes it: qualified usage and generation only, each file a
    `urn:uuid:` entity specializing the content's hash entity."""
    return f"""
<urn:uuid:run-{name}> a wfprov:ProcessRun, prov:Activity ;
    rdfs:label "Run of workflow/packed.cwl#main/{name}" ;
    prov:startedAtTime "2018-08-21T17:{minute:02d}:00"^^xsd:dateTime ;
    prov:qualifiedUsage [ a prov:Usage ; prov:entity <urn:uuid:{used}-{name}> ] .
<urn:uuid:{used}-{name}> a wfprov:Artifact, prov:Entity ;
    prov:specializationOf <urn:hash::sha1:{SHA1[used]}> .
<urn:uuid:{made}-{name}> a wfprov:Artifact, prov:Entity ;
    prov:specializationOf <urn:hash::sha1:{SHA1[made]}> ;
    prov:qualifiedGeneration [ a prov:Generation ; prov:activity <urn:uuid:run-{name}> ] .
"""


def _bag(root: str) -> dict[str, str]:
    turtle = (
        "@prefix prov: <http://www.w3.org/ns/prov#> .\n"
        "@prefix wfprov: <http://purl.org/wf4ever/wfprov#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        + _step("rev", "whale", "reversed", 1)
        + _step("sorted", "reversed", "sorted", 2)
    )
    files = {f"{root}/metadata/provenance/primary.cwlprov.ttl": turtle}
    files |= {f"{root}/data/{SHA1[n][:2]}/{SHA1[n]}": text for n, text in TEXTS.items()}
    return files


def test_lineage_of_a_payload_file_goes_through_the_runs(
    settings: Settings, tmp_path: Path, git_repo: Callable[[str], GitRepo]
) -> None:
    repo = git_repo("bag")
    repo.commit(_bag("runs/bag1"), "a cwlprov bag")
    minter = Minter(settings.base_iri)
    store = open_store(settings)
    ingest_repository(store, minter, repo.path, ProjectInfo("g/bag"), workdir=tmp_path / "w")
    store.close()
    reader = open_reader(settings)
    try:
        middle = f"runs/bag1/data/{SHA1['reversed'][:2]}/{SHA1['reversed']}"
        doc = walk(reader, "g/bag", middle)
    finally:
        reader.close()
    names = {n["id"]: n["label"] for n in doc["nodes"]}
    edges = {(names[e["source"]], names[e["target"]]) for e in doc["edges"]}
    rev, sort = "Run of workflow/packed.cwl#main/rev", "Run of workflow/packed.cwl#main/sorted"
    data = {n: f"runs/bag1/data/{SHA1[n][:2]}/{SHA1[n]}" for n in SHA1}
    assert {(a.split("@")[0], b.split("@")[0]) for a, b in edges} == {
        (data["whale"], rev),
        (rev, data["reversed"]),
        (data["reversed"], sort),
        (sort, data["sorted"]),
    }
