"""What a failed job tells the project's readers: why, in kg's words.

A project's status is read by its readers, who may be anyone: it never carries server
paths, tokens, or what a remote (git server, GitLab) said. Those go to the server's log.
"""

from __future__ import annotations

import errno
import re

from kg.errors import CommandFailed, FetchFailed, KgError

_NOT_FOUND = re.compile(r"not found|does not appear to be a git repository|does not exist", re.I)
_REFUSED = re.compile(r"authentication failed|could not read username|access denied|\b40[13]\b", re.I)
_CORRUPT = re.compile(r"bad object|corrupt|broken link|missing blob|did not send all", re.I)
_REDIRECT = re.compile(r"redirect", re.I)


def out_of_space(exc: BaseException) -> bool:
    """Whether `exc` says the server's disk is full: the server's trouble, not the project's,
    so the job waits for space however many attempts that takes."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, CommandFailed):
        return "no space left on device" in exc.stderr.lower()
    return False


def public_reason(exc: BaseException) -> str:
    """One line for the project's status explaining `exc`, safe for anyone to read.

    >>> public_reason(FetchFailed(["git", "clone"], 128, "fatal: repository 'x' not found"))
    'fetching the repository failed: the forge has no such repository (or not for kg)'
    >>> public_reason(OSError(errno.ENOSPC, "No space left on device", "/srv/kg/tmp/x.nt"))
    'no space left on the server: will retry'
    """
    if out_of_space(exc):
        return "no space left on the server: will retry"
    if isinstance(exc, FetchFailed):
        return "fetching the repository failed: " + _fetch_reason(exc)
    if isinstance(exc, CommandFailed):
        if exc.command and exc.command[0] in ("GET", "POST", "DELETE"):
            answered = f"HTTP {exc.returncode}" if exc.returncode > 0 else "no answer"
            return f"GitLab could not be asked ({answered}): will retry"
        return f"`{exc.command[0] if exc.command else '?'}` failed (exit {exc.returncode})"
    if isinstance(exc, KgError):
        return str(exc)  # kg's own words, about the project
    if out_of_space(exc):
        return "no space left on the server: will retry"
    if isinstance(exc, OSError):
        return f"the server could not read or write a file ({errno.errorcode.get(exc.errno or 0, 'I/O')})"
    return f"internal error ({type(exc).__name__}); the server's log has the details"


def _fetch_reason(exc: FetchFailed) -> str:
    said = exc.stderr
    if exc.returncode == -1 and "timed out" in said:
        return said  # kg's own message
    if "out of memory" in said.lower():
        return "the repository needs more memory to fetch than a job may use (KG_JOB_MAX_MEMORY_MB)"
    if _REDIRECT.search(said):
        return "the server answered with a redirect, which kg does not follow"
    if _CORRUPT.search(said):
        return "the repository at the forge is corrupt"
    if _NOT_FOUND.search(said):
        return "the forge has no such repository (or not for kg)"
    if _REFUSED.search(said):
        return "the forge refused kg's credentials"
    if "not allowed" in said or "unsupported protocol" in said.lower():
        return "the URL's protocol is not allowed"
    return f"git exited {exc.returncode}" + (": will retry" if exc.recoverable else "")
