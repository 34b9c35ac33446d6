"""One answer per message across instances: the lease, its renewal, and the take-over when
the instance holding it dies. Two `Once` on one store stand for two instances."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.once import SETTLED_SECONDS, Once, delivery_key
from bot.store import MemoryStore

LEASE = 0.3


class Work:
    """Answers counted; each takes `seconds`."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds, self.done = seconds, 0

    async def __call__(self) -> None:
        await asyncio.sleep(self.seconds)
        self.done += 1


async def test_the_second_instance_waits_for_the_answer_then_drops_it() -> None:
    store, work = MemoryStore(), Work(0.1)
    ran = await asyncio.gather(
        Once(store, LEASE).run("msg:C1:1", work), Once(store, LEASE).run("msg:C1:1", work)
    )
    assert sorted(ran) == [False, True] and work.done == 1
    assert await store.held_for("msg:C1:1") > SETTLED_SECONDS - 5


async def test_a_long_answer_keeps_its_lease() -> None:
    store, work = MemoryStore(), Work(4 * LEASE)
    first = asyncio.ensure_future(Once(store, LEASE).run("msg:C1:1", work))
    await asyncio.sleep(0.01)
    assert not await Once(store, LEASE).run("msg:C1:1", work)
    assert await first and work.done == 1


async def test_a_message_whose_instance_died_is_taken_over_once() -> None:
    store, work = MemoryStore(), Work()
    assert await store.first_time("msg:C1:1", LEASE)  # claimed by an instance then killed
    ran = await asyncio.gather(*(Once(store, LEASE).run("msg:C1:1", work) for _ in range(3)))
    assert sorted(ran) == [False, False, True] and work.done == 1


async def test_an_answer_cut_short_by_shutdown_is_left_to_another_instance() -> None:
    store = MemoryStore()
    cut = asyncio.ensure_future(Once(store, LEASE).run("msg:C1:1", Work(10)))
    await asyncio.sleep(0.05)
    cut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cut
    assert 0 < await store.held_for("msg:C1:1") <= LEASE
    work = Work()
    assert await Once(store, LEASE).run("msg:C1:1", work) and work.done == 1


async def test_a_failed_answer_is_settled_so_it_is_not_repeated() -> None:
    store = MemoryStore()

    async def fails() -> None:
        raise RuntimeError("chat.postMessage failed")

    with pytest.raises(RuntimeError):
        await Once(store, LEASE).run("msg:C1:1", fails)
    assert not await Once(store, LEASE).run("msg:C1:1", Work())


def test_a_mention_and_its_dm_share_one_key() -> None:
    event = {"channel": "D1", "ts": "1700000000.000100"}
    assert delivery_key({"event_id": "Ev1"}, event) == delivery_key({"event_id": "Ev2"}, event)
    assert delivery_key({"event_id": "Ev3"}, {}) == "event:Ev3"
