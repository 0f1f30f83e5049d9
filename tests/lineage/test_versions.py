"""Lineage follows versions: the upstream of a file is the run that made the version that was
read, never a run that rewrote the input later; downstream likewise."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fixtures.gitrepo import GitRepo
from tests.lineage.conftest import Lineage, dvc_lock, edges, files, md5, runs
from tests.test_lineage import datalad

RAW1, RAW2 = "a,b\n1,2\n", "a,b\n1,2\n3,4\n"
PREP1, PREP2 = "b\n2\n", "b\n2\n4\n"
MODEL = "model 1\n"
PIPELINE = (
    "stages:\n"
    "  prepare: {cmd: python prepare.py, deps: [raw/in.csv], outs: [data/prep.csv]}\n"
    "  train: {cmd: python train.py data/prep.csv, deps: [data/prep.csv], outs: [model.bin]}\n"
)


def regenerated_after_use(repo: GitRepo, hashes: bool) -> tuple[str, str, str]:
    """prepare and train run; later prepare runs again on new raw data, train does not.
    Returns the commit of the first raw data and the two commits that ran stages."""

    def h(text: str) -> str | None:  # without hashes of what the stages read
        return md5(text) if hashes else None

    start = repo.commit({"raw/in.csv": RAW1, "prepare.py": "p", "train.py": "t"}, "start")
    first = repo.commit(
        {
            "dvc.yaml": PIPELINE,
            "dvc.lock": dvc_lock(
                {
                    "prepare": (
                        "python prepare.py",
                        [("raw/in.csv", h(RAW1))],
                        [("data/prep.csv", md5(PREP1))],
                    ),
                    "train": (
                        "python train.py data/prep.csv",
                        [("data/prep.csv", h(PREP1))],
                        [("model.bin", md5(MODEL))],
                    ),
                }
            ),
            "data/prep.csv": PREP1,
            "model.bin": MODEL,
        },
        "dvc repro",
    )
    second = repo.commit(
        {
            "raw/in.csv": RAW2,
            "data/prep.csv": PREP2,
            "dvc.lock": dvc_lock(
                {
                    "prepare": (
                        "python prepare.py",
                        [("raw/in.csv", h(RAW2))],
                        [("data/prep.csv", md5(PREP2))],
                    ),
                    "train": (
                        "python train.py data/prep.csv",
                        [("data/prep.csv", h(PREP1))],
                        [("model.bin", md5(MODEL))],
                    ),
                }
            ),
        },
        "new raw data: dvc repro prepare",
    )
    return start, first, second


@pytest.mark.parametrize("hashes", [True, False], ids=["by content", "by commit order"])
def test_a_run_that_rewrote_an_input_later_is_not_upstream(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage], hashes: bool
) -> None:
    repo = git_repo("dvc")
    start, first, second = regenerated_after_use(repo, hashes)
    ask = ingested(repo)

    up = ask("model.bin", direction="upstream")
    assert edges(up) == {
        ("python prepare.py", f"data/prep.csv@{first[:7]}"),
        (f"data/prep.csv@{first[:7]}", "python train.py data/prep.csv"),
        ("python train.py data/prep.csv", f"model.bin@{first[:7]}"),
        # the raw data as read: labelled with the commit that wrote that version
        (f"raw/in.csv@{start[:7]}", "python prepare.py"),
    }
    assert len(runs(up)) == 2
    assert all(second[:7] not in n["label"] for n in up["nodes"])

    # the current data/prep.csv was made by the second run, and nothing read it since
    current = ask("data/prep.csv")
    assert edges(current) == {
        ("python prepare.py", f"data/prep.csv@{second[:7]}"),
        (f"raw/in.csv@{second[:7]}", "python prepare.py"),  # written in that same commit
    }
    assert files(current)["data/prep.csv"]["label"] == f"data/prep.csv@{second[:7]}"

    # downstream of what the first prepare made: train, and what train made
    down = ask("raw/in.csv", direction="downstream")
    assert "model.bin" not in files(down)  # raw/in.csv now is the new data, which train never read
    assert files(down)["raw/in.csv"]["label"] == f"raw/in.csv@{second[:7]}"
    assert {n["label"] for n in runs(down).values()} == {"python prepare.py"}


def test_datalad_runs_read_the_version_before_them(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("datalad")
    repo.commit({"seed": "1"}, "start")
    made = repo.commit({"x.csv": "x1"}, datalad("python gen.py", ["seed"], ["x.csv"]))
    used = repo.commit({"y.csv": "y1"}, datalad("python use.py", ["x.csv"], ["y.csv"]))
    again = repo.commit({"x.csv": "x2"}, datalad("python gen.py --again", ["seed"], ["x.csv"]))
    ask = ingested(repo)
    up = ask("y.csv", direction="upstream")
    assert {n["label"] for n in runs(up).values()} == {"python use.py", "python gen.py"}
    assert f"x.csv@{made[:7]}" in {n["label"] for n in files(up).values()}
    down = ask("x.csv", direction="downstream")  # the newest x.csv: nothing read it yet
    assert runs(down) == {}
    assert files(down)["x.csv"]["label"] == f"x.csv@{again[:7]}"
    both = ask("x.csv")
    assert {n["label"] for n in runs(both).values()} == {"python gen.py --again"}
    assert used[:7] not in str(both)


def test_downstream_of_raw_data_is_what_read_its_current_version(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("raw")
    repo.commit({"raw.csv": RAW1}, "start")
    stages = "stages:\n  a: {cmd: python a.py, deps: [raw.csv], outs: [a.txt]}\n  b: {cmd: python b.py, deps: [raw.csv], outs: [b.txt]}\n"
    repo.commit(
        {
            "dvc.yaml": stages,
            "dvc.lock": dvc_lock(
                {
                    "a": ("python a.py", [("raw.csv", md5(RAW1))], [("a.txt", md5("a1"))]),
                    "b": ("python b.py", [("raw.csv", md5(RAW1))], [("b.txt", md5("b1"))]),
                }
            ),
            "a.txt": "a1",
            "b.txt": "b1",
        },
        "dvc repro",
    )
    second = repo.commit(
        {
            "raw.csv": RAW2,
            "a.txt": "a2",
            "dvc.lock": dvc_lock(
                {
                    "a": ("python a.py", [("raw.csv", md5(RAW2))], [("a.txt", md5("a2"))]),
                    "b": ("python b.py", [("raw.csv", md5(RAW1))], [("b.txt", md5("b1"))]),
                }
            ),
        },
        "new raw data: dvc repro a",
    )
    ask = ingested(repo)
    down = ask("raw.csv", direction="downstream")
    assert {n["label"] for n in runs(down).values()} == {"python a.py"}  # b read the old data
    assert files(down)["a.txt"]["label"] == f"a.txt@{second[:7]}"
    assert "b.txt" not in files(down)
