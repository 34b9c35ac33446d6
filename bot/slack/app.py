"""The Slack app: Bolt listeners that parse, call the engine, render and send.

- `/mailport ...` is answered in the ack itself (ephemeral, with "Share in channel").
- `@mailport ...` in a channel is answered in a thread; a DM is answered in the DM.
- Buttons: feedback votes, "did you mean" suggestions, related questions, share.
- A retried or doubly delivered event (app_mention + message.im) is answered once.
- A failure is logged and the user gets a short apology, never silence; a reply Slack
  itself would not take (rate limit, lost connection, a foreign `response_url`) is logged
  and dropped, never re-sent or apologised for.
- Nothing before the ack waits for the store: dedupe and recording run with the reply.

Every listener acks (or returns, for events) at once and hands anything slow to
`Background`, so the app runs with `process_before_response=True`: Slack's HTTP response
leaves as soon as the listener returns, without Bolt's 10 ms ack polling, and shutdown can
wait for replies still in flight (Bolt's own listener tasks are not tracked).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.check import Checker, CheckError, CheckRequest
from bot.engine.discovery import discover
from bot.engine.facade import Engine
from bot.match.answers import Answer, PortCard
from bot.match.normalize import strip_slack
from bot.render import blocks
from bot.render import check_blocks as check_render
from bot.render.kit import Message, escape
from bot.settings import Settings
from bot.slack.commands import Check, Command, Help, PortQuery, Question, SettingsQuery, parse
from bot.slack.curators import Curators
from bot.slack.delivery import describe, retry_handlers, why_undelivered
from bot.slack.followup import Followup, post_response
from bot.slack.once import Once, delivery_key
from bot.slack.tasks import Background
from bot.store import ResilientStore, Store
from bot.verbs import SLACK_VERBS, SLASH_COMMAND, name_of

log = logging.getLogger("mailport.slack")


class _TokenGivenAsClient(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused.": Bolt reads
    SLACK_BOT_TOKEN from the environment even when given a client built with that token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


log.addFilter(_TokenGivenAsClient())

COMMAND = SLASH_COMMAND
REF_MAX = 1900
HOME_ITEMS = 10
REPLY_CACHE = 1024
EXPIRED = "That result has expired; please run the check again."
SETTINGS_SECONDS = 2.5
EXPIRED_ANSWER = "That answer has left the knowledge base; please ask again."

Result = Answer | PortCard | Help | Message
Body = dict[str, Any]
ButtonWork = Callable[[Body, Body], Coroutine[Any, Any, None]]


def make_client(settings: Settings, session: Any = None) -> AsyncWebClient:
    """The Web API client: bot token, optional `SLACK_API_URL`, shared session, 429 retries."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        session=session,
        retry_handlers=retry_handlers(),
    )


