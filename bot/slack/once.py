"""One answer per Slack message, however many instances receive it.

Slack retries a delivery it thinks was lost, to whichever instance answers next, and one
message can come twice (a mention in the bot's DM is also a DM message). Before answering,
an instance claims the message's key in the shared store for a short lease, renews it while
it works, and settles it for an hour when done. Another instance that finds the key claimed
waits while the lease lives: it stops as soon as the answer is settled, and takes the
message over if the lease lapses (the first instance died mid-answer). A shutdown that cuts
an answer short leaves its lease to lapse, so another instance answers instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

LEASE_SECONDS = 30.0
SETTLED_SECONDS = 3600.0
POLL_SECONDS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
WAIT_SECONDS = 600.0


class Leases(Protocol):
    """The part of a store that leases keys (every `Store` has it)."""

    async def first_time(self, key: str, ttl: float) -> bool: ...
    async def hold(self, key: str, ttl: float) -> None: ...
    async def held_for(self, key: str) -> float: ...


@dataclass(frozen=True, slots=True)
class Once:
    """Runs each key's work once across every instance sharing `store`."""

    store: Leases
    lease: float = LEASE_SECONDS

    async def run(self, key: str, work: Callable[[], Awaitable[None]]) -> bool:
        """Run `work` unless another instance answered or is answering `key`; True if it ran."""
        if not await self.store.first_time(key, self.lease) and not await self._take_over(key):
            return False
        renewing = asyncio.get_running_loop().create_task(self._renew(key))
        settle = True
        try:
            await work()
        except asyncio.CancelledError:
            settle = False
            raise
        finally:
            renewing.cancel()
            if settle:
                await self.store.hold(key, SETTLED_SECONDS)
        return True

    async def _renew(self, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            await self.store.hold(key, self.lease)

    async def _take_over(self, key: str) -> bool:
        """Wait while another instance's lease on `key` lives; True once this instance has
        taken over a lapsed one (only one instance can)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + WAIT_SECONDS
        polls = 0
        while loop.time() < give_up:
            left = await self.store.held_for(key)
            if left > self.lease:
                return False
            if left <= 0:
                return await self.store.first_time(f"takeover:{key}", SETTLED_SECONDS)
            await asyncio.sleep(min(POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)], left))
            polls += 1
        return False


def delivery_key(body: dict[str, object], event: dict[str, object]) -> str:
    """The key of the message an event is about: its channel and timestamp, so a retry and a
    second event for the same message share it; the event's id when it has none."""
    if event.get("channel") and event.get("ts"):
        return f"msg:{event['channel']}:{event['ts']}"
    return f"event:{body.get('event_id')}"
