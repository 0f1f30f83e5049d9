"""GitLab's own account of a project (urls, stars, forks, statistics, description, topics,
avatar), for project pages: asked with kg's token or the caller's, remembered a short while.

Bounded: at most `MOST` projects are remembered, each for `SECONDS`; a failure is
remembered as "nothing known" for as long, so a GitLab outage costs one call per project.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from kg.errors import KgError
from kg.forge import GitLab, ProjectEdits

MOST = 1000
SECONDS = 60.0


class ForgeDetails:
    """Recently fetched GitLab project details, by project id."""

    def __init__(self, gitlab_url: str, own_token: str | None) -> None:
        self._url = gitlab_url
        self._token = own_token
        self._known: OrderedDict[int | str, tuple[float, dict[str, Any]]] = OrderedDict()

    def forget(self, project_id: int | str) -> None:
        """Drop what is remembered (after a change made through kg)."""
        self._known.pop(project_id, None)

    def cached(self, project_id: int | str) -> dict[str, Any] | None:
        """What is remembered of the project and still fresh, or None."""
        found = self._known.get(project_id)
        if found is not None and time.monotonic() - found[0] < SECONDS:
            return found[1]
        return None

    def of(self, project_id: int | str, caller_token: tuple[str, bool] | None) -> dict[str, Any]:
        """GitLab's details of the project ({} when GitLab does not show it or fails)."""
        now = time.monotonic()
        found = self._known.get(project_id)
        if found is not None and now - found[0] < SECONDS:
            return found[1]
        if self._token:
            forge = GitLab(self._url, self._token)
        else:
            forge = GitLab(
                self._url,
                caller_token[0] if caller_token else None,
                oauth=bool(caller_token and caller_token[1]),
            )
        try:
            details = ProjectEdits(forge).details(project_id)
        except KgError:
            details = {}
        self._known[project_id] = (now, details)
        self._known.move_to_end(project_id)
        while len(self._known) > MOST:
            self._known.popitem(last=False)
        return details
