"""RO-Crate: the Process, Workflow and Provenance Run Crate examples of workflow-run-crate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.extract.helpers import copy_tree, extract, rows
from tests.fixtures.gitrepo import GitRepo

DOCS = "docs/profiles/0.5"


@pytest.fixture
def crates(real: Path, git_repo: Callable[[str], GitRepo]) -> GitRepo:
    repo = git_repo("crates")
    copy_tree(real / "rocrate-run", repo.path)
    # the payload of example 1 is in the repository too, with a space in its name
    (repo.path / DOCS / "process_run_crate/example1/pics").mkdir(parents=True)
    (repo.path / DOCS / "process_run_crate/example1/pics/2017-06-11 12.56.14.jpg").write_bytes(b"jpeg")
    repo.commit(message="crates")
    return repo


def test_actions_become_runs(crates: GitRepo) -> None:
    store, warnings = extract(crates.path)
    assert warnings == []
    found = rows(store, "SELECT ?run ?label WHERE { ?run kg:tool 'rocrate' ; a kg:Run ; rdfs:label ?label }")
    assert len(found) == 6  # 5 CreateActions + 1 OrganizeAction
    pairs = rows(
        store,
        """
        SELECT ?label ?in ?out WHERE {
          ?run kg:tool 'rocrate' ; rdfs:label ?label ; prov:used/prov:atLocation ?in .
          ?o prov:wasGeneratedBy ?run ; prov:atLocation ?out .
        }""",
    )
    got = {(r["in"].rsplit("/", 1)[-1], r["out"].rsplit("/", 1)[-1]) for r in pairs}
    assert ("2017-06-11 12.56.14.jpg", "sepia_fence.jpg") in got
    assert ("abcdef.txt", "Select_first_on_data_1_2.txt") in got
    assert (
        "327fc7aedf4f6b69a42a7c8b808dc5a7aff61376",
        "97fe1b50b4582cebc7d853796ebd62e3e163aa3f",
    ) in got
    assert (
        "97fe1b50b4582cebc7d853796ebd62e3e163aa3f",
        "b9214658cc453331b62c2282b772a5c063dbd284",
    ) in got


def test_instruments_agents_parameters_and_orchestration(crates: GitRepo) -> None:
    store, _ = extract(crates.path)
    sepia = rows(
        store,
        """
        SELECT ?plan ?who ?end ?start WHERE {
          ?run rdfs:label "Convert dog image to sepia" ; prov:startedAtTime ?start ; prov:endedAtTime ?end ;
               prov:qualifiedAssociation/prov:hadPlan ?plan ; prov:wasAssociatedWith ?who .
        }""",
    )
    assert sepia == [
        {
            "plan": "https://www.imagemagick.org/",
            "who": "https://orcid.org/0000-0001-9842-9718",
            "end": "2024-05-17T01:04:52+01:00",
            "start": "2024-05-17T01:04:52+01:00",
        }
    ]
    params = rows(
        store,
        "SELECT ?k ?v WHERE { ?run kg:tool 'rocrate' ; kg:parameter [ schema:name ?k ; schema:value ?v ] }",
    )
    assert {(r["k"], r["v"]) for r in params} == {
        ("verbose", "True"),
        ("main/reverse_sort", "True"),
        ("main/sorted/reverse", "True"),
    }
    steps = rows(
        store,
        """
        SELECT ?step WHERE { ?s prov:wasInformedBy ?engine ; rdfs:label ?step . ?engine rdfs:label ?e .
                             FILTER(STRSTARTS(?e, "Run of cwltool")) }""",
    )
    assert {r["step"] for r in steps} == {
        "Run of workflow/packed.cwl#main",
        "Run of workflow/packed.cwl#main/rev",
        "Run of workflow/packed.cwl#main/sorted",
    }
    # the input picture is in git: the crate's entity is that git file version
    linked = rows(
        store,
        "SELECT ?g WHERE { ?e prov:atLocation ?p ; prov:alternateOf ?g . FILTER(CONTAINS(?p, '12.56.14')) }",
    )
    assert len(linked) == 1


def test_non_computational_actions_and_broken_crates(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("elab")
    elab = '{"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": [{"@id": "./", "@type": "Dataset"}, {"@id": "#c", "@type": "CreateAction", "name": "RO-Crate created", "object": {"@id": "./"}}]}'
    repo.commit(
        {
            "export/ro-crate-metadata.json": elab,
            "bad/ro-crate-metadata.json": "{truncated",
            "odd/ro-crate-metadata.json": "[1, 2]",
        },
        "crates",
    )
    store, warnings = extract(repo.path)
    assert sorted((w.path, w.reason.split(":")[0]) for w in warnings) == [
        ("bad/ro-crate-metadata.json", "not JSON"),
        ("odd/ro-crate-metadata.json", "no @graph list"),
    ]
    assert rows(store, "SELECT ?r WHERE { ?r kg:tool 'rocrate' }") == []
