"""The Slack app: Bolt listeners that parse, call the engine, render and send.

- `/mailport ...` is answered in the ack itself (ephemeral, with "Share in channel").
- `@mailport ...` in a channel is answered in a thread; a DM is answered in the DM.
- Buttons: feedback votes, "did you mean" suggestions, related questions, share.
- A retried or doubly delivered event (app_mention + message.im) is answered once.
- A failing listener is logged and the user gets a short apology.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import Answer, PortCard
from bot.commands import Check, Help, PortQuery, Question, parse
from bot.engine import Engine
from bot.normalize import strip_slack
from bot.render import blocks
from bot.render.blocks import Message
from bot.settings import Settings
from bot.slack.followup import Followup, post_response
from bot.store import Store

log = logging.getLogger("mailport.slack")

COMMAND = "/mailport"
DEDUPE_TTL = 3600.0
REF_MAX = 1900
HOME_ITEMS = 10
REPLY_CACHE = 1024

Result = Answer | PortCard | Help | Message
Listener = Callable[..., Awaitable[None]]


def make_client(settings: Settings, session: Any = None) -> AsyncWebClient:
    """The Web API client: bot token, optional `SLACK_API_URL`, shared session, 429 retries."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(
    engine: Engine, store: Store, settings: Settings, client: AsyncWebClient | None = None
) -> AsyncApp:
    """An AsyncApp with every mailport listener registered."""
    app = AsyncApp(
        client=client or make_client(settings),
        signing_secret=settings.slack_signing_secret,
        logger=log,
        process_before_response=True,
    )
    bot = Mailport(engine, store, app.client)
    app.command(COMMAND)(bot.guard(bot.on_command))
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.event("app_home_opened")(bot.on_home_opened)
    app.action(re.compile(r"^(helpful|not_helpful)$"))(bot.guard(bot.on_feedback))
    app.action(re.compile(r"^suggest_\d+$"))(bot.guard(bot.on_suggestion))
    app.action(re.compile(r"^(related_\d+|full_answer)$"))(bot.guard(bot.on_more))
    app.action("share")(bot.guard(bot.on_share))
    app.error(bot.on_error)
    return app


@dataclass(frozen=True, slots=True)
class Reply:
    """A rendered, validated message payload, and the question to count if it had no answer."""

    payload: dict[str, Any]
    unanswered: str | None = None


def share_ref(result: Result) -> str | None:
    """How to reproduce `result` from a button value: `port:N`, `ask:TEXT` or `entry:ID`."""
    if isinstance(result, PortCard):
        return f"port:{result.port}"
    if isinstance(result, Answer) and result.status == "answered" and result.entry:
        if len(result.question) <= REF_MAX:
            return f"ask:{result.question}"
        return f"entry:{result.entry.id}"
    return None


