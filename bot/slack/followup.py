"""Where a reply goes after the ack: `response_url` posts and the Web API, chosen per message.

Ephemeral messages can only be changed through their `response_url` (5 uses in 30 minutes).
Public messages are changed with the Web API, which does not expire; when that fails
(a message shared into a channel the bot is not in), the `response_url` is the fallback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.render.kit import Message
from bot.slack.delivery import Undeliverable, trusted_response_url

log = logging.getLogger(__name__)


class ResponseUrlError(RuntimeError):
    """Slack refused a `response_url` post."""


async def post_response(client: AsyncWebClient, url: Any, body: dict[str, Any]) -> None:
    """POST `body` to a `response_url` on the client's shared session, retrying 429s.

    Raises `Undeliverable` for a URL that is not Slack's (nothing is sent), and
    `ResponseUrlError` when Slack refuses the post."""
    if not isinstance(url, str) or not trusted_response_url(url, client.base_url):
        raise Undeliverable(f"response_url {str(url)[:80]!r} is not Slack's; dropped")
    webhook = AsyncWebhookClient(
        url, session=client.session, timeout=client.timeout, retry_handlers=client.retry_handlers
    )
    response = await webhook.send_dict(body)
    if response.status_code == 429:
        raise Undeliverable("response_url still rate-limited after waiting as Slack asked")
    if response.status_code != 200:
        raise ResponseUrlError(f"response_url answered {response.status_code}: {response.body}")


@dataclass(frozen=True, slots=True)
class Followup:
    """Replies to one button click, sent to the right place for the clicked message."""

    client: AsyncWebClient
    body: dict[str, Any]

    @property
    def ephemeral(self) -> bool:
        return bool(self.body.get("container", {}).get("is_ephemeral"))

    @property
    def channel(self) -> str:
        return str(self.body.get("container", {}).get("channel_id") or self.body["channel"]["id"])

    @property
    def ts(self) -> str:
        return str(self.body["container"]["message_ts"])

    @property
    def thread_ts(self) -> str:
        return str(self.body.get("message", {}).get("thread_ts") or self.ts)

    @property
    def user(self) -> str:
        return str(self.body["user"]["id"])

    async def respond(self, message: Message, **options: Any) -> None:
        """Post through the click's `response_url`."""
        await post_response(
            self.client, self.body["response_url"], {**message.payload(), **options}
        )

    async def replace(self, message: Message) -> None:
        """Replace the clicked message."""
        if not self.ephemeral and await self._web_api(
            self.client.chat_update, channel=self.channel, ts=self.ts, **message.payload()
        ):
            return
        await self.respond(message, replace_original=True)

    async def add(self, message: Message) -> None:
        """A new message: in the clicked message's thread, or privately when it was private."""
        if self.ephemeral:
            await self.respond(message, replace_original=False, response_type="ephemeral")
            return
        if await self._web_api(
            self.client.chat_postMessage,
            channel=self.channel,
            thread_ts=self.thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **message.payload(),
        ):
            return
        await self.respond(
            message, replace_original=False, response_type="in_channel", thread_ts=self.thread_ts
        )

    async def note(self, message: Message) -> None:
        """A reply only the clicking user sees."""
        if not self.ephemeral and await self._web_api(
            self.client.chat_postEphemeral,
            channel=self.channel,
            user=self.user,
            thread_ts=self.thread_ts,
            **message.payload(),
        ):
            return
        await self.respond(message, replace_original=False, response_type="ephemeral")

    async def share(self, message: Message) -> None:
        """Post `message` publicly in the channel and remove the private original."""
        await self.respond(message, replace_original=False, response_type="in_channel")
        await post_response(self.client, self.body["response_url"], {"delete_original": True})

    async def _web_api(self, method: Any, **kwargs: Any) -> bool:
        try:
            await method(**kwargs)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.info("%s failed (%s); using the response_url", method.__name__, error)
            return False
        return True
