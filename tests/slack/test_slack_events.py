"""Mentions and DMs: thread replies, one reply per message, bots and edits ignored, App Home."""

from __future__ import annotations

import dataclasses

from aiohttp import web
from slack_harness import (
    BOT_ID,
    BOT_USER,
    FakeSlack,
    SlackClient,
    mention_event,
    message_event,
    running_app,
    texts,
)

from bot.engine.facade import Engine
from bot.settings import Settings
from bot.store import SQLiteStore


async def test_mention_in_channel_replies_in_a_thread(slack: SlackClient) -> None:
    event = mention_event("which port for smtp submission?", ts="1700000001.000100")
    assert await slack.event(event) == 200
    [reply] = await slack.fake.wait_for("chat.postMessage")
    assert reply["channel"] == "C0CHAN"
    assert reply["thread_ts"] == "1700000001.000100"
    assert reply["text"] and reply["blocks"]
    assert reply["unfurl_links"] is False


async def test_mention_inside_a_thread_stays_in_that_thread(slack: SlackClient) -> None:
    event = mention_event("465", ts="1700000002.000200", thread_ts="1700000000.000001")
    await slack.event(event)
    [reply] = await slack.fake.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "1700000000.000001"
    assert "465" in reply["text"]


async def test_dm_is_answered_in_the_dm(slack: SlackClient) -> None:
    await slack.event(message_event("help"))
    [reply] = await slack.fake.wait_for("chat.postMessage")
    assert reply["channel"] == "D0DM"
    assert "thread_ts" not in reply
    assert "/mailport 465" in texts(reply)


async def test_small_talk_in_a_dm_gets_a_short_reply_and_is_not_noted(
    slack: SlackClient, store: SQLiteStore
) -> None:
    await slack.event(message_event("thanks!", ts="1700000004.000400"))
    [reply] = await slack.fake.wait_for("chat.postMessage")
    assert reply["text"] == "Glad to help." and len(reply["blocks"]) == 1
    await slack.event(message_event("lol", ts="1700000005.000500"))
    [_, hint] = await slack.fake.wait_for("chat.postMessage", count=2)
    assert "which port for IMAP?" in texts(hint) and "995" not in texts(hint)
    await slack.fake.quiet(0.05)
    assert await store.top_unanswered() == []


async def test_a_dm_with_a_file_is_answered(slack: SlackClient) -> None:
    """A screenshot with a question (subtype file_share) gets the answer; a file alone gets
    a word on what to send instead; an edit (message_changed) still gets nothing."""
    files = [{"id": "F0SHOT", "name": "error.png", "mimetype": "image/png"}]
    await slack.event(
        message_event("what is port 465?", subtype="file_share", files=files, ts="1700000006.1")
    )
    [answer] = await slack.fake.wait_for("chat.postMessage")
    assert "465" in answer["text"]
    await slack.event(message_event("", subtype="file_share", files=files, ts="1700000007.1"))
    [_, only] = await slack.fake.wait_for("chat.postMessage", count=2)
    assert "can't read files" in only["text"]
    await slack.event(message_event("port 25", subtype="message_changed", ts="1700000008.1"))
    await slack.fake.quiet(0.2)
    assert len(slack.fake.to("chat.postMessage")) == 2


async def test_mention_in_a_dm_is_answered_once(slack: SlackClient) -> None:
    ts = "1700000003.000300"
    await slack.event(message_event(f"<@{BOT_USER}> 587", ts=ts))
    await slack.event(mention_event("587", ts=ts, channel="D0DM"))
    [reply] = await slack.fake.wait_for("chat.postMessage")
    await slack.fake.quiet()
    assert len(slack.fake.to("chat.postMessage")) == 1
    assert reply["channel"] == "D0DM" and "thread_ts" not in reply


async def test_retried_event_is_not_answered_twice(slack: SlackClient) -> None:
    event = mention_event("what is port 993?")
    assert await slack.event(event, event_id="Ev0RETRY") == 200
    assert await slack.event(event, event_id="Ev0RETRY", retry=1) == 200
    assert await slack.event(event, event_id="Ev0RETRY", retry=2) == 200
    await slack.fake.wait_for("chat.postMessage")
    await slack.fake.quiet()
    assert len(slack.fake.to("chat.postMessage")) == 1