def _is_dm(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def _from_bot_or_edit(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") or event.get("bot_profile"))


class Mailport:
    """The listeners, holding the engine, the store and the shared Web API client."""

    def __init__(self, engine: Engine, store: Store, client: AsyncWebClient) -> None:
        self.engine = engine
        self.store = store
        self.client = client
        self.reply = functools.lru_cache(maxsize=REPLY_CACHE)(self._reply)

    # --- engine and renderer ----------------------------------------------------------------

    def lookup(self, command: Help | PortQuery | Question) -> Result:
        """Call the engine for a parsed command (`check` has its own path)."""
        if isinstance(command, PortQuery):
            return self.engine.port_card(command.port)
        if isinstance(command, Question):
            return self.engine.ask(command.text)
        return command

    def resolve(self, ref: str) -> Result:
        """The result a `share_ref` stands for."""
        kind, _, arg = ref.partition(":")
        if kind == "port":
            return self.engine.port_card(int(arg))
        if kind == "entry":
            return self.entry_answer(arg)
        return self.engine.ask(arg)

    def entry_answer(self, entry_id: str) -> Answer | Message:
        """One knowledge entry as an answer (for suggestion and related-question buttons)."""
        entry = self.engine.kb.entries.get(entry_id)
        if entry is None:
            return blocks.notice("That answer has left the knowledge base; please ask again.")
        ports = self.engine.kb.port_rows(entry.ports)
        return Answer(entry.question, "answered", 100.0, entry, (), ports)

    def render(
        self, result: Result, *, share: bool = False, shared_by: str | None = None
    ) -> Message:
        """`result` as a message; `share` adds the "Share in channel" button."""
        ref = share_ref(result) if share else None
        if isinstance(result, Message):
            return result
        if isinstance(result, Help):
            return blocks.help_message()
        if isinstance(result, PortCard):
            return blocks.port_card_message(result, share_ref=ref, shared_by=shared_by)
        return blocks.answer_message(result, self.engine.kb, share_ref=ref, shared_by=shared_by)

    def _reply(self, command: Help | PortQuery | Question, share: bool) -> Reply:
        """Engine, renderer and Block Kit validation for one command; memoised as `reply`."""
        result = self.lookup(command)
        missed = isinstance(result, Answer) and result.status == "no_match"
        return Reply(
            self.render(result, share=share).payload(), result.question if missed else None
        )

    def remember(self, reply: Reply) -> None:
        """Count a question the bot could not answer."""
        if reply.unanswered:
            self.store.record_unanswered(reply.unanswered)

    async def check_reply(self, check: Check, user_id: str) -> Message:
        """The reply to `check HOST [PORTS] [--mx]`: wire the live checker (issue 4) in here."""
        return blocks.check_unavailable()

    def first_delivery(self, body: dict[str, Any], event: dict[str, Any]) -> bool:
        """False for Slack's retries and for the second event of one message (mention + DM)."""
        keys = [f"msg:{event.get('channel')}:{event.get('ts')}"]
        if body.get("event_id"):
            keys.insert(0, f"event:{body['event_id']}")
        return all(self.store.first_time(key, DEDUPE_TTL) for key in keys)

    # --- slash command ----------------------------------------------------------------------

    async def on_command(self, ack: Any, body: dict[str, Any], command: dict[str, Any]) -> None:
        """`/mailport ...`: the knowledge-base answer is the ack itself."""
        parsed = parse(strip_slack(command.get("text", "")))
        if isinstance(parsed, Check):
            await ack(response_type="ephemeral", text="Checking… this takes a few seconds.")
            reply = await self.check_reply(parsed, command["user_id"])
            await post_response(
                self.client, command["response_url"], {**reply.payload(), "replace_original": True}
            )
            return
        reply = self.reply(parsed, True)
        await ack(response_type="ephemeral", **reply.payload)
        self.remember(reply)

    # --- events -----------------------------------------------------------------------------

    async def on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """`@mailport ...` in a channel (or a DM)."""
        if not _from_bot_or_edit(event) and self.first_delivery(body, event):
            await self.answer_event(event)

    async def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message in the bot's DM; every other message event is ignored."""
        if event.get("channel_type") != "im" or _from_bot_or_edit(event):
            return
        if self.first_delivery(body, event):
            await self.answer_event(event)

    async def answer_event(self, event: dict[str, Any]) -> None:
        """Reply in the thread of a channel message, or in the DM."""
        thread_ts = event.get("thread_ts") or (None if _is_dm(event) else event["ts"])
        parsed = parse(strip_slack(event.get("text", "")))
        if isinstance(parsed, Check):
            reply = Reply((await self.check_reply(parsed, event.get("user", ""))).payload())
        else:
            reply = self.reply(parsed, False)
        await self.client.chat_postMessage(
            channel=event["channel"],
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **reply.payload,
        )
        self.remember(reply)

    async def on_home_opened(self, event: dict[str, Any]) -> None:
        """The App Home tab: usage, top unanswered questions, most down-voted answers."""
        if event.get("tab") != "home":
            return
        view = blocks.home_view(
            self.store.top_unanswered(HOME_ITEMS),
            self.store.most_downvoted(HOME_ITEMS),
            self.engine.kb,
        )
        await self.client.views_publish(user_id=event["user"], view=view)

    # --- buttons ----------------------------------------------------------------------------

    async def on_feedback(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Helpful / Not helpful: one vote per user and entry."""
        await ack()
        helpful = action["action_id"] == "helpful"
        self.store.record_vote(action["value"], body["user"]["id"], helpful)
        await Followup(self.client, body).note(blocks.feedback_thanks(helpful))

    async def on_suggestion(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A "did you mean" button: the message becomes that answer."""
        await ack()
        followup = Followup(self.client, body)
        result = self.entry_answer(action["value"])
        await followup.replace(self.render(result, share=followup.ephemeral))

    async def on_more(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A related question or "Full answer": that answer as a new message."""
        await ack()
        followup = Followup(self.client, body)
        result = self.entry_answer(action["value"])
        await followup.add(self.render(result, share=followup.ephemeral))

    async def on_share(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Share in channel: the same answer, public, credited to the user who shared it."""
        await ack()
        result = self.resolve(action["value"])
        await Followup(self.client, body).share(self.render(result, shared_by=body["user"]["id"]))

    # --- errors -----------------------------------------------------------------------------

    def guard(self, listener: Listener) -> Listener:
        """Report a failure after `ack()` ourselves: Bolt's runner can drop the ack then."""

        @functools.wraps(listener)
        async def guarded(**kwargs: Any) -> None:
            try:
                await listener(**kwargs)
            except Exception as error:
                if kwargs["ack"].response is None:
                    raise
                await self.on_error(error, kwargs["body"], None)

        return guarded

    async def on_error(
        self, error: Exception, body: dict[str, Any], response: BoltResponse | None
    ) -> BoltResponse | None:
        """Log the failure and apologise; never leave the user with silence."""
        log.error("listener failed: %r", error, exc_info=error)
        apology = blocks.apology().payload()
        if response is not None and "command" in body:
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", **apology}),
                headers={"content-type": "application/json"},
            )
        try:
            await self._apologise(body, apology)
        except Exception:
            log.exception("could not deliver the apology")
        return BoltResponse(status=200, body="") if response is not None else None

    async def _apologise(self, body: dict[str, Any], apology: dict[str, Any]) -> None:
        event = body.get("event", {})
        if body.get("response_url"):
            options = {"response_type": "ephemeral", "replace_original": False}
            await post_response(self.client, body["response_url"], {**apology, **options})
        elif event.get("channel") and event.get("type") in ("app_mention", "message"):
            thread_ts = event.get("thread_ts") or (None if _is_dm(event) else event.get("ts"))
            await self.client.chat_postMessage(
                channel=event["channel"], thread_ts=thread_ts, **apology
            )
