"""`kg ingest` handing its job to the running `kg serve`, whose worker holds the store.

The operator's request (a local repository, the project's name and readers) is written to
`<data dir>/handoff/`, where only whoever runs kg can write, and a push for a *negative*
project id is enqueued: GitLab ids are positive and a webhook payload's id must be, so a
hand-off is never something a webhook can ask for, and where kg fetches from stays the
operator's word (see DESIGN.md, trust boundaries). The worker ingests it like `kg ingest`
would, writes progress and the outcome beside the request, and the CLI shows them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class HandoffRequest:
    """What `kg ingest` was asked to do."""

    repo: str
    """A local repository (the CLI fetches a URL into the mirrors first)."""
    slug: str
    visibility: str = "public"
    gitlab_id: int | None = None
    members: list[tuple[str, int]] | None = None
    branch: str | None = None


@dataclass
class HandoffOutcome:
    """What the worker did: the summary line's figures, or why it failed."""

    mode: str = ""
    commits: int = 0
    triples: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str = ""


def job_id(slug: str) -> int:
    """The event-log id of hand-offs for `slug`: negative, stable per project (repeated
    hand-offs of one project coalesce like pushes do).

    >>> job_id("local/demo") == job_id("local/demo") < 0
    True
    """
    return -(int.from_bytes(hashlib.sha256(slug.encode()).digest()[:7], "big") + 1)


def _folder(data_dir: Path) -> Path:
    folder = data_dir / "handoff"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value), encoding="utf-8")
    os.replace(tmp, path)  # readers see a whole file or none


def _read(path: Path) -> dict[str, Any] | None:
    try:
        value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value


def submit(data_dir: Path, request: HandoffRequest) -> int:
    """Record the request (replacing an earlier one for the project); its job id."""
    number = job_id(request.slug)
    folder = _folder(data_dir)
    for stale in (folder / f"{-number}.progress", folder / f"{-number}.outcome"):
        stale.unlink(missing_ok=True)
    _write(folder / f"{-number}.request", asdict(request))
    return number


def request_of(data_dir: Path, number: int) -> HandoffRequest | None:
    """The request behind job `number`, or None if there is none."""
    found = _read(_folder(data_dir) / f"{-number}.request")
    if found is None:
        return None
    members = found.get("members")
    return HandoffRequest(**{**found, "members": [tuple(m) for m in members] if members else None})


def report_total(data_dir: Path, number: int, total: int) -> None:
    """The worker knows how many commits it extracts."""
    _write(_folder(data_dir) / f"{-number}.progress", {"total": total})


def total_of(data_dir: Path, number: int) -> int | None:
    """How many commits the worker extracts, once it knows."""
    found = _read(_folder(data_dir) / f"{-number}.progress")
    return None if found is None else int(found["total"])


def finish(data_dir: Path, number: int, outcome: HandoffOutcome) -> None:
    """The worker is done with job `number`: the request goes, the outcome stays for the CLI."""
    folder = _folder(data_dir)
    _write(folder / f"{-number}.outcome", asdict(outcome))
    (folder / f"{-number}.request").unlink(missing_ok=True)


def outcome_of(data_dir: Path, number: int) -> HandoffOutcome | None:
    """What the worker did with job `number`, once it is done."""
    found = _read(_folder(data_dir) / f"{-number}.outcome")
    return None if found is None else HandoffOutcome(**found)