async def test_bots_edits_and_other_messages_are_ignored(slack: SlackClient) -> None:
    ignored = [
        message_event("465", bot_id="B0OTHER", subtype="bot_message"),
        message_event("465", bot_id="B0OTHER"),
        message_event("465", user=BOT_USER, bot_id=BOT_ID),
        message_event("465", subtype="message_changed"),
        message_event("465", subtype="message_deleted"),
        message_event("465", subtype="channel_join"),
        message_event("465", channel="C0CHAN", channel_type="channel"),
        mention_event("465", bot_id="B0OTHER"),
    ]
    for event in ignored:
        assert await slack.event(event) == 200
    await slack.fake.quiet()
    assert slack.fake.to("chat.postMessage") == []


async def test_echoed_event_text_is_escaped(slack: SlackClient) -> None:
    await slack.event(mention_event("&lt;!here&gt; &lt;@U0BOSS&gt; qwzx &amp;&amp; vbnm"))
    [reply] = await slack.fake.wait_for("chat.postMessage")
    said = texts(reply)
    assert "<!here>" not in said and "<@U0BOSS>" not in said
    assert "&lt;!here&gt;" in said


async def test_rate_limited_reply_is_retried(slack: SlackClient) -> None:
    limited = web.json_response(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
    )
    slack.fake.fail_next("chat.postMessage", limited)
    await slack.event(mention_event("465"))
    calls = await slack.fake.wait_for("chat.postMessage", count=2)
    assert calls[0] == calls[1]


def _home_opened(user: str, ts: str) -> dict[str, str]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0DM",
        "tab": "home",
        "event_ts": ts,
    }


async def test_app_home_is_personal_unless_curators_are_set(
    slack: SlackClient, store: SQLiteStore
) -> None:
    """Unanswered questions were asked privately by others: no one sees them on Home until
    curators are named; everyone gets usage and a hint for the admin."""
    await store.record_unanswered("is smtp.acme-secret.com blocked for customer Zed?")
    await slack.event(_home_opened("U0USER", "1700000004.0"))
    [publish] = await slack.fake.wait_for("views.publish")
    view = texts(publish["view"])
    assert "acme-secret" not in view and "For curators" not in view
    assert "MAILPORT_CURATORS" in view and "which port for IMAP?" in view


async def test_app_home_shows_curator_lists_to_curators_only(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> None:
    await store.record_unanswered("does <!channel> use port 1234?")
    await store.record_vote("port-465", "U1", helpful=False)
    fake.usergroups = {"S0DESK": ["U0LEAD"]}
    named = dataclasses.replace(settings, curators=("U0BOSS", "S0DESK", "S0GONE"))
    async with running_app(fake, named, engine, store) as slack:
        for user, ts in (("U0BOSS", "1.0"), ("U0LEAD", "2.0"), ("U0USER", "3.0")):
            await slack.event(_home_opened(user, ts))
        published = await fake.wait_for("views.publish", count=3)
        await slack.event(_home_opened("U0LEAD", "4.0"))
        await fake.wait_for("views.publish", count=4)
    views = {p["user_id"]: texts(p["view"]) for p in published}
    for curator in ("U0BOSS", "U0LEAD"):
        assert "does &lt;!channel&gt; use port 1234?\u201d  asked once" in views[curator]
        assert "<!channel>" not in views[curator]
        assert "What is port 465 used for?" in views[curator]
    assert "1234" not in views["U0USER"] and "For curators" not in views["U0USER"]
    asked = [c.data["usergroup"] for c in fake.calls if c.method == "usergroups.users.list"]
    assert sorted(asked) == ["S0DESK", "S0GONE"]  # read once each, then kept


async def test_messages_tab_does_not_publish(slack: SlackClient) -> None:
    await slack.event(
        {
            "type": "app_home_opened",
            "user": "U0USER",
            "channel": "D0DM",
            "tab": "messages",
            "event_ts": "1700000005.0",
        }
    )
    await slack.fake.quiet(0.2)
    assert slack.fake.to("views.publish") == []


async def test_shutdown_lets_replies_in_flight_finish(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> None:
    fake.delays["chat.postMessage"] = 0.5
    async with running_app(fake, settings, engine, store) as client:
        assert await client.event(mention_event("465")) == 200
    assert fake.answered == ["auth.test", "chat.postMessage"]
