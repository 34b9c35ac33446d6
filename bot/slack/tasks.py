"""Work that runs after Slack has its answer: bounded, counted, and drained at shutdown.

At most `limit` pieces of work run at once. When a slow or failing Web API lets replies
pile up to that bound, new work is shed: not started, logged with what it was for, and
counted (`/healthz` shows the counts). Memory stays bounded however slow Slack is.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("mailport.slack")


class Background:
    """A bounded set of running tasks; `drain` waits for them (and cancels stragglers)."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[Any, Any, None], what: str = "reply") -> bool:
        """Run `work` now, in the background (it handles its own errors); False if shed."""
        if len(self._tasks) >= self.limit:
            work.close()
            self.counts["shed"] += 1
            log.warning(
                "shed %s: %d replies already pending (%d shed so far)",
                what,
                len(self._tasks),
                self.counts["shed"],
            )
            return False
        self.counts["started"] += 1
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def drain(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for running work, then cancel what is left, saying so."""
        if not self._tasks:
            return
        log.info("waiting up to %.0f s for %d reply task(s) to finish", timeout, len(self._tasks))
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
            self.counts["cancelled"] += len(late)
            log.warning(
                "shutdown: %d reply task(s) unfinished after %.0f s, dropped", len(late), timeout
            )
