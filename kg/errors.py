"""The exceptions kg raises. The API maps them to `application/problem+json` in one place.

    KgError
    ├── NotFound               something named by the caller does not exist (or is hidden)
    ├── InvalidInput           a request or payload is malformed
    │   ├── BodyTooLarge       a request body over its size limit
    │   └── Unprocessable      well-formed, but not something kg may do (a limit, an unknown ref)
    ├── Unauthorized           missing or wrong credentials
    ├── Forbidden              allowed to know, not allowed to do (e.g. SPARQL update)
    ├── TooManyRequests        a caller is over its share; retry after a while
    ├── LeaseLost              a worker's claim on a job was taken over by another worker
    ├── StoreBusy              the embedded store is open read-write by another process
    ├── Unavailable            kg cannot take this now (e.g. its disk is full); retry later
    │   └── StoreUnavailable   the remote SPARQL store does not answer (down, restarting)
    ├── CommandFailed          an external command (git) failed: command, exit code, stderr
    │   └── FetchFailed        fetching a repository failed
    └── QueryError             a SPARQL query could not be answered
        ├── QuerySyntaxError
        ├── QueryTimeout
        ├── QueryTooLarge
        └── QueryCrashed

`recoverable` tells the pipeline whether retrying later may help.
"""

from __future__ import annotations

from collections.abc import Sequence


class KgError(Exception):
    """Base of every error kg raises on purpose."""

    recoverable = False


class NotFound(KgError):
    """What was asked for does not exist, or the caller may not see it."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class InvalidInput(KgError):
    """A request, payload or parameter is malformed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BodyTooLarge(InvalidInput):
    """A request body is larger than kg reads."""


class Unprocessable(InvalidInput):
    """A well-formed request kg will not carry out as asked: over a limit, not allowed by
    the settings, or naming something the request's target does not hold."""


class Unauthorized(KgError):
    """Credentials are missing or wrong. Deliberately says nothing about which."""

    def __init__(self) -> None:
        super().__init__("unauthorized")


class Forbidden(KgError):
    """The caller may not do this."""


class TooManyRequests(KgError):
    """The caller is over its share (of queries, of token checks); `retry_after` seconds."""

    recoverable = True

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LeaseLost(KgError):
    """The job's lease expired and the job was handed to another worker."""

    recoverable = True


class StoreBusy(KgError):
    """The embedded store is locked read-write by another process (e.g. `kg serve`)."""


class Unavailable(KgError):
    """kg cannot do this now (a full disk, an unwritable event log); retrying later may work."""

    recoverable = True


class StoreUnavailable(Unavailable):
    """The remote store does not answer. The message names its origin only: never a path,
    a query or credentials."""

    def __init__(self, origin: str) -> None:
        super().__init__(f"the store at {origin} does not answer; try again")
        self.origin = origin


class CommandFailed(KgError):
    """An external command exited non-zero."""

    def __init__(
        self, command: Sequence[str], returncode: int, stderr: str, *, recoverable: bool = False
    ) -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr.strip()
        self.recoverable = recoverable
        super().__init__(f"`{' '.join(self.command)}` exited {returncode}: {self.stderr}")


class FetchFailed(CommandFailed):
    """Cloning or fetching a repository failed."""


class QueryError(KgError):
    """Base of errors answering a SPARQL query."""


class QuerySyntaxError(QueryError):
    """The query does not parse; the message is the parser's."""


class QueryTimeout(QueryError):
    """The query ran longer than allowed and was stopped."""


class QueryTooLarge(QueryError):
    """The result exceeded the configured size."""


class QueryCrashed(QueryError):
    """The query engine died while answering; the service stays up."""
