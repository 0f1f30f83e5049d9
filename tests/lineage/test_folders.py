"""A file inside a folder a run read or wrote is connected to that run, both ways, as DVC's
own DAG joins overlapping paths."""

from __future__ import annotations

from collections.abc import Callable

from tests.fixtures.gitrepo import GitRepo
from tests.lineage.conftest import Lineage, dvc_lock, edges, files, md5, runs

STAGES = (
    "stages:\n"
    "  fetch: {cmd: python fetch.py, outs: [data]}\n"
    "  clean: {cmd: python clean.py data/raw.csv, deps: [data/raw.csv], outs: [clean.csv]}\n"
    "  split: {cmd: python split.py, deps: [clean.csv], outs: [parts/a.csv]}\n"
    "  merge: {cmd: python merge.py parts, deps: [parts], outs: [merged.csv]}\n"
    "  download: {cmd: python download.py, outs: [models]}\n"
)


def folder_pipeline(repo: GitRepo) -> str:
    repo.commit({"fetch.py": "f"}, "start")
    return repo.commit(
        {
            "dvc.yaml": STAGES,
            "dvc.lock": dvc_lock(
                {
                    "fetch": ("python fetch.py", [("fetch.py", md5("f"))], [("data", "0" * 32 + ".dir")]),
                    "clean": (
                        "python clean.py data/raw.csv",
                        [("data/raw.csv", md5("r"))],
                        [("clean.csv", md5("c"))],
                    ),
                    "split": ("python split.py", [("clean.csv", md5("c"))], [("parts/a.csv", md5("a"))]),
                    "merge": (
                        "python merge.py parts",
                        [("parts", "1" * 32 + ".dir")],
                        [("merged.csv", md5("m"))],
                    ),
                }
            ),
            "clean.csv": "c",
            "merged.csv": "m",
        },
        "dvc repro",
    )


def test_a_file_inside_a_folder_output_is_made_by_its_run(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("folders")
    c = folder_pipeline(repo)[:7]
    ask = ingested(repo)
    up = ask("clean.csv", direction="upstream")
    assert edges(up) >= {
        ("python fetch.py", f"data/raw.csv@{c}"),
        (f"data/raw.csv@{c}", "python clean.py data/raw.csv"),
        ("python clean.py data/raw.csv", f"clean.csv@{c}"),
    }
    # downstream of the folder: the run that read a file inside it
    down = ask("data", direction="downstream")
    assert files(down)["data"]["type"] == "Directory"
    assert ("data@" + c, "python clean.py data/raw.csv") in edges(down)
    assert "merged.csv" in files(down)
    # a file inside the folder that no run named is still the folder run's
    assert {n["label"] for n in runs(ask("data/other.csv", direction="upstream")).values()} == {
        "python fetch.py"
    }


def test_a_run_reading_a_folder_is_downstream_of_runs_writing_inside_it(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("folders")
    c = folder_pipeline(repo)[:7]
    ask = ingested(repo)
    up = ask("merged.csv", direction="upstream")
    assert files(up)["parts"]["type"] == "Directory"
    assert ("python split.py", f"parts@{c}") in edges(up)
    assert (f"parts@{c}", "python merge.py parts") in edges(up)
    assert "python fetch.py" in {n["label"] for n in runs(up).values()}  # through clean.csv and data/
    down = ask("parts/a.csv", direction="downstream")
    assert (f"parts/a.csv@{c}", "python merge.py parts") in edges(down)
    assert ("python merge.py parts", f"merged.csv@{c}") in edges(down)
