"""DVC as real projects lay it out: stage working directories, merges, reformatted files."""

from __future__ import annotations

from collections.abc import Callable

from tests.extract.helpers import extract, rows
from tests.fixtures.gitrepo import GitRepo

PIPELINE = """\
stages:
  train:
    wdir: ..
    cmd: python src/train.py data/clean.csv models/model.pkl
    deps: [data/clean.csv, src/train.py]
    outs: [models/model.pkl]
  escape:
    wdir: ../..
    cmd: cat x
    deps: [x]
"""
LOCK = """\
schema: '2.0'
stages:
  train:
    cmd: python src/train.py data/clean.csv models/model.pkl
    deps:
    - path: data/clean.csv
      md5: 11111111111111111111111111111111
    - path: src/train.py
      md5: 22222222222222222222222222222222
    outs:
    - path: models/model.pkl
      md5: 33333333333333333333333333333333
  escape:
    cmd: cat x
    deps:
    - path: x
      md5: 44444444444444444444444444444444
"""
NESTED = """\
stages:
  prepare:
    cmd: python prepare.py raw.csv ../data/clean.csv
    deps: [raw.csv]
    outs: [../data/clean.csv, features]
"""
NESTED_LOCK = """\
schema: '2.0'
stages:
  prepare:
    cmd: python prepare.py raw.csv ../data/clean.csv
    deps:
    - path: raw.csv
      md5: 55555555555555555555555555555555
    outs:
    - path: ../data/clean.csv
      md5: 11111111111111111111111111111111
    - path: features
      md5: 66666666666666666666666666666666.dir
      nfiles: 3
"""


def run_paths(store: object) -> dict[str, dict[str, set[str]]]:
    found: dict[str, dict[str, set[str]]] = {}
    for row in rows(
        store,  # type: ignore[arg-type]
        """SELECT ?name ?dir ?path WHERE {
          ?run a kg:Run ; kg:tool "dvc" ; prov:qualifiedAssociation/prov:hadPlan/schema:name ?name .
          { ?run prov:used ?e . BIND("in" AS ?dir) } UNION { ?e prov:wasGeneratedBy ?run . BIND("out" AS ?dir) }
          ?e prov:atLocation ?path .
        }""",
    ):
        found.setdefault(row["name"], {"in": set(), "out": set()})[row["dir"]].add(row["path"])
    return found


