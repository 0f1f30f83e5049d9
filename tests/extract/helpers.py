"""Extract a test repository into an in-memory store, the way ingest does."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
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


# Extraction in a child process, so that a crash (pyoxigraph overflowing its stack) or a
# runaway (memory, time) fails the test, not the test run. Peak memory is the child's own
# (and its git processes'), from wait4.
_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from kg.extract.context import BlobReader, Context
from kg.extract.tools import tool_extractors
from kg.extract.walk import walk
from kg.iri import Minter
repo, out = Path(sys.argv[2]), Path(sys.argv[3])
minter = Minter("https://kg.test/")
with (out / "graph.nt").open("w", encoding="utf-8") as nt:
    ctx = Context(minter, minter.project("group/project"), repo, nt, BlobReader(repo))
    walk(ctx, ["HEAD"], tool_extractors())
    ctx.blobs.close()
warnings = [[w.source, w.reason, w.commit, w.path] for w in ctx.warnings]
(out / "warnings.json").write_text(json.dumps(warnings))
"""
ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Measured:
    """How one extraction in a child process ended, what it took and what it gave."""

    returncode: int | None  # None: killed at the time limit
    seconds: float
    peak_mb: float
    warnings: list[ExtractWarning] = field(default_factory=list)
    ntriples: str = ""
    stderr: str = ""

    def store(self) -> ox.Store:
        """The extracted triples, loaded the way ingest bulk-loads them (any bad line fails)."""
        store = ox.Store()
        store.load(self.ntriples, ox.RdfFormat.N_TRIPLES)
        return store


def extract_in_child(
    repo: Path, *, kg_root: Path = ROOT, seconds: float = 60, memory: int = 3 * 1024**3
) -> Measured:
    """Run the git layer and every tool extractor over HEAD in a child process with `memory`
    bytes of address space and `seconds` to finish (`kg_root`: whose `kg` to import)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as errors:
        out = Path(tmp)
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(kg_root), str(repo), tmp],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            preexec_fn=limit,
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > seconds:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        errors.seek(0)
        measured = Measured(
            None if timed_out else proc.returncode,
            elapsed,
            usage.ru_maxrss / 1024,
            stderr=errors.read().decode("utf-8", "replace")[-3000:],
        )
        if measured.returncode == 0:
            raw = json.loads((out / "warnings.json").read_text())
            measured.warnings = [ExtractWarning(*w) for w in raw]
            measured.ntriples = (out / "graph.nt").read_text(encoding="utf-8")
        return measured
