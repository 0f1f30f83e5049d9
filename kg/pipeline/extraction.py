"""Extracting a repository's provenance: here, or in a confined child process.

The history walk feeds untrusted files to parsers. The worker runs it in a child process
(`ExtractionProcess`) capped in memory (`KG_JOB_MAX_MEMORY_MB`) and wall-clock time
(`KG_JOB_TIMEOUT_SECONDS`): past either, the child is killed and replaced, and the job fails
for good with that reason — it does not come back after every lease as a poison job, and
no project can pin the worker. The triples go to a file the parent loads into the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from kg.confined import Child, confine, out_of_memory
from kg.errors import CommandFailed, KgError
from kg.extract.context import BlobReader, Context
from kg.extract.tools import tool_extractors
from kg.extract.walk import walk
from kg.iri import Minter

log = logging.getLogger("kg.extract")
_START_SECONDS = 60


class JobLimitExceeded(KgError):
    """A job went past its time, memory or output limit; retrying would do the same."""


@dataclass(frozen=True)
class Extraction:
    """One history walk: which commits of which repository, into which file."""

    repo: Path
    project: str
    base_iri: str
    revisions: tuple[str, ...]
    extractors: str
    out: Path
    max_triples: int


@dataclass(frozen=True)
class Extracted:
    """What a walk wrote."""

    commits: int
    triples: int
    warnings: list[str]


def extract(job: Extraction, on_commit: Callable[[int], None] | None = None) -> Extracted:
    """Walk the history in this process, writing N-Triples to `job.out`."""
    with job.out.open("w", encoding="utf-8", buffering=1 << 20) as out:
        blobs = BlobReader(job.repo)
        ctx = Context(Minter(job.base_iri), job.project, job.repo, out, blobs, max_triples=job.max_triples)
        try:
            walk(ctx, list(job.revisions), tool_extractors(job.extractors), on_commit=on_commit)
        finally:
            ctx.blobs.close()
    return Extracted(ctx.stats.commits, ctx.stats.triples, [str(w) for w in ctx.warnings])


def _serve(conn: Connection, memory_bytes: int, last_words: str) -> None:
    confine(memory_bytes, Path(last_words))
    conn.send(("ready",))  # imports done: a job's time limit counts its own work only
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", extract(job)))
        except CommandFailed as exc:
            conn.send(("command", exc.command, exc.returncode, exc.stderr, exc.recoverable))
        except KgError as exc:
            conn.send(("error", str(exc), exc.recoverable))
        except MemoryError:
            conn.send(("memory",))
        except OSError as exc:
            conn.send(("oserror", exc.errno, exc.strerror))
        except Exception as exc:
            log.exception("extraction crashed")
            conn.send(("crash", type(exc).__name__))


class ExtractionProcess:
    """One confined child that walks histories, started on first use, replaced when killed."""

    def __init__(self, *, memory_bytes: int, timeout: float, scratch: Path) -> None:
        self.memory_bytes = memory_bytes
        self.timeout = timeout
        self.scratch = scratch
        self._child: Child | None = None

    def _start(self) -> Child:
        started = Child.start(_serve, (self.memory_bytes,), name="kg-extract", scratch=self.scratch)
        if not started.conn.poll(_START_SECONDS) or started.conn.recv() != ("ready",):
            started.kill()
            raise JobLimitExceeded(f"the extraction process did not start within {_START_SECONDS} s")
        return started

    def run(self, job: Extraction) -> Extracted:
        """Walk `job` in the child; `JobLimitExceeded` past its time or memory."""
        if self._child is None or not self._child.process.is_alive():
            self._child = self._start()
        child = self._child
        child.conn.send(job)
        if not child.conn.poll(self.timeout):
            self.close()
            raise JobLimitExceeded(f"extraction ran longer than {self.timeout:g} s (KG_JOB_TIMEOUT_SECONDS)")
        try:
            reply = child.conn.recv()
        except (EOFError, OSError):
            exitcode, words = child.ended()
            self.close()
            log.error("extraction process died", extra={"exitcode": exitcode, "said": words[-500:]})
            if out_of_memory(exitcode, words):
                raise self._too_big() from None
            raise JobLimitExceeded(f"extraction crashed (exit {exitcode}) on this repository") from None
        return self._result(reply)

    def _too_big(self) -> JobLimitExceeded:
        mb = self.memory_bytes >> 20
        return JobLimitExceeded(f"extraction needed more than {mb} MB of memory (KG_JOB_MAX_MEMORY_MB)")

    def _result(self, reply: tuple[object, ...]) -> Extracted:
        kind = reply[0]
        if kind == "ok":
            assert isinstance(reply[1], Extracted)
            return reply[1]
        self.close()  # after a failure, a fresh child: nothing of this job lingers
        if kind == "command":
            command, code, stderr, recoverable = reply[1:]
            raise CommandFailed(command, code, stderr, recoverable=bool(recoverable))  # type: ignore[arg-type]
        if kind == "error":
            error = KgError(str(reply[1]))
            error.recoverable = bool(reply[2])
            raise error
        if kind == "memory":
            raise self._too_big()
        if kind == "oserror":
            raise OSError(reply[1], reply[2])
        raise JobLimitExceeded(f"extraction failed ({reply[1]}); the server's log has the details")

    def close(self) -> None:
        """Stop the child (a new one starts on the next job)."""
        if self._child is not None:
            self._child.kill()
            self._child = None
