"""Runs and file versions are ordered by git history, not by clock: repositories made by a
script (DataLad-101) have every commit in one second, and commit ids order nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kg.lineage.history import CommitRow, order_commits
from tests.fixtures.gitrepo import ANN, GitRepo, make_repo
from tests.lineage.conftest import Lineage, dvc_lock, edges, files, md5, runs
from tests.test_lineage import datalad

SECOND = 1_560_874_380  # 2019-06-18 16:13:00 UTC, DataLad-101's one timestamp


class OneSecondRepo(GitRepo):
    """A repository whose every commit has the same author and committer date."""

    def git(self, *args: str, author: tuple[str, str] = ANN) -> str:
        self.clock = SECOND - 60  # the base class advances it by 60 before each command
        return super().git(*args, author=author)


def one_second_repo(path: Path) -> OneSecondRepo:
    return OneSecondRepo(make_repo(path).path)


def commit_where(
    repo: GitRepo, content: dict[str, str | bytes | None], message: str, wanted: Callable[[str], bool]
) -> str:
    """Commit, remaking the commit with another `nonce` file until its id is `wanted`: dates
    are fixed, so the same attempt gives the same id on every run of the test."""
    parent = repo.head()
    for attempt in range(64):
        sha = repo.commit({**content, "nonce": str(attempt)}, message)
        if wanted(sha):
            return sha
        repo.git("reset", "-q", "--hard", parent)
    raise AssertionError("no commit id of the wanted order in 64 attempts")


def test_a_rewritten_output_is_made_by_the_later_run_whatever_the_ids(
    tmp_path: Path, ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = one_second_repo(tmp_path / "dl101")
    repo.commit({"logo.svg": "svg"}, "start")
    big = repo.commit({"logo.jpg": "450x450"}, datalad("convert -resize 450x450", ["logo.svg"], ["logo.jpg"]))
    # the rewrite's id sorts before the first run's: ordering by id would pick the first run
    small = commit_where(
        repo,
        {"logo.jpg": "400x400"},
        datalad("convert -resize 400x400", ["logo.svg"], ["logo.jpg"]),
        lambda sha: sha < big,
    )
    ask = ingested(repo)

    up = ask("logo.jpg", direction="upstream")
    assert {n["label"] for n in runs(up).values()} == {"convert -resize 400x400"}
    assert files(up)["logo.jpg"]["label"] == f"logo.jpg@{small[:7]}"
    assert big[:7] not in str(up)


def test_a_reader_never_takes_a_producer_after_it_in_history(
    tmp_path: Path, ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = one_second_repo(tmp_path / "later")
    raw = repo.commit({"raw.csv": "1", "use.py": "u"}, "start")
    first = repo.commit({"mid.csv": "m1"}, datalad("python make.py", ["raw.csv"], ["mid.csv"]))
    # a DVC stage that recorded no hashes of what it read: only history tells which version
    lock = dvc_lock(
        {"use": ("python use.py", [("mid.csv", None), ("raw.csv", None)], [("out.csv", md5("o"))])}
    )
    use = repo.commit(
        {"dvc.yaml": "stages:\n  use: {cmd: python use.py, deps: [mid.csv, raw.csv], outs: [out.csv]}\n"}
        | {"dvc.lock": lock, "out.csv": "o"},
        "dvc repro use",
    )
    # after the reader in history, with ids sorting after the versions it read: ordering by
    # id within the one second would take these
    commit_where(
        repo,
        {"mid.csv": "m2"},
        datalad("python make.py --again", ["raw.csv"], ["mid.csv"]),
        lambda sha: sha > first,
    )
    commit_where(repo, {"raw.csv": "2"}, "new raw data", lambda sha: sha > raw)
    ask = ingested(repo)

    up = ask("out.csv", direction="upstream")
    assert edges(up) == {
        ("python make.py", f"mid.csv@{first[:7]}"),
        (f"raw.csv@{raw[:7]}", "python make.py"),
        (f"mid.csv@{first[:7]}", "python use.py"),
        (f"raw.csv@{raw[:7]}", "python use.py"),
        ("python use.py", f"out.csv@{use[:7]}"),
    }


def test_parents_come_before_children_whatever_their_dates() -> None:
    history = order_commits(
        [
            CommitRow("c", 10.0, ("b",)),  # dated before its parents (a rebase, a wrong clock)
            CommitRow("b", 30.0, ("a",)),
            CommitRow("a", 20.0, ("outside",)),  # its parent is not in the graph: a root
        ]
    )
    assert history.positions == {"a": 0, "b": 1, "c": 2}


def test_unrelated_commits_go_by_date_then_id() -> None:
    history = order_commits(
        [
            CommitRow("root", 0.0),
            CommitRow("f", 5.0, ("root",)),
            CommitRow("e", 5.0, ("root",)),
            CommitRow("d", 1.0, ("root",)),
            CommitRow("merge", 6.0, ("d", "e", "f")),
        ]
    )
    assert sorted(history.positions, key=history.positions.__getitem__) == ["root", "d", "e", "f", "merge"]


def test_something_known_only_by_date_goes_after_the_commits_dated_before_it() -> None:
    history = order_commits(
        [CommitRow("a", 10.0), CommitRow("b", 20.0, ("a",)), CommitRow("c", 20.0, ("b",))]
    )
    assert history.position("unknown", 15.0) == 0.5
    assert history.position("unknown", 20.0) == 2.5
    assert history.position("unknown", 5.0) == -0.5
    assert history.position("b", 99.0) == 1.0


def test_a_cycle_loses_no_commit() -> None:
    history = order_commits([CommitRow("x", 2.0, ("y",)), CommitRow("y", 1.0, ("x",)), CommitRow("z", 0.0)])
    assert history.positions == {"z": 0, "y": 1, "x": 2}
