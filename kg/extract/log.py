"""Reading `git log`: one streaming `git log --raw -z` parsed into commits and their changes."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Fields of one commit record, each followed by NUL: names, e-mails and messages cannot
# hold NUL (git refuses it), so the framing is unambiguous.
_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x00"
_HEADER_FIELDS = 9
_SHA = re.compile(rb"^[0-9a-f]{40}([0-9a-f]{24})?$")


@dataclass(frozen=True)
class Commit:
    """One commit record from the log."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored: str
    committer_name: str
    committer_email: str
    committed: str
    message: str


@dataclass(frozen=True)
class Change:
    """One raw diff line: how a path changed in a commit.

    `before` holds one blob per parent (several for a merge); all-zero blobs mean absent.
    `source` is the original path of a rename or copy.
    """

    status: str
    path: bytes
    before: tuple[str, ...]
    after: str
    source: bytes | None = None
    mode: str = "100644"

    @property
    def text(self) -> str:
        """The path as text (undecodable bytes replaced)."""
        return self.path.decode("utf-8", "replace")

    @property
    def removes_previous(self) -> bool:
        """A rename moves the old path away; a deletion (also by a merge) removes it."""
        return self.status == "R" or is_zero(self.after)


def is_zero(blob: str) -> bool:
    """Whether a blob id is git's all-zero "no object"."""
    return blob.strip("0") == ""


def log_command(repo: Path, revisions: Sequence[str], *, renames: bool = True) -> list[str]:
    """The one `git log` whose output `parse_log` reads (`renames`: detect them, which reads
    blobs; without, a rename is a deletion and an addition)."""
    detect = ["-M", "-l200"] if renames else ["--no-renames"]
    return [
        "git",
        "-C",
        str(repo),
        "-c",
        "core.quotepath=off",
        "log",
        "-z",
        "--raw",
        "--no-abbrev",
        # inexact renames among 200 x 200 files at most (exact ones are always found):
        # one deletion beside a million additions is otherwise a million blob comparisons
        *detect,
        "--diff-merges=combined",
        "--no-color",
        "--no-ext-diff",
        "--encoding=UTF-8",
        f"--format={_FORMAT}",
        *revisions,
        "--",
    ]


MAX_FIELD_BYTES = 4 * 1024 * 1024
"""A field (a commit message, a name, a path) is cut after this many bytes, marked with
`CUT`. git keeps a commit object zlib-compressed: a 200 KB object can hold a 200 MB message.
(A message becomes a literal, cut further by `kg.rdf.literal`; 4 MB leaves room for a
DataLad run record of tens of thousands of inputs.)"""
CUT = b"\n[cut by kg]"


def _tokens(stream: IO[bytes], chunk_size: int = 1 << 20, limit: int = MAX_FIELD_BYTES) -> Iterator[bytes]:
    """The NUL-separated fields of `stream`, each at most `limit` bytes (then `CUT`).

    A field's pieces are kept in a list, not concatenated per chunk, so a long one costs
    linear time.

    >>> import io
    >>> list(_tokens(io.BytesIO(b"ab\\0\\0cdefg\\0h"), chunk_size=2, limit=3))
    [b'ab', b'', b'cde\\n[cut by kg]', b'h']
    """
    pieces: list[bytes] = []
    size = 0
    cut = False
    while chunk := stream.read(chunk_size):
        for i, piece in enumerate(chunk.split(b"\0")):
            if i:  # a NUL ended the field before this piece
                yield b"".join(pieces) + (CUT if cut else b"")
                pieces, size, cut = [], 0, False
            if size + len(piece) > limit:
                piece, cut = piece[: limit - size], True
            pieces.append(piece)
            size += len(piece)
    if size or cut:
        yield b"".join(pieces) + (CUT if cut else b"")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def parse_log(stream: IO[bytes]) -> Iterator[Commit | Change]:
    """Parse `log_command` output into commits, each followed by its changes."""
    tokens = _tokens(stream)
    for token in tokens:
        token = token.lstrip(b"\n")
        if not token:
            continue
        if token.startswith(b":"):
            yield _change(token, tokens)
            continue
        if not _SHA.match(token):
            raise ValueError(f"unexpected token in git log output: {token[:80]!r}")
        fields = [token] + [next(tokens) for _ in range(_HEADER_FIELDS - 1)]
        yield Commit(
            sha=fields[0].decode(),
            parents=tuple(fields[1].decode().split()),
            author_name=_text(fields[2]),
            author_email=_text(fields[3]),
            authored=fields[4].decode(),
            committer_name=_text(fields[5]),
            committer_email=_text(fields[6]),
            committed=fields[7].decode(),
            message=_text(fields[8]).rstrip("\n"),
        )


def _change(token: bytes, tokens: Iterator[bytes]) -> Change:
    parents = len(token) - len(token.lstrip(b":"))
    parts = token[parents:].split()
    # modes (parents + 1), blobs (parents + 1), status
    blobs = [p.decode() for p in parts[parents + 1 : 2 * parents + 2]]
    mode = parts[parents].decode()
    status = parts[-1].decode()
    kind = status[0] if parents == 1 else "M"
    if kind in ("R", "C"):
        source = next(tokens)
        return Change(kind, next(tokens), tuple(blobs[:-1]), blobs[-1], source, mode)
    return Change(kind, next(tokens), tuple(blobs[:-1]), blobs[-1], None, mode)
