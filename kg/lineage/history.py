"""Where each commit of a project stands in its git history, for ordering runs and versions.

Clocks cannot order commits: many share one second (a whole repository may), and dates may
go backwards across a rebase. So commits are numbered in a topological order of their parent
links, parents before children. Where history does not decide (commits on unrelated
branches, both ready to be numbered), the older committer date goes first, then the smaller
sha: deterministic, and the best a clock can say for commits neither of which saw the other.
Something that carries only a date (a run outside any commit, a commit missing from the
graph) is placed after every commit numbered before the first one dated later.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CommitRow:
    """A commit as read from a project graph: its id, date (epoch seconds) and parents' ids."""

    sha: str
    date: float | None
    parents: tuple[str, ...] = ()


@dataclass
class History:
    """Positions of a project's commits in history: a parent's is always smaller."""

    positions: dict[str, int] = field(default_factory=dict)
    latest: list[float] = field(default_factory=list)
    """The newest date among commits up to each position: never decreasing, for `place`."""

    def position(self, sha: str, date: float | None) -> float:
        """The position of commit `sha`; if unknown, where its `date` places it."""
        found = self.positions.get(sha)
        return float(found) if found is not None else self.place(date)

    def place(self, date: float | None) -> float:
        """Where something known only by its date stands: just after the commits numbered
        before the first commit dated after it (a half position: never equal to a commit's)."""
        if date is None:
            return -0.5
        return bisect.bisect_right(self.latest, date) - 0.5


def order_commits(rows: Iterable[CommitRow]) -> History:
    """Number commits parents first (Kahn's algorithm), ties by date then sha."""
    commits: dict[str, CommitRow] = {}
    for row in rows:
        commits[row.sha] = row
    children: dict[str, list[str]] = defaultdict(list)
    waiting: dict[str, int] = {}
    for row in commits.values():
        known = {p for p in row.parents if p in commits and p != row.sha}  # parents outside: roots
        waiting[row.sha] = len(known)
        for parent in known:
            children[parent].append(row.sha)
    ready = [_key(commits[s]) for s, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:
        _, sha = heapq.heappop(ready)
        ordered.append(sha)
        for child in children.get(sha, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, _key(commits[child]))
    if len(ordered) < len(commits):  # a cycle: impossible in git, so a broken graph; keep all
        done = set(ordered)
        ordered += [s for _, s in sorted(_key(c) for c in commits.values() if c.sha not in done)]
    history = History()
    newest = float("-inf")
    for number, sha in enumerate(ordered):
        history.positions[sha] = number
        date = commits[sha].date
        newest = max(newest, date) if date is not None else newest
        history.latest.append(newest)
    return history


def _key(row: CommitRow) -> tuple[tuple[float, str], str]:
    return ((row.date if row.date is not None else float("-inf"), row.sha), row.sha)
