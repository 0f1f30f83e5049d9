"""Git history as PROV: commits are activities, file versions are entities.

One streaming `git log --raw -z` is parsed for the whole range, because per-commit object
access (GitPython's diffs) is orders of magnitude slower. Each commit's triples depend only
on that commit's own log record (its raw diff names the blobs before and after), so
extracting a range of new commits yields exactly the triples a full extraction would add.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kg import iri as mint
from kg.errors import CommandFailed
from kg.extract import ExtractStats, ExtractWarning
from kg.iri import Minter
from kg.rdf import iri, literal, triple
from kg.vocab import KG, PROV, RDF_TYPE, RDFS, SCHEMA, XSD

# Fields of one commit record, each followed by NUL: names, e-mails and messages cannot
# hold NUL (git refuses it), so the framing is unambiguous.
_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x00"
_HEADER_FIELDS = 9
_SHA = re.compile(rb"^[0-9a-f]{40}([0-9a-f]{24})?$")

_A = iri(RDF_TYPE)
_ACTIVITY = iri(PROV + "Activity")
_ENTITY = iri(PROV + "Entity")
_COMMIT = iri(KG + "Commit")
_FILE_VERSION = iri(KG + "FileVersion")
_PERSON_TYPES = (iri(SCHEMA + "Person"), iri(PROV + "Person"), iri(PROV + "Agent"))
_SHA_P = iri(KG + "sha")
_MESSAGE = iri(KG + "message")
_LABEL = iri(RDFS + "label")
_STARTED = iri(PROV + "startedAtTime")
_ENDED = iri(PROV + "endedAtTime")
_ASSOCIATED = iri(PROV + "wasAssociatedWith")
_AUTHOR = iri(KG + "author")
_COMMITTER = iri(KG + "committer")
_INFORMED_BY = iri(PROV + "wasInformedBy")
_PART_OF = iri(SCHEMA + "isPartOf")
_NAME = iri(SCHEMA + "name")
_EMAIL = iri(SCHEMA + "email")
_LOCATION = iri(PROV + "atLocation")
_BLOB = iri(KG + "blob")
_GENERATED_BY = iri(PROV + "wasGeneratedBy")
_GENERATED_AT = iri(PROV + "generatedAtTime")
_INVALIDATED_BY = iri(PROV + "wasInvalidatedBy")
_INVALIDATED_AT = iri(PROV + "invalidatedAtTime")
_REVISION_OF = iri(PROV + "wasRevisionOf")
_DERIVED_FROM = iri(PROV + "wasDerivedFrom")
_DATETIME = XSD + "dateTime"


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

    @property
    def removes_previous(self) -> bool:
        """A rename moves the old path away; a deletion (also by a merge) removes it."""
        return self.status == "R" or _is_zero(self.after)


def _is_zero(blob: str) -> bool:
    return blob.strip("0") == ""


def log_command(repo: Path, revisions: Sequence[str]) -> list[str]:
    """The one `git log` whose output `parse_log` reads."""
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
        "-M",
        "--diff-merges=combined",
        "--no-color",
        "--no-ext-diff",
        "--encoding=UTF-8",
        f"--format={_FORMAT}",
        *revisions,
        "--",
    ]


def _tokens(stream: IO[bytes], chunk_size: int = 1 << 20) -> Iterator[bytes]:
    rest = b""
    while chunk := stream.read(chunk_size):
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


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
    status = parts[-1].decode()
    kind = status[0] if parents == 1 else "M"
    if kind in ("R", "C"):
        source = next(tokens)
        return Change(kind, next(tokens), tuple(blobs[:-1]), blobs[-1], source)
    return Change(kind, next(tokens), tuple(blobs[:-1]), blobs[-1])


class GitHistory:
    """Writes a project's git history as N-Triples."""

    def __init__(self, minter: Minter, project_iri: str, out: IO[str]) -> None:
        self._minter = minter
        self._project = project_iri
        self._project_term = iri(project_iri)
        self._out = out
        self._people: set[str] = set()
        self.stats = ExtractStats()
        self.warnings: list[ExtractWarning] = []

    def _emit(self, lines: list[str]) -> None:
        self._out.write("".join(lines))
        self.stats.triples += len(lines)

    def _person(self, name: str, email: str, lines: list[str]) -> str:
        person = self._minter.person(name, email)
        term = iri(person)
        key = f"{person}\0{name}\0{email}"
        if key not in self._people:
            self._people.add(key)
            lines.extend(triple(term, _A, t) for t in _PERSON_TYPES)
            lines.append(triple(term, _NAME, literal(name)))
            if email:
                lines.append(triple(term, _EMAIL, literal(email)))
        return term

    def add_commit(self, c: Commit) -> str:
        """Emit a commit's own triples; returns its term for its changes."""
        term = iri(mint.commit(self._project, c.sha))
        lines = [
            triple(term, _A, _ACTIVITY),
            triple(term, _A, _COMMIT),
            triple(term, _PART_OF, self._project_term),
            triple(term, _SHA_P, literal(c.sha)),
            triple(term, _MESSAGE, literal(c.message)),
            triple(term, _LABEL, literal(c.message.split("\n", 1)[0])),
            triple(term, _STARTED, literal(c.authored, _DATETIME)),
            triple(term, _ENDED, literal(c.committed, _DATETIME)),
        ]
        author = self._person(c.author_name, c.author_email, lines)
        committer = self._person(c.committer_name, c.committer_email, lines)
        lines.append(triple(term, _AUTHOR, author))
        lines.append(triple(term, _COMMITTER, committer))
        lines.append(triple(term, _ASSOCIATED, author))
        if committer != author:
            lines.append(triple(term, _ASSOCIATED, committer))
        for parent in c.parents:
            lines.append(triple(term, _INFORMED_BY, iri(mint.commit(self._project, parent))))
        self._emit(lines)
        self.stats.commits += 1
        return term

    def add_change(self, commit: Commit, commit_term: str, ch: Change) -> None:
        """Emit the entities a change generated and invalidated."""
        lines: list[str] = []
        when = literal(commit.committed, _DATETIME)
        old_path = ch.source if ch.source is not None else ch.path
        previous = [
            iri(mint.file_version(self._project, old_path, blob))
            for blob in ch.before
            if not _is_zero(blob)
        ]
        if ch.removes_previous:
            for old in previous:
                lines.append(triple(old, _INVALIDATED_BY, commit_term))
                lines.append(triple(old, _INVALIDATED_AT, when))
        if not _is_zero(ch.after):
            new = iri(mint.file_version(self._project, ch.path, ch.after))
            lines += [
                triple(new, _A, _ENTITY),
                triple(new, _A, _FILE_VERSION),
                triple(new, _LOCATION, literal(_text(ch.path))),
                triple(new, _BLOB, literal(ch.after)),
                triple(new, _GENERATED_BY, commit_term),
                triple(new, _GENERATED_AT, when),
            ]
            link = _DERIVED_FROM if ch.status == "C" else _REVISION_OF
            lines.extend(triple(new, link, old) for old in previous)
        self._emit(lines)


def extract(
    repo: Path,
    revisions: Sequence[str],
    writer: GitHistory,
    *,
    on_commit: Callable[[int], None] | None = None,
) -> None:
    """Stream `git log` over `revisions` in `repo` into `writer`."""
    command = log_command(repo, revisions)
    # stderr goes to a file: a pipe nobody drains could fill up and stall git.
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as proc,
    ):
        assert proc.stdout is not None
        current: Commit | None = None
        current_term = ""
        try:
            for item in parse_log(proc.stdout):
                if isinstance(item, Commit):
                    current, current_term = item, writer.add_commit(item)
                    if on_commit is not None:
                        on_commit(writer.stats.commits)
                elif current is not None:
                    writer.add_change(current, current_term, item)
        except (ValueError, StopIteration) as exc:
            proc.kill()
            raise CommandFailed(command, -1, f"unreadable git log output: {exc}") from exc
        if proc.wait() != 0:
            errors.seek(0)
            raise CommandFailed(command, proc.returncode, errors.read().decode("utf-8", "replace"))
