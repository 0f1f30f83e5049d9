"""One pass over the history: the git layer for every commit, tool extractors where they apply."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace

from kg.errors import CommandFailed
from kg.extract.base import Extractor
from kg.extract.context import Context
from kg.extract.git import GitHistory
from kg.extract.log import Change, Commit, log_command, parse_log

MAX_CHANGES_PER_COMMIT = 100_000
"""File changes recorded for one commit. Trees can share subtrees, so a push of a few KB can
hold a commit of 5,000,000 paths (30M triples, gigabytes on disk, ten minutes of the
worker); a real commit of a source or data repository touches far fewer."""
_TOO_WIDE = f"commit changes more than {MAX_CHANGES_PER_COMMIT} files: the rest are not recorded"


def _dispatch(ctx: Context, tools: Sequence[Extractor], commit: Commit, changes: list[Change]) -> None:
    texts = [(ch, ch.text) for ch in changes]  # decoded once, not once per tool
    for tool in tools:
        wanted = [ch for ch, text in texts if tool.wants(text)]
        # The last resort: extractors guard each file they read themselves.
        with ctx.reading(tool.name, commit.sha):
            tool.commit(ctx, commit, wanted)


_UNREADABLE = re.compile(r"unable to read ([0-9a-f]{40,64})")


def walk(
    ctx: Context,
    revisions: Sequence[str],
    tools: Sequence[Extractor],
    *,
    on_commit: Callable[[int], None] | None = None,
) -> None:
    """Stream `git log` over `revisions` into the git layer and the tool extractors.

    git reads blobs only to find renames: if one is missing (a damaged or partial clone),
    the walk starts over without rename detection, with a warning naming the object.
    """
    start = ctx.out.tell() if ctx.out.seekable() else None
    stats, warnings = replace(ctx.stats), list(ctx.warnings)
    try:
        _walk(ctx, revisions, tools, on_commit, renames=True)
    except CommandFailed as exc:
        missing = _UNREADABLE.search(str(exc))
        if missing is None or start is None:
            raise
        ctx.out.seek(start)
        ctx.out.truncate()
        ctx.stats, ctx.warnings = stats, warnings
        ctx.unreadable.clear()
        lost = missing.group(1)
        ctx.warn("git", f"git object {lost} is not readable: renames are recorded as deletions and additions")
        _walk(ctx, revisions, tools, on_commit, renames=False)
    for tool in tools:
        with ctx.reading(tool.name, None):
            tool.finish(ctx)


def _walk(
    ctx: Context,
    revisions: Sequence[str],
    tools: Sequence[Extractor],
    on_commit: Callable[[int], None] | None,
    *,
    renames: bool,
) -> None:
    history = GitHistory(ctx)
    command = log_command(ctx.repo, revisions, renames=renames)
    # stderr goes to a file: a pipe nobody drains could fill up and stall git.
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as proc,
    ):
        assert proc.stdout is not None
        current: Commit | None = None
        term = ""
        changes: list[Change] = []
        seen = 0
        try:
            for item in parse_log(proc.stdout):
                if isinstance(item, Commit):
                    if current is not None:
                        _dispatch(ctx, tools, current, changes)
                    current, term, changes, seen = item, history.add_commit(item), [], 0
                    if on_commit is not None:
                        on_commit(ctx.stats.commits)
                elif current is not None:
                    seen += 1
                    if seen <= MAX_CHANGES_PER_COMMIT:
                        history.add_change(current, term, item)
                        changes.append(item)
                    elif seen == MAX_CHANGES_PER_COMMIT + 1:
                        ctx.warn("git", _TOO_WIDE, current.sha)
            if current is not None:
                _dispatch(ctx, tools, current, changes)
        except (ValueError, StopIteration) as exc:
            proc.kill()
            raise CommandFailed(command, -1, f"unreadable git log output: {exc}") from exc
        if proc.wait() != 0:
            errors.seek(0)
            raise CommandFailed(command, proc.returncode, errors.read().decode("utf-8", "replace"))
