"""What every extractor gets: the repository's objects, a sink for triples, a place for warnings."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import yaml

from kg.extract import ExtractStats, ExtractWarning
from kg.iri import Minter

# libyaml's loader where PyYAML has it: ten times faster on lock files than pure Python.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(raw: bytes) -> Any:
    """Parse YAML safely; raises UnicodeDecodeError or yaml.YAMLError on bad input."""
    return yaml.load(raw.decode("utf-8"), Loader=_YAML_LOADER)


class BlobReader:
    """Reads objects from a repository through one long-running `git cat-file --batch-command`.

    `read("<commit>:<path>")` and `read("<blob id>")` both work; missing objects give None.
    """

    def __init__(self, repo: Path, *, max_size: int = 256 * 1024 * 1024) -> None:
        self.repo = repo
        self.max_size = max_size
        self._process: subprocess.Popen[bytes] | None = None

    def _proc(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            self._process = subprocess.Popen(
                ["git", "-C", str(self.repo), "cat-file", "--batch-command"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._process

    def _ask(self, command: bytes, spec: str) -> list[bytes] | None:
        """Send one batch command; the header's fields, or None for "missing"/"ambiguous"."""
        if "\n" in spec:
            return None
        proc = self._proc()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(command + b" " + spec.encode("utf-8", "surrogateescape") + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        return header if len(header) == 3 else None

    def read(self, spec: str) -> bytes | None:
        """The content of a blob, or None if there is no such blob (or it is too large)."""
        header = self._ask(b"contents", spec)
        if header is None:
            return None
        _, kind, size_text = header
        size = int(size_text)
        assert self._process is not None and self._process.stdout is not None
        data = self._process.stdout.read(size + 1)[:-1]
        if kind != b"blob" or size > self.max_size:
            return None
        return data

    def info(self, spec: str) -> tuple[str, str, int] | None:
        """(object id, type, size) of `spec` (type "blob", "tree", "commit"), or None if missing."""
        header = self._ask(b"info", spec)
        return None if header is None else (header[0].decode(), header[1].decode(), int(header[2]))

    def close(self) -> None:
        """Stop the git process."""
        if self._process is not None:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.close()
            self._process.wait()
            self._process.stdout.close()
            self._process = None


@dataclass(frozen=True)
class TreeEntry:
    """One file of a commit's tree."""

    mode: str
    blob: str
    size: int | None = None


@lru_cache(maxsize=8)
def tree(repo: Path, commit: str) -> dict[str, TreeEntry]:
    """Every file of a commit's tree by path (for resolving globs); empty if unknown."""
    done = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "-z", "--full-tree", commit],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return {}
    out = {}
    for record in done.stdout.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        if path:
            mode, _, blob = meta.decode().split(" ")
            out[path.decode("utf-8", "replace")] = TreeEntry(mode, blob)
    return out


@dataclass
class Context:
    """The state one extraction run shares between extractors."""

    minter: Minter
    project: str
    repo: Path
    out: IO[str]
    blobs: BlobReader
    stats: ExtractStats = field(default_factory=ExtractStats)
    warnings: list[ExtractWarning] = field(default_factory=list)

    def emit(self, lines: list[str]) -> None:
        """Write N-Triples lines."""
        self.out.write("".join(lines))
        self.stats.triples += len(lines)

    def warn(self, source: str, reason: str, commit: str | None = None, path: str | None = None) -> None:
        """Record something that could not be read; the ingest goes on."""
        self.warnings.append(ExtractWarning(source, reason, commit, path))

    def iri(self, *parts: str) -> str:
        """An IRI inside the project: `<project>/-/<parts...>`."""
        from kg.rdf import path_segment

        return f"{self.project}/-/" + "/".join(path_segment(p) for p in parts)


def short_hash(*parts: str) -> str:
    """A stable 16-hex key from text (for IRIs of things that have no id of their own)."""
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]
