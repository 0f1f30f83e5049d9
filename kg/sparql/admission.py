"""Who may run how many queries at once, so slow queries from one caller cannot starve others.

The query processes are few (`KG_SPARQL_WORKERS`). Each caller — a user, or one anonymous
address — may hold `per_caller` of them at a time, and anonymous callers together at most
`anonymous` (fewer than all), so a stranger's slow queries always leave room for
authenticated ones. A caller over its share waits, in a short line; a caller whose line is
full is told to come back later (429) instead of tying up a thread.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from kg.errors import QueryTimeout, TooManyRequests

WAITING_PER_SLOT = 4
"""How many requests may wait in line per query they may run."""


@dataclass(frozen=True)
class Caller:
    """Who a query is charged to: a user id, or an anonymous caller's address."""

    key: str
    anonymous: bool

    @classmethod
    def of(cls, user: str | None, address: str | None) -> Caller:
        """The caller of a request: its user when authenticated, else its address."""
        if user is not None:
            return cls(f"user:{user}", False)
        return cls(f"address:{address or '?'}", True)


class Admission:
    """Query slots per caller and for anonymous callers together (one event loop's worth)."""

    def __init__(self, *, per_caller: int, anonymous: int, timeout: float) -> None:
        self.per_caller = per_caller
        self.anonymous = anonymous
        self.timeout = timeout
        self._running: Counter[str] = Counter()
        self._waiting: Counter[str] = Counter()
        self._anonymous_running = 0
        self._anonymous_waiting = 0
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:  # made lazily: it belongs to the running event loop
            self._changed = asyncio.Condition()
        return self._changed

    def _free(self, caller: Caller) -> bool:
        if self._running[caller.key] >= self.per_caller:
            return False
        return not caller.anonymous or self._anonymous_running < self.anonymous

    @asynccontextmanager
    async def slot(self, caller: Caller) -> AsyncIterator[None]:
        """Hold one of `caller`'s query slots while the block runs."""
        changed = self._condition()
        async with changed:
            if not self._free(caller):
                self._enter_line(caller)
                try:
                    await asyncio.wait_for(changed.wait_for(lambda: self._free(caller)), self.timeout)
                except TimeoutError:
                    raise QueryTimeout(f"no query slot free within {self.timeout:g}s; try again") from None
                finally:
                    self._leave_line(caller)
            self._running[caller.key] += 1
            self._anonymous_running += caller.anonymous
        try:
            yield
        finally:
            async with changed:
                self._running[caller.key] -= 1
                if not self._running[caller.key]:
                    del self._running[caller.key]
                self._anonymous_running -= caller.anonymous
                changed.notify_all()

    def _enter_line(self, caller: Caller) -> None:
        if self._waiting[caller.key] >= WAITING_PER_SLOT * self.per_caller or (
            caller.anonymous and self._anonymous_waiting >= WAITING_PER_SLOT * self.anonymous
        ):
            raise TooManyRequests("too many queries at once from this caller; try again shortly", 1.0)
        self._waiting[caller.key] += 1
        self._anonymous_waiting += caller.anonymous

    def _leave_line(self, caller: Caller) -> None:
        self._waiting[caller.key] -= 1
        if not self._waiting[caller.key]:
            del self._waiting[caller.key]
        self._anonymous_waiting -= caller.anonymous
