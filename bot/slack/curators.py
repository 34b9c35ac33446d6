"""Who sees the curators' App Home (the questions others asked and the bot could not answer):
the Slack user IDs and user group IDs in `MAILPORT_CURATORS`. A group's members are read with
`usergroups.users.list` (scope `usergroups:read`) and kept for a few minutes; when Slack
refuses or fails, nobody is taken for a member of that group."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("mailport.slack")
MEMBERS_TTL = 300.0


class Curators:
    """`await includes(user)`: whether `user` is a curator."""

    def __init__(self, client: AsyncWebClient, ids: Sequence[str]) -> None:
        self.client = client
        self.users = frozenset(i for i in ids if not i.startswith("S"))
        self.groups = tuple(i for i in ids if i.startswith("S"))
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks = {group: asyncio.Lock() for group in self.groups}

    @property
    def configured(self) -> bool:
        return bool(self.users or self.groups)

    async def includes(self, user: str) -> bool:
        if user in self.users:
            return True
        for group in self.groups:
            if user in await self._group(group):
                return True
        return False

    async def _group(self, group: str) -> frozenset[str]:
        """The group's members, read at most once per MEMBERS_TTL however many Home tabs
        open at once."""
        async with self._locks[group]:
            cached = self._members.get(group)
            if cached is not None and time.monotonic() - cached[0] < MEMBERS_TTL:
                return cached[1]
            members = await self._fetch(group)
            self._members[group] = (time.monotonic(), members)
            return members

    async def _fetch(self, group: str) -> frozenset[str]:
        try:
            response: Any = await self.client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            data = exc.response.data
            why = data.get("error") if isinstance(data, dict) else exc.response.status_code
            log.warning("curators: user group %s unreadable: %s", group, why)
            return frozenset()
        except Exception as exc:  # a network fault must not break the Home tab
            log.warning("curators: user group %s unreadable: %s", group, type(exc).__name__)
            return frozenset()
        return frozenset(str(u) for u in response.get("users") or ())
