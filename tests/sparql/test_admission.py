"""Query slots: per caller, and for anonymous callers together, with a short line to wait in."""

from __future__ import annotations

import asyncio

import pytest

from kg.errors import QueryTimeout, TooManyRequests
from kg.sparql.admission import WAITING_PER_SLOT, Admission, Caller

ANN, BOB = Caller.of("ann", None), Caller.of("bob", None)
STRANGER, OTHER_STRANGER = Caller.of(None, "10.0.0.1"), Caller.of(None, "10.0.0.2")


async def hold(admission: Admission, caller: Caller, release: asyncio.Event, held: list[str]) -> None:
    async with admission.slot(caller):
        held.append(caller.key)
        await release.wait()


def test_callers_are_users_or_addresses() -> None:
    assert Caller("user:ann", anonymous=False) == ANN
    assert Caller("address:10.0.0.1", anonymous=True) == STRANGER


def test_a_caller_over_its_share_waits_while_others_run() -> None:
    async def scenario() -> None:
        admission = Admission(per_caller=1, anonymous=1, timeout=5)
        release, held = asyncio.Event(), []
        first = asyncio.create_task(hold(admission, STRANGER, release, held))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(hold(admission, STRANGER, release, held))  # waits: per caller
        third = asyncio.create_task(hold(admission, OTHER_STRANGER, release, held))  # waits: anonymous share
        mine = asyncio.create_task(hold(admission, ANN, release, held))  # runs at once
        await asyncio.sleep(0.05)
        assert held == [STRANGER.key, ANN.key]
        release.set()
        await asyncio.gather(first, second, third, mine)
        assert sorted(held) == sorted([STRANGER.key, STRANGER.key, OTHER_STRANGER.key, ANN.key])

    asyncio.run(scenario())


def test_a_full_line_is_told_to_come_back_later() -> None:
    async def scenario() -> None:
        admission = Admission(per_caller=1, anonymous=2, timeout=5)
        release, held = asyncio.Event(), []
        tasks = [
            asyncio.create_task(hold(admission, STRANGER, release, held)) for _ in range(1 + WAITING_PER_SLOT)
        ]
        await asyncio.sleep(0.05)
        with pytest.raises(TooManyRequests) as refused:
            async with admission.slot(STRANGER):
                pass
        assert refused.value.retry_after >= 1
        async with admission.slot(BOB):  # another caller is not affected
            pass
        release.set()
        await asyncio.gather(*tasks)
        async with admission.slot(STRANGER):  # the line is gone once the queries are done
            pass

    asyncio.run(scenario())


def test_waiting_longer_than_the_timeout_is_a_timeout() -> None:
    async def scenario() -> None:
        admission = Admission(per_caller=1, anonymous=1, timeout=0.05)
        release, held = asyncio.Event(), []
        task = asyncio.create_task(hold(admission, ANN, release, held))
        await asyncio.sleep(0.01)
        with pytest.raises(QueryTimeout):
            async with admission.slot(ANN):
                pass
        release.set()
        await task
        async with admission.slot(ANN):  # a timed-out waiter left no trace in the counts
            pass

    asyncio.run(scenario())
