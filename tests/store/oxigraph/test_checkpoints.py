"""Checkpoints readers open: however fast projects are published, only a few are kept."""

from __future__ import annotations

from pathlib import Path

from kg.store import ProjectRecord
from kg.store.oxigraph import OxigraphStore, Snapshot
from kg.store.oxigraph.checkpoints import MAX_CHECKPOINTS, snapshots_dir
from kg.store.reading import QueryRequest
from tests.store.helpers import ntriples


def test_publishing_many_projects_quickly_keeps_a_bounded_number_of_checkpoints(
    store: OxigraphStore, tmp_path: Path
) -> None:
    for i in range(MAX_CHECKPOINTS + 8):
        record = ProjectRecord(store.minter.project(f"g/p{i}"), f"g/p{i}", f"p{i}")
        store.replace_project_graph(record, ntriples(tmp_path / f"{i}.nt", f"p{i}", 1))
    kept = [p for p in snapshots_dir(store.path).iterdir() if p.name.isdigit()]
    assert len(kept) <= MAX_CHECKPOINTS
    # readers still read the newest state
    reader = Snapshot(store.path, store.minter, 10**6)
    body = reader.answer(
        QueryRequest("SELECT (COUNT(*) AS ?n) WHERE { ?s <https://kg.test/p> ?o }", "text/csv")
    )
    assert body.body.split()[1] == str(MAX_CHECKPOINTS + 8).encode()
