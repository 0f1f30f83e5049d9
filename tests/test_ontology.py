"""ontology/ declares every kg term the service writes, and parses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.vocab import KG, RDF_TYPE
from tests.extract.helpers import copy_tree, extract
from tests.fixtures.gitrepo import GitRepo
from tests.test_lineage import pipeline

ONTOLOGY = Path(__file__).parent.parent / "ontology"


def declared() -> set[str]:
    return {t.subject.value for t in ox.parse(path=str(ONTOLOGY / "kg.ttl")) if t.predicate.value == RDF_TYPE}


def used(store: ox.Store) -> set[str]:
    out = set()
    for quad in store.quads_for_pattern(None, None, None):
        for term in (quad.predicate, quad.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(KG):
                out.add(term.value)
    return out


def test_terms_of_git_dvc_and_datalad_are_declared(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("mix")
    pipeline(repo)
    store, _ = extract(repo.path)
    assert KG + "Run" in used(store)
    assert used(store) - declared() == set()


@pytest.mark.parametrize("case", ["renku-v1-arc", "renku-v0-yaml", "rocrate-run", "cwlprov"])
def test_terms_of_other_tools_are_declared(case: str, real: Path, git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo(case)
    copy_tree(real / case, repo.path)
    repo.commit(message=case)
    store, _ = extract(repo.path)
    assert used(store) - declared() == set()


def test_shapes_and_context_parse() -> None:
    assert len(list(ox.parse(path=str(ONTOLOGY / "shapes.ttl")))) > 50
    context = json.loads((ONTOLOGY / "context.jsonld").read_text())["@context"]
    assert context["kg"] == KG
