"""Extract a test repository into an in-memory store, the way ingest does."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pyoxigraph as ox

from kg.extract import ExtractWarning
from kg.extract.context import BlobReader, Context
from kg.extract.tools import tool_extractors
from kg.extract.walk import walk
from kg.iri import Minter
from tests.fixtures.gitrepo import GitRepo

MINTER = Minter("https://kg.test/")
PROJECT = MINTER.project("group/project")
PREFIXES = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <http://schema.org/>
PREFIX kg: <https://w3id.org/kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def extract(repo: Path, revisions: list[str] | None = None) -> tuple[ox.Store, list[ExtractWarning]]:
    """Run the git layer and every tool extractor over `revisions` (default HEAD)."""
    out = io.StringIO()
    ctx = Context(MINTER, PROJECT, repo, out, BlobReader(repo))
    walk(ctx, revisions or ["HEAD"], tool_extractors())
    ctx.blobs.close()
    store = ox.Store()
    store.load(out.getvalue(), ox.RdfFormat.N_TRIPLES)
    return store, ctx.warnings


def rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    """A SELECT's solutions as dicts of plain values."""
    result = store.query(PREFIXES + query)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in result]


def copy_tree(source: Path, target: Path) -> None:
    """Copy a fixture folder into a work tree (symlinks kept as symlinks)."""
    for item in source.rglob("*"):
        if item.name == "SOURCE.md":
            continue
        dest = target / item.relative_to(source)
        if item.is_symlink():
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(item.readlink())
        elif item.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item, dest)


def replace_tree(repo: GitRepo, source: Path, message: str) -> str:
    """Make the work tree hold exactly `source`'s files, and commit."""
    for item in repo.path.iterdir():
        if item.name == ".git":
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()
    copy_tree(source, repo.path)
    return repo.commit(message=message)
