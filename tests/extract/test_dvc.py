"""DVC: every lock era of iterative/example-get-started, as one history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kg.rdf import CUT_MARK, MAX_LITERAL_CHARS
from tests.extract.helpers import extract, replace_tree, rows
from tests.fixtures.gitrepo import GitRepo

ERAS = [
    "dvc0-stage-files",
    "dvc1-lock-noschema",
    "dvc1-lock-noschema-size",
    "dvc2-schema2-nohash",
    "dvc3-schema2-hash-md5",
]
STAGES = {"prepare", "featurize", "train", "evaluate"}


@pytest.fixture
def history(real: Path, git_repo: Callable[[str], GitRepo]) -> tuple[GitRepo, dict[str, str]]:
    repo = git_repo("dvc")
    commits = {era: replace_tree(repo, real / "dvc-lock-versions" / era, era) for era in ERAS}
    return repo, commits


def runs(store: object, commit: str) -> list[dict[str, str]]:
    return rows(
        store,
        f"""  # type: ignore[arg-type]
        SELECT ?run ?name ?cmd WHERE {{
          ?run a kg:Run ; kg:tool "dvc" ; kg:inCommit ?c ;
               prov:qualifiedAssociation/prov:hadPlan ?plan .
          ?c kg:sha "{commit}" .
          ?plan schema:name ?name ; kg:command ?cmd .
        }}""",
    )


def test_four_stage_runs_in_every_era(history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, commits = history
    store, warnings = extract(repo.path)
    assert warnings == []
    for era, sha in commits.items():
        found = runs(store, sha)
        # that era's lock only adds sizes to `prepare`: the same run, not a new one
        expected = STAGES - {"prepare"} if era == "dvc1-lock-noschema-size" else STAGES
        assert {r["name"] for r in found} == expected, era
        assert len(found) == len(expected), era


def test_stage_outputs_link_up_by_md5(history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, commits = history
    store, _ = extract(repo.path)
    for era, prepared in (
        ("dvc2-schema2-nohash", "20b786b6e6f80e2b3fcf17827ad18597.dir"),
        ("dvc3-schema2-hash-md5", "153aad06d376b6595932470e459ef42a.dir"),
    ):
        pairs = rows(
            store,
            f"""
            SELECT ?producer ?consumer WHERE {{
              ?e prov:atLocation "data/prepared" ; kg:md5 "{prepared}" ; prov:wasGeneratedBy ?p .
              ?p kg:inCommit/kg:sha "{commits[era]}" ; prov:qualifiedAssociation/prov:hadPlan/schema:name ?producer .
              ?c prov:used ?e ; prov:qualifiedAssociation/prov:hadPlan/schema:name ?consumer .
            }}""",
        )
        assert {(r["producer"], r["consumer"]) for r in pairs} == {("prepare", "featurize")}, era


def test_params_and_git_links(history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, commits = history
    store, _ = extract(repo.path)
    params = rows(
        store,
        f"""
        SELECT ?k ?v WHERE {{
          ?run kg:inCommit/kg:sha "{commits["dvc3-schema2-hash-md5"]}" ;
               prov:qualifiedAssociation/prov:hadPlan/schema:name "train" ;
               kg:parameter [ schema:name ?k ; schema:value ?v ] .
        }}""",
    )
    assert {(r["k"], r["v"]) for r in params} == {
        ("train.min_split", "0.01"),
        ("train.n_est", "50"),
        ("train.seed", "20170428"),
    }
    # scores.json is tracked by git in dvc1: the DVC output is the same content as the git file
    linked = rows(
        store,
        """
        SELECT ?md5 ?blob WHERE {
          ?e prov:atLocation "scores.json" ; kg:md5 ?md5 ; prov:alternateOf ?g .
          ?g kg:blob ?blob .
        }""",
    )
    assert "0d2602f440d13372435d91d3bfa17652" in {r["md5"] for r in linked}


def test_tracked_files_imports_and_artifacts(history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, _ = history
    store, _ = extract(repo.path)
    data = rows(
        store,
        """
        SELECT ?md5 ?source WHERE {
          ?e a schema:Dataset ; prov:atLocation "data/data.xml" ; kg:md5 ?md5 .
          OPTIONAL { ?e kg:importedFrom ?source }
        }""",
    )
    md5s = {r["md5"] for r in data}
    assert md5s == {"a304afb96060aad90176268345e10355", "22a1a2931c8370d3aeedd7183606fd7f"}
    sources = {r.get("source", "") for r in data}
    assert any("f59388cd04276e75d70b2136597aaa27e7937cc3" in s for s in sources)
    artifacts = rows(
        store,
        "SELECT ?name ?type ?path WHERE { ?a a ?type ; schema:name ?name ; prov:atLocation ?path . FILTER(?type IN (schema:Dataset, kg:Model)) FILTER(CONTAINS(STR(?a), '/artifacts/')) }",
    )
    assert {(r["name"], r["path"]) for r in artifacts} == {
        ("stackoverflow-dataset", "data/data.xml"),
        ("text-classification", "model.pkl"),
    }


def test_foreach_and_matrix_stages_become_plans(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("templated")
    repo.commit(
        {
            "dvc.yaml": """
