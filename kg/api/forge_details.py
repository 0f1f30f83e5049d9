"""GitLab's own account of a project (urls, stars, forks, statistics, description, topics,
avatar), for project pages: asked with kg's token or the caller's, remembered a short while.

Bounded: at most `MOST` answers are remembered, each for `SECONDS`; a failure is remembered
as "nothing known" for as long, so a GitLab outage costs one call per project. Without a
token of kg's own, answers are remembered apart for anonymous and authenticated askers (a
private project's details fetched with a member's token are only shown on pages kg already
lets the caller read).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from kg.errors import KgError
from kg.forge import GitLab, ProjectEdits

MOST = 1000
SECONDS = 60.0
CallerToken = tuple[str, bool] | None
_Key = tuple[int | str, bool]


class ForgeDetails:
    """Recently fetched GitLab project details, by project id (or URL-encoded path)."""

    def __init__(self, gitlab_url: str, own_token: str | None) -> None:
        self._url = gitlab_url
        self._token = own_token
        self._known: OrderedDict[_Key, tuple[float, dict[str, Any]]] = OrderedDict()

    def _key(self, project_id: int | str, caller_token: CallerToken) -> _Key:
        return project_id, bool(self._token or caller_token)

    def forget(self, project_id: int | str) -> None:
        """Drop what is remembered (after a change made through kg)."""
        for asked in (False, True):
            self._known.pop((project_id, asked), None)

    def cached(self, project_id: int | str, caller_token: CallerToken) -> dict[str, Any] | None:
        """What is remembered of the project and still fresh, or None."""
        found = self._known.get(self._key(project_id, caller_token))
        if found is not None and time.monotonic() - found[0] < SECONDS:
            return found[1]
        return None

    def of(self, project_id: int | str, caller_token: CallerToken) -> dict[str, Any]:
        """GitLab's details of the project ({} when GitLab does not show it or fails)."""
        found = self.cached(project_id, caller_token)
        if found is not None:
            return found
        if self._token:
            forge = GitLab(self._url, self._token)
        elif caller_token:
            forge = GitLab(self._url, caller_token[0], oauth=caller_token[1])
        else:
            forge = GitLab(self._url, None)
        try:
            details = ProjectEdits(forge).details(project_id)
        except KgError:
            details = {}
        key = self._key(project_id, caller_token)
        self._known[key] = (time.monotonic(), details)
        self._known.move_to_end(key)
        while len(self._known) > MOST:
            self._known.popitem(last=False)
        return details
