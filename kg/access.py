"""Who may read a project: the one rule, in every form kg needs it.

A public project is for everyone, an internal one for any authenticated caller, a private
one for its members (GitLab's access levels, any level). The rule is written once here and
emitted as a Python predicate (`may_read`), the SQL the search index filters with
(`sql_may_read`), the visibilities whose audience graphs a SPARQL query reads
(`audiences_for`), and the audience a project belongs in (`audience_key`); one
table-driven test feeds the same cases to every form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Visibility = Literal["public", "internal", "private"]
VISIBILITIES: tuple[Visibility, ...] = ("public", "internal", "private")

ACCESS_LEVELS = {10: "Guest", 20: "Reporter", 30: "Developer", 40: "Maintainer", 50: "Owner"}
"""GitLab's access levels, by their GitLab names."""


@dataclass(frozen=True)
class Access:
    """Who is asking: anonymous (user None), or an authenticated user id."""

    user: str | None = None

    @property
    def authenticated(self) -> bool:
        """Whether the caller proved an identity."""
        return self.user is not None


def may_read(visibility: str, members: Iterable[str], access: Access) -> bool:
    """Whether `access` may read a project of that visibility and those member ids."""
    if visibility in audiences_for(access):
        return True
    return access.user is not None and access.user in members


def audiences_for(access: Access | None) -> tuple[Visibility, ...]:
    """The visibilities a caller reads whole (None: kg's own tools, everything); private
    projects beyond these only as a member."""
    if access is None:
        return VISIBILITIES
    return ("public", "internal") if access.authenticated else ("public",)


def audience_key(visibility: str, members: Iterable[str]) -> str:
    """The audience a project belongs in: its visibility, or for a private project its set
    of members (GitLab projects of one group share their inherited members, so a member of
    many private projects usually belongs to few audiences).

    >>> audience_key("internal", ["7"])
    'internal'
    >>> audience_key("private", ["7", "9"]) == audience_key("private", ["9", "7", "9"])
    True
    """
    if visibility != "private":
        return visibility
    users = "\n".join(sorted(set(members)))
    return "private/" + hashlib.sha256(users.encode()).hexdigest()[:32]


ROLES: dict[str, tuple[int | None, int | None]] = {
    "owner": (50, None),
    "maintainer": (40, 50),
    "reader": (None, 40),
}
"""kg's roles (renku-graph's `role` filter) as ranges [from, below) of GitLab access levels."""


def role(level: int | None) -> str | None:
    """kg's role for a member's GitLab access level (`ROLES`); None for a non-member."""
    if level is None:
        return None
    for name, (low, high) in ROLES.items():
        if (low is None or level >= low) and (high is None or level < high):
            return name
    return None


def sql_role(name: str, level: str) -> str:
    """`role(level) == name` as an SQL condition on the `level` column."""
    low, high = ROLES[name]
    parts = ([f"{level} >= {low}"] if low is not None else []) + (
        [f"{level} < {high}"] if high is not None else []
    )
    return " AND ".join(parts)


def sql_may_read(access: Access, visibility: str, member: str) -> str:
    """`may_read` as an SQL condition: `visibility` is the row's visibility column, `member`
    an SQL condition true when `:user` is a member of the row's project (bind `:user`)."""
    whole = ", ".join(f"'{v}'" for v in audiences_for(access))
    readable = f"{visibility} IN ({whole})"
    return f"({readable})" if access.user is None else f"({readable} OR {member})"