def build_app(
    engine: Engine,
    store: Store,
    settings: Settings,
    client: AsyncWebClient | None = None,
    background: Background | None = None,
    checker: Checker | None = None,
) -> AsyncApp:
    """An AsyncApp with every mailport listener; follow-up work runs in `background`."""
    app = AsyncApp(
        client=client or make_client(settings),
        signing_secret=settings.slack_signing_secret,
        logger=log,
        process_before_response=True,
    )
    store = store if isinstance(store, ResilientStore) else ResilientStore(store)
    checker = checker if checker is not None else Checker(settings, store)
    background = background if background is not None else Background()
    bot = Mailport(engine, store, app.client, checker, background, settings.answer_lease)
    bot.curators = Curators(app.client, settings.curators)
    app.command(COMMAND)(bot.on_command)
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.event("app_home_opened")(bot.on_home_opened)
    app.action(re.compile(r"^(helpful|not_helpful)$"))(bot.button(bot.vote))
    app.action(re.compile(r"^suggest_\d+$"))(bot.button(bot.show_suggestion))
    app.action(re.compile(r"^(related_\d+|full_answer)$"))(bot.button(bot.show_more))
    app.action("share")(bot.button(bot.share))
    app.action(check_render.DETAILS_ACTION)(bot.button(bot.check_details))
    app.action(re.compile(rf"^{blocks.RUN_CHECK_ACTION}_\d+$"))(bot.button(bot.check_from_answer))
    app.error(bot.on_error)
    return app


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's first reply (a rendered, validated payload), the question to count if it
    had no answer, and for a live check the work that makes the report, given the user and
    the workspace."""

    payload: dict[str, Any]
    unanswered: str | None = None
    then: Callable[[str, str], Awaitable[Message]] | None = None


Handler = Callable[[Any, bool], Awaitable[Reply]]


def _team(body: Body) -> str:
    """The workspace a request came from: `team_id` (commands, events) or `team.id` (buttons)."""
    team = body.get("team")
    return str(body.get("team_id") or (team.get("id") if isinstance(team, dict) else "") or "")


def share_ref(result: Result) -> str | None:
    """How to reproduce `result` from a button value: `port:N`, `ask:TEXT` or `entry:ID`."""
    if isinstance(result, PortCard):
        return f"port:{result.port}"
    if isinstance(result, Answer) and result.status == "answered" and result.entry:
        if len(result.question) <= REF_MAX:
            return f"ask:{result.question}"
        return f"entry:{result.entry.id}"
    return None


def _is_dm(event: Body) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def _thread_ts(event: Body) -> str | None:
    return event.get("thread_ts") or (None if _is_dm(event) else event.get("ts"))


# Message subtypes a person sends with a question in them (a screenshot with a caption, a
# thread reply also sent to the channel); every other subtype is an edit, a join, a bot...
_PERSON_SUBTYPES = frozenset({"file_share", "thread_broadcast"})
SHUTDOWN_NOTE = "mailport restarted before it could finish this. Please ask again in a minute."
APOLOGY_SECONDS = 3.0
FILES_ONLY = (
    "I can't read files or screenshots. Paste the error text, or ask in words, e.g. "
    "`which port for IMAP?`"
)


def _from_bot_or_edit(event: Body) -> bool:
    subtype = event.get("subtype")
    other = subtype is not None and subtype not in _PERSON_SUBTYPES
    return bool(event.get("bot_id") or event.get("bot_profile") or other)


class Mailport:
    """The listeners, holding the engine, the store, the checker and the Web API client."""

    def __init__(
        self,
        engine: Engine,
        store: ResilientStore,
        client: AsyncWebClient,
        checker: Checker,
        background: Background,
        lease: float,
    ) -> None:
        self.engine = engine
        self.store = store
        self.once = Once(store.patient(), lease)  # after the ack: the patient deadline
        self.client = client
        self.checker = checker
        self.background = background
        self.curators = Curators(client, ())
        self.reply = functools.lru_cache(maxsize=REPLY_CACHE)(self._reply)
        self.lookups: dict[str, Callable[[Any], Result]] = {
            "help": lambda command: command,
            "port": lambda command: self.engine.port_card(command.port),
            "ask": lambda command: self.engine.ask(command.text),
        }
        self.handlers: dict[str, Handler] = {
            **dict.fromkeys(self.lookups, self.instant),
            "settings": self.settings_reply,
            "check": self.check_reply,
        }
        missing = {v.name for v in SLACK_VERBS} - self.handlers.keys()
        if missing:
            raise TypeError(f"no Slack handler for {', '.join(sorted(missing))}")

    # --- verbs ------------------------------------------------------------------------------

    async def respond(self, command: Command, slash: bool) -> Reply:
        """A parsed command's reply, by its verb's handler; `slash` for `/mailport` (private,
        with "Share in channel", and its report follows as a new message)."""
        return await self.handlers[name_of(command)](command, slash)

    async def instant(self, command: Help | PortQuery | Question, slash: bool) -> Reply:
        """Help, a port card or a knowledge-base answer: memoised, no I/O."""
        return self.reply(command, slash)

    def _reply(self, command: Help | PortQuery | Question, share: bool) -> Reply:
        """Engine, renderer and Block Kit validation for one command; memoised as `reply`."""
        result = self.lookups[name_of(command)](command)
        missed = (
            isinstance(result, Answer) and result.status == "no_match" and not result.small_talk
        )
        unanswered = command.text if missed and isinstance(command, Question) else None
        return Reply(self.render(result, share=share).payload(), unanswered)

    async def settings_reply(self, query: SettingsQuery, slash: bool) -> Reply:
        """`settings QUERY`: from the records, or by the domain's MX hosts (bounded in time,
        since a slash command's answer is its ack)."""
        try:
            result = await asyncio.wait_for(
                discover(self.engine, self.checker.guard, query.query), SETTINGS_SECONDS
            )
        except TimeoutError:
            message = blocks.notice("Looking up that domain's mail hosts took too long; try again.")
            return Reply(message.payload())
        shown = self.render(result.answer, share=slash and result.found is not None)
        return Reply(shown.payload())

    async def check_reply(self, check: Check, slash: bool) -> Reply:
        """`check HOST [PORTS] [--mx]`: "Checking..." now, the report `then`; or what is
        wrong with the request."""
        request = self.prepare_check(check)
        if isinstance(request, Message):
            return Reply(request.payload())
        placeholder = check_render.checking_below if slash else check_render.checking
        return Reply(
            {"text": placeholder(request.describe())},
            then=functools.partial(self.run_check, request),
        )

    # --- engine and renderer ----------------------------------------------------------------

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
        answer = self.engine.entry_answer(entry_id)
        return answer or blocks.notice(EXPIRED_ANSWER)

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

    def remember(self, reply: Reply) -> None:
        """Count a question the bot could not answer (after the response has gone)."""
        if reply.unanswered:
            self.store.note_unanswered(reply.unanswered)

    def prepare_check(self, check: Check) -> CheckRequest | Message:
        """A validated `check HOST [PORTS] [--mx]`, or a message saying what is wrong with it."""
        try:
            return self.checker.prepare(check.host, check.ports, check.mx)
        except CheckError as exc:
            return blocks.notice(escape(str(exc)))

    async def run_check(self, request: CheckRequest, user_id: str, team_id: str) -> Message:
        """The live check's report, or why it did not run (rate limit, busy)."""
        try:
            report = await self.checker.run(request, user=user_id, team=team_id)
        except CheckError as exc:
            return blocks.notice(escape(str(exc)))
        return check_render.to_message(report)

    def later(self, body: Body, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the response to Slack (shed when too much is pending). A failure
        is logged and apologised for, unless it was Slack refusing or losing the reply."""
        what = describe(body)

        async def safely() -> None:
            try:
                await work
            except asyncio.CancelledError:  # shutdown ran out of time: say so, then stop
                log.warning("reply for %s cut short by shutdown", what)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(APOLOGY_SECONDS):
                        await self.apologise(body, blocks.notice(SHUTDOWN_NOTE))
                raise
            except Exception as error:
                undelivered = why_undelivered(error)
                if undelivered:
                    log.warning("reply for %s not delivered: %s", what, undelivered)
                    return
                log.error("reply for %s failed: %r", what, error, exc_info=error)
                await self.apologise(body)

        if not self.background.start(safely(), f"reply for {what}"):
            work.close()

    # --- slash command ----------------------------------------------------------------------

    async def on_command(self, ack: Any, body: Body, command: Body) -> None:
        """`/mailport ...`: the knowledge-base answer is the ack itself."""
        reply = await self.respond(parse(strip_slack(command.get("text", ""))), slash=True)
        await ack(response_type="ephemeral", **reply.payload)
        self.remember(reply)
        if reply.then is not None:
            self.later(body, self.follow_command(reply.then, command))

    async def follow_command(
        self, then: Callable[[str, str], Awaitable[Message]], command: Body
    ) -> None:
        """The report, as a new private message below "Checking...": Slack cannot replace a
        slash command's first reply through its response_url (bolt-python #1268)."""
        message = await then(command["user_id"], _team(command))
        body = {**message.payload(), "response_type": "ephemeral", "replace_original": False}
        await post_response(self.client, command["response_url"], body)

    # --- events -----------------------------------------------------------------------------

    async def on_mention(self, body: Body, event: Body) -> None:
        """`@mailport ...` in a channel (or a DM)."""
        if not _from_bot_or_edit(event):
            self.later(body, self.answer_once(body, event))

    async def on_message(self, body: Body, event: Body) -> None:
        """A message in the bot's DM; every other message event is ignored."""
        if event.get("channel_type") == "im" and not _from_bot_or_edit(event):
            self.later(body, self.answer_once(body, event))

    async def answer_once(self, body: Body, event: Body) -> None:
        """Answer an event unless this or another instance answers it already (a retry, or
        mention + DM)."""
        await self.once.run(
            delivery_key(body, event), lambda: self.answer_event(event, _team(body))
        )

    async def answer_event(self, event: Body, team: str) -> None:
        """Reply in the thread of a channel message, or in the DM."""
        where = {"channel": event["channel"], "thread_ts": _thread_ts(event)}
        options = {**where, "unfurl_links": False, "unfurl_media": False}
        text = strip_slack(event.get("text", ""))
        if not text.strip() and event.get("files"):
            await self.client.chat_postMessage(**options, **blocks.notice(FILES_ONLY).payload())
            return
        reply = await self.respond(parse(text), slash=False)
        posted = await self.client.chat_postMessage(**options, **reply.payload)
        self.remember(reply)
        if reply.then is not None:  # "Checking..." becomes the report
            message = await reply.then(event.get("user", ""), team)
            await self.client.chat_update(
                channel=posted["channel"], ts=posted["ts"], **message.payload()
            )

    async def on_home_opened(self, body: Body, event: Body) -> None:
        """The App Home tab: usage, top unanswered questions, most down-voted answers."""
        if event.get("tab") == "home":
            self.later(body, self.publish_home(event["user"]))

    async def publish_home(self, user_id: str) -> None:
        """Publish the Home tab for one user: a curator's, from the store's current lists, or
        the personal one (other people's questions are for curators only)."""
        if await self.curators.includes(user_id):
            view = blocks.home_view(
                await self.store.top_unanswered(HOME_ITEMS),
                await self.store.most_downvoted(HOME_ITEMS),
                self.engine.kb,
            )
        else:
            view = blocks.personal_home_view(self.curators.configured)
        await self.client.views_publish(user_id=user_id, view=view)

    # --- buttons ----------------------------------------------------------------------------

    def button(self, work: ButtonWork) -> Callable[..., Awaitable[None]]:
        """A `block_actions` listener: ack at once, then `work(body, action)` in the background."""

        async def listener(ack: Any, body: Body, action: Body) -> None:
            await ack()
            self.later(body, work(body, action))

        return listener

    async def vote(self, body: Body, action: Body) -> None:
        """Helpful / Not helpful: one vote per user and entry, thanked privately."""
        helpful = action["action_id"] == "helpful"
        entry_id = action.get("value")
        followup = Followup(self.client, body)
        if not isinstance(entry_id, str) or self.engine.kb.answer_entry(entry_id) is None:
            log.warning("vote refused: %r is not an entry", str(entry_id)[:80])
            await followup.note(blocks.notice(EXPIRED_ANSWER))
            return
        await self.store.record_vote(entry_id, followup.user, helpful)
        await followup.note(blocks.feedback_thanks(helpful))

    async def show_suggestion(self, body: Body, action: Body) -> None:
        """A "did you mean" button: the message becomes that answer."""
        followup = Followup(self.client, body)
        result = self.entry_answer(action["value"])
        await followup.replace(self.render(result, share=followup.ephemeral))

    async def show_more(self, body: Body, action: Body) -> None:
        """A related question or "Full answer": that answer, shown only to the one who clicked
        (in a public thread too: one person's curiosity is not the channel's), with "Share in
        channel" to post it for everyone."""
        followup = Followup(self.client, body)
        result = self.entry_answer(action["value"])
        await followup.note(self.render(result, share=True))

    async def share(self, body: Body, action: Body) -> None:
        """Share in channel: the same answer, public, credited to the user who shared it."""
        result = self.resolve(action["value"])
        await Followup(self.client, body).share(self.render(result, shared_by=body["user"]["id"]))

    async def check_details(self, body: Body, action: Body) -> None:
        """ "Details" under a check report: steps, banner, TLS and certificate per port."""
        followup = Followup(self.client, body)
        report = await self.checker.report_for(str(action.get("value")))
        if report is None:
            await followup.note(blocks.notice(EXPIRED))
            return
        detail, text = check_render.to_detail_blocks(report)
        await followup.add(Message(text=text, blocks=tuple(detail)))

    async def check_from_answer(self, body: Body, action: Body) -> None:
        """ "Run live check" under an answer: "Checking..." first, then the report."""
        followup = Followup(self.client, body)
        parsed = parse(action["value"])
        request = self.prepare_check(parsed) if isinstance(parsed, Check) else None
        if not isinstance(request, CheckRequest):
            await followup.note(request or blocks.notice("That is not a check I can run."))
            return
        await followup.note(blocks.notice(check_render.checking(request.describe())))
        await followup.add(await self.run_check(request, followup.user, _team(body)))

    # --- errors -----------------------------------------------------------------------------

    async def on_error(self, error: Exception, body: Body) -> BoltResponse:
        """A listener raised before answering Slack: log, and answer with an apology."""
        log.error("listener failed: %r", error, exc_info=error)
        if "command" in body:
            apology = {"response_type": "ephemeral", **blocks.apology().payload()}
            headers: dict[str, str | Sequence[str]] = {"content-type": "application/json"}
            return BoltResponse(status=200, body=json.dumps(apology), headers=headers)
        self.background.start(self.apologise(body))
        return BoltResponse(status=200, body="")

    async def apologise(self, body: Body, message: Message | None = None) -> None:
        """Tell the user something went wrong (`message`, or the general apology), where they
        asked; log if even that fails."""
        apology = (message or blocks.apology()).payload()
        event = body.get("event", {})
        try:
            if body.get("response_url"):
                options = {"response_type": "ephemeral", "replace_original": False}
                await post_response(self.client, body["response_url"], {**apology, **options})
            elif event.get("channel") and event.get("type") in ("app_mention", "message"):
                await self.client.chat_postMessage(
                    channel=event["channel"], thread_ts=_thread_ts(event), **apology
                )
        except Exception as error:
            reason = why_undelivered(error) or repr(error)[:200]
            log.warning("could not deliver the apology: %s", reason)
