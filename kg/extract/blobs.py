"""Reading a repository's objects: blobs by id or by `<commit>:<path>`, and commit trees.

Paths named by repository content pass through `repo_path` first: a path outside the
repository would make `git cat-file` exit, and with it every read after it.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kg.bounded import Exceeded

log = logging.getLogger("kg.extract")

METADATA_BYTES = 64 * 1024 * 1024
"""The most a metadata file (lock file, run record, crate, PROV document, Renku object) may
hold; larger ones are refused before they are read."""

MAX_PATH_BYTES = 4096  # PATH_MAX on Linux: no checkout could hold a longer path


def repo_path(value: str, base: str = "") -> str | None:
    """`value` (relative to `base`) as a path inside the repository, or None if it is none:
    posix-normalised, relative, never above the root, no NUL or line break, bounded length.

    >>> repo_path("sub/../a.csv", "data")
    'data/a.csv'
    >>> [repo_path(p) for p in ("../../etc/hostname", "/etc/hostname", "a\\nb", "x/../..")]
    [None, None, None, None]
    >>> repo_path(".")
    '.'
    """
    if "\0" in value or "\n" in value or "\r" in value:
        return None
    joined = posixpath.join(base, value) if base else value
    if joined.startswith("/") or len(joined.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        return None
    path = posixpath.normpath(joined)
    if path == ".." or path.startswith("../"):
        return None
    return path


_OBJECT_ID = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")


class BlobReader:
    """Reads objects from a repository through one long-running `git cat-file --batch-command`.

    `read("<commit>:<path>")` and `read("<blob id>")` both work; missing objects give None.
    Sizes are asked before contents, so no more than the cap is ever read. If git exits
    anyway, it is started again and that read counts as missing.
    """

    def __init__(self, repo: Path, *, max_size: int = METADATA_BYTES) -> None:
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

    def _lost(self, spec: str) -> None:
        log.warning("git cat-file exited; restarting", extra={"spec": spec[:200]})
        self.close()

    def _ask(self, command: bytes, spec: str) -> list[bytes] | None:
        """Send one batch command; the header's fields, or None for "missing"/"ambiguous"."""
        _, colon, path = spec.partition(":")
        if "\n" in spec or "\0" in spec or (colon and path and repo_path(path) != path):
            return None  # git would read a line break as two commands, `..` as a fatal error
        proc = self._proc()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(command + b" " + spec.encode("utf-8", "surrogateescape") + b"\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except OSError:  # a broken pipe: git is gone
            line = b""
        if not line:
            self._lost(spec)
            return None
        # "<id> <type> <size>"; anything else is "<spec> missing" (a spec may hold spaces)
        header = line.split()
        if len(header) != 3 or not header[2].isdigit() or not _OBJECT_ID.fullmatch(header[0]):
            return None
        return header

    def read(self, spec: str, *, limit: int | None = None) -> bytes | None:
        """The content of a blob, or None if there is no such blob.

        Raises `Exceeded` if the blob is larger than `limit` (default: `max_size`).
        """
        cap = self.max_size if limit is None else limit
        found = self.info(spec)
        if found is None or found[1] != "blob":
            return None
        if found[2] > cap:
            raise Exceeded(f"larger than {cap} bytes")
        header = self._ask(b"contents", found[0])
        if header is None:
            return None
        size = int(header[2])
        assert self._process is not None and self._process.stdout is not None
        data = self._process.stdout.read(size + 1)
        if len(data) != size + 1:  # git exited mid-object
            self._lost(spec)
            return None
        return data[:-1]

    def info(self, spec: str) -> tuple[str, str, int] | None:
        """(object id, type, size) of `spec` (type "blob", "tree", "commit"), or None if missing."""
        header = self._ask(b"info", spec)
        return None if header is None else (header[0].decode(), header[1].decode(), int(header[2]))

    def close(self) -> None:
        """Stop the git process."""
        if self._process is not None:
            process, self._process = self._process, None
            assert process.stdin is not None and process.stdout is not None
            with contextlib.suppress(OSError):  # git exited first: nothing to flush to
                process.stdin.close()
            process.wait()
            process.stdout.close()


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
