"""ontology/kg.ttl declares every kg term the service writes."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.config import Settings
from kg.demo import build_demo_repository
from kg.iri import Minter
from kg.pipeline.ingest import ProjectInfo, ingest_repository
from kg.store import open_store
from kg.vocab import KG

ONTOLOGY = Path(__file__).parent.parent / "ontology" / "kg.ttl"


def test_every_kg_term_written_is_declared(settings: Settings, tmp_path: Path) -> None:
    declared = {
        t.subject.value
        for t in ox.parse(path=str(ONTOLOGY))
        if t.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    }
    store = open_store(settings)
    repo = build_demo_repository(tmp_path / "demo")
    ingest_repository(
        store,
        Minter(settings.base_iri),
        repo,
        ProjectInfo("demo/x", gitlab_id=3),
        workdir=tmp_path / "w",
    )
    used = set()
    for quad in store.raw.quads_for_pattern(None, None, None):  # type: ignore[attr-defined]
        for term in (quad.predicate, quad.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(KG):
                used.add(term.value)
    assert used
    assert used - declared == set()