stages:
  build:
    foreach: [us, uk]
    do:
      cmd: python build.py ${item}
      outs:
      - out/${item}.csv
  train:
    matrix:
      model: [cnn, xgb]
      seed: [1, 2]
    cmd: python train.py
"""
        },
        "pipeline",
    )
    store, warnings = extract(repo.path)
    assert warnings == []
    plans = rows(store, "SELECT ?name ?cmd WHERE { ?p a prov:Plan ; schema:name ?name ; kg:command ?cmd }")
    names = {r["name"]: r["cmd"] for r in plans}
    assert names["build@us"] == "python build.py us"
    assert {"train@cnn-1", "train@cnn-2", "train@xgb-1", "train@xgb-2"} <= set(names)
    outputs = rows(store, "SELECT ?o WHERE { ?p schema:name 'build@uk' ; kg:output ?o }")
    assert [r["o"] for r in outputs] == ["out/uk.csv"]


def test_broken_lock_files_warn_and_the_rest_is_ingested(
    git_repo: Callable[[str], GitRepo],
) -> None:
    repo = git_repo("broken")
    good = repo.commit(
        {"dvc.lock": "schema: '2.0'\nstages:\n  a:\n    cmd: x\n    outs:\n    - path: o\n      md5: 0123\n"}
    )
    bad = repo.commit(
        {"dvc.lock": "schema: '2.0'\nstages:\n  a: [unclosed", "sub/dvc.lock": "- just\n- a list\n"}
    )
    repo.commit({"README": "still here"}, "after")
    store, warnings = extract(repo.path)
    reasons = {(w.commit, w.path): w.reason for w in warnings}
    assert "not YAML" in reasons[(bad, "dvc.lock")]
    assert "not a YAML mapping" in reasons[(bad, "sub/dvc.lock")]
    assert len(runs(store, good)) == 1
    assert rows(store, "SELECT ?c WHERE { ?c kg:message 'after' }")


def test_templates_that_expand_too_far_are_skipped_alone(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("templates")
    items = ", ".join(str(i) for i in range(1001))
    big = "x" * 1_000_000
    pipeline = (
        "stages:\n"
        f"  many:\n    foreach: [{items}]\n    do:\n      cmd: echo ${{item}}\n"
        f"  long:\n    foreach: [&big {big}, {', '.join(['*big'] * 9)}]\n"
        "    do:\n      cmd: echo" + " ${item}" * 10 + "\n"
        "  ok:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n"
    )
    sha = repo.commit({"dvc.yaml": pipeline}, "templates")
    store, warnings = extract(repo.path)
    assert sorted((w.commit, w.path, w.reason) for w in warnings) == [
        (sha, "dvc.yaml", "stage 'long' skipped: substitutions write more than 67108864 characters"),
        (sha, "dvc.yaml", "stage 'many' skipped: expands to 1001 stages, more than 1000"),
    ]
    plans = rows(store, "SELECT ?name WHERE { ?p a prov:Plan ; kg:tool 'dvc' ; schema:name ?name }")
    assert sorted(r["name"] for r in plans) == ["ok@a", "ok@b"]


def test_a_value_too_long_for_the_store_is_cut_not_fatal(git_repo: Callable[[str], GitRepo]) -> None:
    """pyoxigraph's N-Triples loader refuses lines over 16 MB: one would fail the project."""
    repo = git_repo("long")
    long_cmd = "echo " + "x" * (17 * 1024 * 1024)
    repo.commit({"dvc.lock": f"schema: '2.0'\nstages:\n  a:\n    cmd: {long_cmd}\n"})
    store, warnings = extract(repo.path)  # loads the output as ingest does
    assert warnings == []
    (found,) = rows(store, "SELECT ?cmd WHERE { ?p a prov:Plan ; kg:command ?cmd }")
    assert found["cmd"] == long_cmd[:MAX_LITERAL_CHARS] + CUT_MARK
