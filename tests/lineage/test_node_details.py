"""Lineage nodes tell more than renku-graph's fields: a run's commit, time, agent and tool, a
file version's commit (the explorer shows them on hover)."""

from __future__ import annotations

from collections.abc import Callable

from tests.fixtures.gitrepo import BOB, GitRepo
from tests.lineage.conftest import Lineage, dvc_lock, files, md5, runs
from tests.test_lineage import datalad

RAW, CLEAN = "a,b\n1,2\n", "b\n2\n"
PIPELINE = "stages:\n  clean: {cmd: python clean.py, deps: [raw.csv], outs: [clean.csv]}\n"


def test_run_and_file_nodes_carry_commit_time_agent_and_tool(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("details")
    start = repo.commit({"raw.csv": RAW, "clean.py": "c"}, "start")
    lock = dvc_lock({"clean": ("python clean.py", [("raw.csv", md5(RAW))], [("clean.csv", md5(CLEAN))])})
    ran = repo.commit({"dvc.yaml": PIPELINE, "dvc.lock": lock, "clean.csv": CLEAN}, "dvc repro", author=BOB)
    when = repo.git("show", "-s", "--format=%aI", ran)
    doc = ingested(repo)("clean.csv", direction="upstream")
    (run,) = runs(doc).values()
    assert run["label"] == "python clean.py"
    assert (run["commit"], run["time"], run["agent"], run["tool"]) == (ran, when, BOB[0], "dvc")
    by_path = files(doc)
    assert by_path["clean.csv"]["commit"] == ran and by_path["clean.csv"]["label"] == f"clean.csv@{ran[:7]}"
    assert by_path["raw.csv"]["commit"] == start
    # renku-graph's keys are untouched
    assert {"id", "location", "label", "type"} <= set(run) and run["id"] == run["location"]


def test_a_datalad_run_is_told_by_its_record_and_commit(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("datalad-details")
    repo.commit({"in.txt": "x"}, "start")
    ran = repo.commit({"out.txt": "y"}, datalad("cp in.txt out.txt", ["in.txt"], ["out.txt"]), author=BOB)
    (run,) = runs(ingested(repo)("out.txt")).values()
    when = repo.git("show", "-s", "--format=%aI", ran)
    assert (run["commit"], run["time"], run["agent"], run["tool"]) == (ran, when, BOB[0], "datalad")
