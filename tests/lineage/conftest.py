"""Lineage over repositories ingested into a real store, read the way the service reads it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from kg.iri import Minter
from kg.pipeline.ingest import ProjectInfo, ingest_repository
from kg.store import open_reader, open_store
from tests.fixtures.gitrepo import GitRepo
from tests.lineage.helpers import walk

Lineage = Callable[..., dict[str, Any]]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def dvc_lock(
    stages: dict[str, tuple[str, list[tuple[str, str | None]], list[tuple[str, str | None]]]],
) -> str:
    """A `dvc.lock` (schema 2.0): stage -> (cmd, deps, outs), each a (path, md5 or None)."""

    def files(items: list[tuple[str, str | None]]) -> str:
        return "".join(f"    - path: {p}\n" + (f"      md5: {h}\n" if h else "") for p, h in items)

    body = "schema: '2.0'\nstages:\n"
    for name, (cmd, deps, outs) in stages.items():
        body += f"  {name}:\n    cmd: {cmd}\n    deps:\n{files(deps)}    outs:\n{files(outs)}"
    return body


@pytest.fixture
def ingested(settings: Settings, tmp_path: Path) -> Iterator[Callable[[GitRepo], Lineage]]:
    """`ingested(repo)` stores the repository as project g/p and returns `lineage` over it."""
    opened: list[Any] = []

    def ingest(repo: GitRepo) -> Lineage:
        store = open_store(settings)
        ingest_repository(
            store, Minter(settings.base_iri), repo.path, ProjectInfo("g/p"), workdir=tmp_path / "w"
        )
        store.close()
        reader = open_reader(settings)
        opened.append(reader)

        def ask(path: str, **kw: Any) -> dict[str, Any]:
            found: dict[str, Any] = walk(reader, "g/p", path, **kw)
            return found

        return ask

    yield ingest
    for store in opened:
        store.close()


def runs(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Run nodes by id."""
    return {n["id"]: n for n in doc["nodes"] if n["type"] == "ProcessRun"}


def files(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """File and folder nodes by id."""
    return {n["id"]: n for n in doc["nodes"] if n["type"] != "ProcessRun"}


def edges(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """Edges as (source, target): files by their label (`path@commit`), runs by their label."""
    names = {n["id"]: _name(n) for n in doc["nodes"]}
    return {(names[e["source"]], names[e["target"]]) for e in doc["edges"]}


def _name(node: dict[str, Any]) -> str:
    return str(node["label"])
