"""Renku 0.x (schema 8): ciyer/inflation's workflow run and datasets, also after deletion at HEAD."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.extract.helpers import PROJECT, copy_tree, extract, rows
from tests.fixtures.gitrepo import GitRepo

RENKU = "PREFIX renku: <https://swissdatasciencecenter.github.io/renku-ontology#>\n"
RUN = f"{PROJECT}/-/renku/activities/commit/72a0cb255c2f84aecd95c9589c057bb3026d79eb"


@pytest.fixture
def inflation(real: Path, git_repo: Callable[[str], GitRepo]) -> GitRepo:
    repo = git_repo("inflation")
    copy_tree(real / "renku-v0-yaml", repo.path)
    repo.commit(message="renku run python src/python/preprocess_cpi-m.py data/oecd/")
    shutil.rmtree(repo.path / ".renku")
    repo.commit(message="cleaning out the renku")  # metadata gone at HEAD, as in emmjab/flights_analysis
    return repo


def test_the_run_its_plan_and_lineage_shortcuts(inflation: GitRepo) -> None:
    store, warnings = extract(inflation.path)
    assert warnings == []
    runs = rows(
        store,
        "SELECT ?run ?start WHERE { ?run a kg:Run ; kg:tool 'renku' ; prov:startedAtTime ?start }",
    )
    assert runs == [{"run": RUN, "start": "2021-07-05T12:39:37Z"}]  # xsd:dateTime normalized
    used = rows(store, f"SELECT ?path WHERE {{ <{RUN}> prov:used/prov:atLocation ?path }}")
    assert {r["path"] for r in used} == {"src/python/preprocess_cpi-m.py", "data/oecd"}
    made = rows(store, f"SELECT ?path WHERE {{ ?e prov:wasGeneratedBy <{RUN}> ; prov:atLocation ?path }}")
    assert len(made) == 8
    assert "data/preprocess/m1-cpi_m.csv" in {r["path"] for r in made}
    plan = rows(
        store,
        RENKU
        + f"""
        SELECT ?cmd (COUNT(DISTINCT ?i) AS ?ins) (COUNT(DISTINCT ?o) AS ?outs) WHERE {{
          <{RUN}> prov:qualifiedAssociation/prov:hadPlan ?plan .
          ?plan renku:command ?cmd ; renku:hasInputs ?i ; renku:hasOutputs ?o .
        }} GROUP BY ?cmd""",
    )
    assert plan == [{"cmd": "python", "ins": "2", "outs": "8"}]
    members = rows(
        store,
        "SELECT ?m WHERE { ?c prov:atLocation 'data/oecd' ; prov:hadMember/prov:atLocation ?m }",
    )
    assert {r["m"] for r in members} == {
        "data/oecd/M1.csv",
        "data/oecd/CPI.csv",
        "data/oecd/M3.csv",
    }


def test_datasets_people_and_rebased_hosts(inflation: GitRepo) -> None:
    store, _ = extract(inflation.path)
    datasets = rows(
        store,
        "SELECT ?short ?name WHERE { ?d a schema:Dataset ; schema:alternateName ?short ; schema:name ?name }",
    )
    assert {(r["short"], r["name"]) for r in datasets} == {("barro", "Barro"), ("oecd", "OECD")}
    names = rows(store, "SELECT DISTINCT ?n WHERE { ?p schema:email 'cramakri@ethz.ch' ; schema:name ?n }")
    assert {r["n"] for r in names} == {"Chandrasekhar Ramakrishnan", "Chandrasekahr Ramakrishnan"}
    hosts = rows(
        store,
        """SELECT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x FILTER(isIRI(?x)) }
        FILTER(CONTAINS(STR(?x), "localhost") || CONTAINS(STR(?x), "renku.ch/")) }""",
    )
    assert hosts == []
    assert rows(store, f"SELECT ?v WHERE {{ <{PROJECT}> schema:schemaVersion ?v }}") == [{"v": "8"}]


def test_broken_metadata_is_a_warning(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("broken-renku")
    bad = repo.commit(
        {
            ".renku/workflow/x.yaml": "- '@id': [unclosed",
            ".renku/datasets/d/metadata.yml": "'@id': 42\n'@type': 7\n",
        }
    )
    store, warnings = extract(repo.path)
    assert {(w.commit, w.path) for w in warnings} == {
        (bad, ".renku/workflow/x.yaml"),
        (bad, ".renku/datasets/d/metadata.yml"),
    }
    assert rows(store, "SELECT ?c WHERE { ?c a kg:Commit }")


def test_a_cwl_workflow_file_makes_its_commit_the_run(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("renku010")
    repo.commit({"input.txt": "x"}, "data")
    cwl = """cwlVersion: v1.0
class: CommandLineTool
baseCommand: [python, count.py]
inputs:
  input_1:
    type: File
    default: {class: File, path: ../../input.txt}
outputs: {}
"""
    sha = repo.commit(
        {".renku/workflow/abc_python.cwl": cwl, "count.txt": "1"},
        "renku run python count.py input.txt",
    )
    store, warnings = extract(repo.path)
    assert warnings == []
    run = rows(
        store,
        f"""SELECT ?in ?out ?cmd WHERE {{ ?r kg:tool 'renku' ; kg:inCommit/kg:sha '{sha}' ;
        prov:used/prov:atLocation ?in ; prov:qualifiedAssociation/prov:hadPlan/kg:command ?cmd .
        ?o prov:wasGeneratedBy ?r ; prov:atLocation ?out }}""",
    )
    assert run == [{"in": "input.txt", "out": "count.txt", "cmd": "python count.py"}]
