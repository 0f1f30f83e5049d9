"""What every extractor gets: the repository's objects, a sink for triples, a place for
warnings, a guard around each file it reads, and the check every IRI a document names
passes through.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kg.errors import InvalidInput, KgError
from kg.extract import ExtractStats, ExtractWarning
from kg.extract.blobs import BlobReader, TreeEntry, tree
from kg.iri import Minter, owned
from kg.rdf import valid_iri

__all__ = ["BlobReader", "Context", "TreeEntry", "short_hash", "tree"]

log = logging.getLogger("kg.extract")

MAX_LINE_CHARS = 3 * 1024 * 1024
"""pyoxigraph's N-Triples loader refuses a line over 16 MB, and with it the load of the
project's whole graph; 3M characters stay under that in UTF-8. Literals are cut well below
(`kg.rdf.MAX_LITERAL_CHARS`); this catches IRIs built from a document's long strings."""


class OutputExceeded(KgError):
    """An extraction wrote more triples than one ingest may give; the job stops (retrying
    would do the same)."""


@dataclass
class _Reading:
    """The file being read, and what `note` collected about it."""

    source: str
    commit: str | None
    path: str | None
    notes: dict[str, tuple[int, str]] = field(default_factory=dict)  # reason: (count, first value)


def _shown(value: str) -> str:
    """A document's value, short and escaped, for a warning."""
    return repr(value if len(value) <= 60 else value[:57] + "...")


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
    max_triples: int | None = None
    """Most triples this extraction may write (a 250 KB push can list 5,000,000 files)."""
    _reading: _Reading | None = field(default=None, init=False, repr=False)
    unreadable: set[str] = field(default_factory=set, init=False, repr=False)
    """Objects git could not read, warned about once."""

    def emit(self, lines: list[str]) -> None:
        """Write N-Triples lines; one longer than `MAX_LINE_CHARS` is dropped (noted);
        `OutputExceeded` past `max_triples`."""
        if any(len(line) > MAX_LINE_CHARS for line in lines):
            for line in lines:
                if len(line) > MAX_LINE_CHARS:
                    self.note("triple too long for the store dropped", line)
            lines = [line for line in lines if len(line) <= MAX_LINE_CHARS]
        self.stats.triples += len(lines)
        if self.max_triples is not None and self.stats.triples > self.max_triples:
            raise OutputExceeded(
                f"the project gives more than {self.max_triples} triples (KG_JOB_MAX_TRIPLES)"
            )
        self.out.write("".join(lines))

    def warn(self, source: str, reason: str, commit: str | None = None, path: str | None = None) -> None:
        """Record something that could not be read; the ingest goes on."""
        self.warnings.append(ExtractWarning(source, reason, commit, path))

    def read_change(
        self, source: str, commit: str, blob: str, path: str, mode: str, *, limit: int | None = None
    ) -> bytes | None:
        """The content a commit gave a path; None, with a warning naming the object (once,
        whichever extractors read it), if git cannot read it (a damaged or partial clone).
        Submodules (gitlinks) are no content."""
        if mode == "160000":
            return None
        raw = self.blobs.read(blob, limit=limit)
        if raw is None and blob not in self.unreadable:
            self.unreadable.add(blob)
            self.warn(source, f"git object {blob} is not readable", commit, path)
        return raw

    def iri(self, *parts: str) -> str:
        """An IRI inside the project: `<project>/-/<parts...>`."""
        from kg.rdf import path_segment

        return f"{self.project}/-/" + "/".join(path_segment(p) for p in parts)

    @contextmanager
    def reading(self, source: str, commit: str | None, path: str | None = None) -> Iterator[None]:
        """Guard the reading of one file (or one run record): whatever goes wrong costs a
        warning for that file, and the extractor goes on with the next.

        kg's own refusals (`InvalidInput`: a bound exceeded, a malformed document) keep their
        message; anything else is a bug or an input nobody foresaw: logged with its traceback,
        and warned by its type only, since a library's message may hold server paths.
        What `note` collected meanwhile becomes one warning per reason.
        """
        outer, self._reading = self._reading, _Reading(source, commit, path)
        try:
            yield
        except InvalidInput as exc:
            self.warn(source, str(exc), commit, path)
        except (MemoryError, OutputExceeded):
            raise  # the job's own limits: the whole job stops (see kg.pipeline.extraction)
        except Exception as exc:
            log.exception("extractor failed on a file", extra={"extractor": source, "commit": commit})
            self.warn(source, f"extractor error ({type(exc).__name__})", commit, path)
        finally:
            done, self._reading = self._reading, outer
            for reason, (count, value) in done.notes.items():
                times = f" ({count} times)" if count > 1 else ""
                self.warn(source, f"{reason}: {_shown(value)}{times}", commit, path)

    def note(self, reason: str, value: str) -> None:
        """Something about the file being read, warned once per reason when it is done."""
        if self._reading is None:
            self.warn("extract", f"{reason}: {_shown(value)}")
            return
        count, first = self._reading.notes.get(reason, (0, value))
        self._reading.notes[reason] = (count + 1, first)

    def document_iri(self, value: str) -> str | None:
        """The IRI to write for an IRI a repository document names, or None to drop it.

        Invalid IRIs (that N-Triples or pyoxigraph refuse) are dropped; IRIs under kg's base
        that are not the project's own are moved into the project (`kg.iri.owned`): a
        project's documents may only speak about that project, or outside kg's base.
        Both are noted for the file being read.
        """
        if not valid_iri(value):
            self.note("invalid IRI dropped", value)
            return None
        mine = owned(self.project, self.minter.base, value)
        if mine != value:
            self.note("IRI under kg's base moved into the project", value)
        return mine


def short_hash(*parts: str) -> str:
    """A stable 16-hex key from text (for IRIs of things that have no id of their own)."""
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]