def test_lock_paths_are_relative_to_the_stage_wdir(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("dvc-wdir")
    repo.commit(
        {
            "pipelines/dvc.yaml": PIPELINE,
            "pipelines/dvc.lock": LOCK,
            "prep/dvc.yaml": NESTED,
            "prep/dvc.lock": NESTED_LOCK,
        },
        "run the pipelines",
    )
    store, warnings = extract(repo.path)
    found = run_paths(store)
    assert found["train"] == {"in": {"data/clean.csv", "src/train.py"}, "out": {"models/model.pkl"}}
    assert found["prepare"] == {"in": {"prep/raw.csv"}, "out": {"data/clean.csv", "prep/features"}}
    assert "escape" not in found  # its wdir leaves the repository: a warning, nothing else
    assert {w.path for w in warnings} == {"pipelines/dvc.lock", "pipelines/dvc.yaml"}
    assert all("outside the repository" in w.reason and "../.." in w.reason for w in warnings)
    # the plans dvc.yaml declares resolve alike
    plans = rows(store, 'SELECT ?in WHERE { ?plan kg:tool "dvc" ; schema:name "train" ; kg:input ?in }')
    assert {r["in"] for r in plans} == {"data/clean.csv", "src/train.py"}
    # a directory output is a collection
    folders = rows(store, "SELECT ?path WHERE { ?e a prov:Collection ; prov:atLocation ?path }")
    assert {r["path"] for r in folders} == {"prep/features"}
    # the run's command line as run
    lines = rows(store, 'SELECT ?line WHERE { ?run kg:tool "dvc" ; kg:commandLine ?line }')
    assert {r["line"] for r in lines} == {
        "python src/train.py data/clean.csv models/model.pkl",
        "python prepare.py raw.csv ../data/clean.csv",
    }


def _lock(**stages: str) -> str:
    body = "".join(
        f"  {name}:\n    cmd: make {name}\n    outs:\n    - path: {name}.out\n      md5: {md5}\n"
        for name, md5 in stages.items()
    )
    return f"schema: '2.0'\nstages:\n{body}"


def test_a_merge_counts_no_run_a_parent_already_had(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("dvc-merge")
    a0, b0, a1, b1 = (f"{n:032x}" for n in range(4))
    repo.commit({"dvc.yaml": "stages: {}\n", "dvc.lock": _lock(a=a0, b=b0)}, "first runs")
    repo.git("checkout", "-q", "-b", "feature")
    on_branch = repo.commit({"dvc.lock": _lock(a=a0, b=b1)}, "rerun b")
    repo.git("checkout", "-q", "main")
    on_main = repo.commit({"dvc.lock": _lock(a=a1, b=b0)}, "rerun a")
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "feature", "-s", "ours")
    repo.commit({"dvc.lock": _lock(a=a1, b=b1)}, "take both")  # amend the merge's lock below
    repo.git("reset", "-q", "--soft", "HEAD~1")
    repo.git("commit", "-q", "--amend", "--no-edit")
    merge = repo.head()
    assert len(repo.git("log", "-1", "--format=%P").split()) == 2
    store, warnings = extract(repo.path)
    assert warnings == []
    per_commit = rows(
        store,
        'SELECT ?sha (COUNT(?run) AS ?n) WHERE { ?run kg:tool "dvc" ; kg:inCommit/kg:sha ?sha } GROUP BY ?sha',
    )
    counts = {r["sha"]: int(r["n"]) for r in per_commit}
    assert counts.get(merge, 0) == 0
    assert counts[on_branch] == 1 and counts[on_main] == 1
    total = rows(store, 'SELECT (COUNT(DISTINCT ?run) AS ?n) WHERE { ?run a kg:Run ; kg:tool "dvc" }')
    assert total == [{"n": "4"}]


STAGE_FILE = """\
md5: 0123456789abcdef0123456789abcdef
cmd: python train.py
deps:
- path: train.py
  md5: 77777777777777777777777777777777
outs:
- path: model.pkl
  md5: 88888888888888888888888888888888
"""
REFORMATTED = """\
outs: [{md5: 88888888888888888888888888888888, path: model.pkl, cache: true, size: 12}]
deps: [{path: train.py, md5: 77777777777777777777777777777777, size: 40}]
cmd: python train.py
md5: fedcba9876543210fedcba9876543210
"""


def test_a_reformatted_stage_file_is_no_new_run(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("dvc-format")
    first = repo.commit({"train.dvc": STAGE_FILE}, "train")
    repo.commit({"train.dvc": REFORMATTED}, "dvc upgrade rewrote the stage file")
    store, _ = extract(repo.path)
    found = rows(store, 'SELECT ?run ?sha WHERE { ?run kg:tool "dvc" ; a kg:Run ; kg:inCommit/kg:sha ?sha }')
    assert [r["sha"] for r in found] == [first]


SWEEP = """\
stages:
  algo:
    foreach:
      ml1m: {wd: ..}
      ml10m: {wd: ../..}
    do:
      wdir: ${item.wd}
      cmd: python run-algo.py ${key}
      deps:
      - run-algo.py
      outs:
      - runs/${key}.json
  fixed:
    foreach: [a, b]
    do:
      wdir: ..
      cmd: python split.py ${item}
      deps:
      - data-split/${item}
"""
SWEEP_LOCK = """\
schema: '2.0'
stages:
  algo@ml1m:
    cmd: python run-algo.py ml1m
    deps:
    - path: run-algo.py
      md5: 77777777777777777777777777777777
    outs:
    - path: runs/ml1m.json
      md5: 88888888888888888888888888888888
  fixed@a:
    cmd: python split.py a
    deps:
    - path: data-split/a
      md5: 99999999999999999999999999999999.dir
  fixed@c:
    cmd: python split.py c
    deps:
    - path: data-split/c
      md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.dir
"""


def test_a_foreach_stage_takes_its_wdir_from_its_template(git_repo: Callable[[str], GitRepo]) -> None:
    """`foreach` keeps the stage body, `wdir` included, under `do` (as lenskit's pipelines do)."""
    repo = git_repo("dvc-foreach-wdir")
    repo.commit({"lk/sweep/dvc.yaml": SWEEP, "lk/sweep/dvc.lock": SWEEP_LOCK}, "run the sweep")
    store, warnings = extract(repo.path)
    found = run_paths(store)
    assert found["algo@ml1m"] == {"in": {"lk/run-algo.py"}, "out": {"lk/runs/ml1m.json"}}
    assert found["fixed@a"] == {"in": {"lk/data-split/a"}, "out": set()}
    # a lock entry the template no longer names still resolves through the template's wdir
    assert found["fixed@c"] == {"in": {"lk/data-split/c"}, "out": set()}
    assert warnings == []
