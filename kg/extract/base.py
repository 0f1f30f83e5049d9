"""The interface of tool extractors (Renku, DVC, DataLad, RO-Crate, PROV files)."""

from __future__ import annotations

from typing import Protocol

from kg.extract.context import Context
from kg.extract.log import Change, Commit


class Extractor(Protocol):
    """Turns one tool's metadata into runs, plans and entities.

    The history walk calls `commit` once per commit, newest first, with the changes whose
    paths the extractor `wants`; then `finish` once. Unreadable input is reported with
    `ctx.warn` and skipped: an extractor never stops an ingest.
    """

    name: str

    def wants(self, path: str) -> bool:
        """Whether changes to `path` matter to this extractor."""
        ...

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        """Extract what this commit recorded."""
        ...

    def finish(self, ctx: Context) -> None:
        """Write what needed the whole history (called after the last commit)."""
        ...
