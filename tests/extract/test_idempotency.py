"""Deterministic IRIs: extracting twice gives the same graph, and so does extracting commit by commit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.extract.helpers import copy_tree, extract
from tests.extract.test_datalad import rebuild
from tests.fixtures.gitrepo import GitRepo
from tests.test_lineage import pipeline


def triples(store: ox.Store) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None))


def commits(repo: GitRepo) -> list[str]:
    return repo.git("rev-list", "--reverse", "HEAD").split()


def assert_deterministic(repo: GitRepo) -> None:
    full = triples(extract(repo.path)[0])
    assert full == triples(extract(repo.path)[0])  # no blank nodes: equal sets = isomorphic
    pieces: set[ox.Quad] = set()
    previous = None
    for sha in commits(repo):
        pieces |= triples(extract(repo.path, [sha] + ([f"^{previous}"] if previous else []))[0])
        previous = sha
    assert pieces == full


def test_git_dvc_datalad(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("mix")
    pipeline(repo)
    assert_deterministic(repo)


@pytest.mark.parametrize("case", ["renku-v1-arc", "renku-v0-yaml", "rocrate-run", "cwlprov"])
def test_real_fixtures(case: str, real: Path, git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo(case)
    copy_tree(real / case, repo.path)
    repo.commit(message=case)
    repo.commit({"later.txt": "x"}, "a later commit")
    assert_deterministic(repo)


def test_datalad_history(real: Path, git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("datalad")
    rebuild(real, repo)
    assert_deterministic(repo)
