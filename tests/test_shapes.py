"""Every extractor's output, on the real fixtures, conforms to ontology/shapes.ttl (pyshacl)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl import validate
from rdflib import Graph

from tests.extract.helpers import copy_tree, extract, replace_tree
from tests.extract.test_datalad import rebuild
from tests.fixtures.gitrepo import GitRepo
from tests.test_lineage import pipeline

ONTOLOGY = Path(__file__).parent.parent / "ontology"


def conforms(repo: GitRepo) -> None:
    store, warnings = extract(repo.path)
    assert warnings == []
    data = Graph().parse(
        data=store.dump(format=ox.RdfFormat.N_QUADS, from_graph=ox.DefaultGraph()).decode(),
        format="nt",
    )
    shapes = Graph().parse(ONTOLOGY / "shapes.ttl")
    ok, _, report = validate(
        data,
        shacl_graph=shapes,
        ont_graph=Graph().parse(ONTOLOGY / "kg.ttl"),
        inference="none",
        allow_warnings=False,
    )
    assert ok, report


def test_git_dvc_datalad_mix(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("mix")
    pipeline(repo)
    conforms(repo)


@pytest.mark.parametrize("case", ["renku-v1-arc", "renku-v0-yaml", "rocrate-run", "cwlprov"])
def test_real_fixture(case: str, real: Path, git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo(case)
    copy_tree(real / case, repo.path)
    repo.commit(message=case)
    conforms(repo)


def test_dvc_eras(real: Path, git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("dvc")
    for era in sorted(p.name for p in (real / "dvc-lock-versions").iterdir() if p.is_dir()):
        replace_tree(repo, real / "dvc-lock-versions" / era, era)
    conforms(repo)


def test_datalad_records(real: Path, git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("datalad")
    rebuild(real, repo)
    conforms(repo)
