"""Calls to GitLab made while answering a request: a few at a time, charged to the caller.

Each such call holds a worker thread for as long as GitLab takes. With no bound, forty
requests while GitLab is slow would hold every thread of the server and stall routes that
never call GitLab; and an anonymous caller could make kg call GitLab once per request. So
calls for requests share `SLOTS` at a time (a request that cannot get one within
`WAIT_SECONDS` is a 503), and each client address may cause `per_minute` of them (429).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from kg.auth.gitlab import TokenBuckets
from kg.errors import TooManyRequests, Unavailable

SLOTS = 8
WAIT_SECONDS = 10.0
T = TypeVar("T")


class GitLabCalls:
    """The budget of GitLab calls made for requests (one per event loop)."""

    def __init__(self, per_minute: int) -> None:
        self._budget = TokenBuckets(per_minute)
        self._slots: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:  # made lazily: it belongs to the running event loop
            self._slots = asyncio.Semaphore(SLOTS)
        return self._slots

    async def call(self, address: str | None, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` (which asks GitLab) in a thread, charged to `address`."""
        wait = self._budget.take(address or "?", time.monotonic())
        if wait:
            raise TooManyRequests("too many GitLab look-ups from this address; try again later", wait)
        return await self.run(fn, *args)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` in a thread holding one of the slots (not charged: for calls that
        keep their own budget, like token checks)."""
        slots = self._semaphore()
        try:
            await asyncio.wait_for(slots.acquire(), WAIT_SECONDS)
        except TimeoutError:
            raise Unavailable("GitLab is slow to answer; try again shortly") from None
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            slots.release()
