"""GitLab's rules for a project's full path (`group/subgroup/name`), which kg uses as its slug.

A slug becomes part of IRIs and of routes, so one that GitLab would refuse is refused
here too: a payload cannot name `../x`, a `-` segment (kg's own separator inside a
project's IRIs), control characters or a path too long to be real.
"""

from __future__ import annotations

import re

from kg.errors import InvalidInput

MAX_SEGMENTS = 21
"""GitLab nests groups at most 20 deep, plus the project itself."""
MAX_SEGMENT = 255
MAX_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")


def check_slug(slug: str) -> str:
    """The slug if GitLab could have made it; `InvalidInput` saying why not otherwise.

    >>> check_slug("group/sub.group/my-project_2")
    'group/sub.group/my-project_2'
    >>> check_slug("group/../other")
    Traceback (most recent call last):
    ...
    kg.errors.InvalidInput: project path 'group/../other': segment '..' is not allowed
    >>> check_slug("group/-/x")
    Traceback (most recent call last):
    ...
    kg.errors.InvalidInput: project path 'group/-/x': segment '-' must start with a letter, digit, '_' or '.'
    """
    shown = repr(slug[:80] + ("..." if len(slug) > 80 else ""))
    if len(slug) > MAX_LENGTH:
        raise InvalidInput(f"project path {shown}: longer than {MAX_LENGTH} characters")
    segments = slug.split("/")
    if len(segments) < 2:
        raise InvalidInput(f"project path {shown}: needs a namespace and a name (namespace/name)")
    if len(segments) > MAX_SEGMENTS:
        raise InvalidInput(f"project path {shown}: nested deeper than {MAX_SEGMENTS} levels")
    for segment in segments:
        why = _segment_problem(segment)
        if why:
            raise InvalidInput(f"project path {shown}: {why}")
    return slug


def _segment_problem(segment: str) -> str:
    if segment in ("", ".", ".."):
        return f"segment {segment!r} is not allowed"
    if len(segment) > MAX_SEGMENT:
        return f"a segment is longer than {MAX_SEGMENT} characters"
    if not _SEGMENT.fullmatch(segment):
        if not _SEGMENT.match(segment[0]):
            return f"segment {segment[:40]!r} must start with a letter, digit, '_' or '.'"
        return f"segment {segment[:40]!r} may only hold letters, digits, '_', '-' and '.'"
    if segment.endswith((".git", ".atom")):
        return f"segment {segment[:40]!r} may not end in .git or .atom"
    return ""
