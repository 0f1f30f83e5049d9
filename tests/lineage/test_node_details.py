"""Lineage nodes tell more than renku-graph's fields: a run's commit, time, agent and tool, a
file version's commit (the explorer shows them on hover)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fixtures.gitrepo import BOB, GitRepo
from tests.fixtures.renku import person, renku_object, when
from tests.lineage.conftest import Lineage, dvc_lock, files, md5, runs
from tests.lineage.test_renku_collections import T, entity
from tests.test_lineage import datalad


def renku_activity(
    uuid: str,
    at: str | None,
    agents: list[dict[str, Any]],
    used: list[dict[str, Any]],
    made: list[dict[str, Any]],
) -> tuple[str, str]:
    """A Renku activity object; `at` None: no start time recorded."""

    def qualified(kind: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "@renku_data_type": f"{T}provenance.activity.{kind}",
                "@renku_data_value": {"id": f"/activities/{uuid}/{kind.lower()}s/{n}", "entity": e},
            }
            for n, e in enumerate(entities)
        ]

    times = {"started_at_time": when(at), "ended_at_time": when(at)} if at else {}
    return renku_object(
        "provenance.activity.Activity",
        id=f"/activities/{uuid}",
        agents=agents,
        usages=qualified("Usage", used),
        generations=qualified("Generation", made),
        **times,
    )


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


def test_without_its_own_time_or_person_a_run_shows_its_commits(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("renku-details")
    repo.commit({"in.csv": "i"}, "start")
    untimed = renku_activity("a1", None, [], [entity("in.csv", "1" * 40)], [entity("mid.csv", "2" * 40)])
    first = repo.commit(dict([untimed]), "renku run one", author=BOB)
    carla = person("mailto:carla@example.org", "Carla Ander", "carla@example.org")
    timed = renku_activity(
        "a2",
        "2024-01-01T11:00:00+00:00",
        [carla],
        [entity("mid.csv", "2" * 40)],
        [entity("out.csv", "3" * 40)],
    )
    second = repo.commit(dict([timed]), "renku run two", author=BOB)
    nodes = {
        i.rsplit("/", 1)[-1]: n for i, n in runs(ingested(repo)("out.csv", direction="upstream")).items()
    }
    assert nodes["a1"]["time"] == repo.git("show", "-s", "--format=%cI", first)  # the commit's time
    assert (nodes["a1"]["agent"], nodes["a1"]["commit"], nodes["a1"]["tool"]) == (BOB[0], first, "renku")
    assert nodes["a2"]["time"].startswith("2024-01-01T11:00:00")  # its own
    assert (nodes["a2"]["agent"], nodes["a2"]["commit"]) == (
        "Carla Ander",
        second,
    )  # who ran it, not who committed
