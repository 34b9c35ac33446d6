"""`/mailport` in every form, answered in the ack itself; signatures; health."""

from __future__ import annotations

import time

import aiohttp
from slack_harness import (
    FakeSlack,
    SlackClient,
    action_ids,
    button,
    mention_event,
    running_app,
    sign,
    texts,
)

from bot.check import Checker
from bot.check.guard import StaticResolver
from bot.engine.facade import Engine
from bot.settings import Settings
from bot.store import SQLiteStore


async def test_healthz(slack: SlackClient, engine: Engine) -> None:
    await slack.command("port 25")
    assert await slack.health() == {
        "ok": True,
        "entries": len(engine.kb.entries),
        "store": "ok",
        "replies": {"pending": 0, "started": 0, "shed": 0},
        "requests": {"rejected": 0, "replayed": 0, "malformed": 0},
    }


async def test_help_forms(slack: SlackClient) -> None:
    for text in ("", "help", "  HELP  "):
        answer = await slack.command(text)
        assert answer["response_type"] == "ephemeral"
        assert "/mailport 465" in texts(answer["blocks"])
        assert "/mailport check" in texts(answer["blocks"])
        assert answer["text"]


async def test_port_card_in_the_ack(slack: SlackClient) -> None:
    answer = await slack.command("465")
    assert answer["response_type"] == "ephemeral"
    kinds = [b["type"] for b in answer["blocks"]]
    assert kinds[0] == "header" and "465" in answer["blocks"][0]["text"]["text"]
    assert kinds.count("table") == 1
    table = next(b for b in answer["blocks"] if b["type"] == "table")
    assert table["rows"][1][0]["text"] == "465"
    assert "465" in answer["text"] and "```" in answer["text"]
    assert button(answer["blocks"], "share")["value"] == "port:465"
    assert {"helpful", "not_helpful", "full_answer", "share"} <= set(action_ids(answer["blocks"]))
    assert slack.fake.to("response_url") == []


async def test_non_mail_and_invalid_ports(slack: SlackClient) -> None:
    assert "not an email port" in texts(await slack.command("port 22"))
    assert "not a valid TCP port" in texts(await slack.command("99999"))


async def test_a_number_that_is_no_port_gets_no_port_card(slack: SlackClient) -> None:
    for text in ("99999", "0", "port 65536"):
        answer = await slack.command(text)
        kinds = {b["type"] for b in answer["blocks"]}
        assert kinds == {"section"}, text
        said = texts(answer)
        assert "Port " not in said and "65535" in said and "share" not in said
    await slack.event(mention_event("99999", ts="8.0"))
    [reply] = await slack.fake.wait_for("chat.postMessage")
    assert {b["type"] for b in reply["blocks"]} == {"section"} and "65535" in reply["text"]


async def test_question_is_answered_with_layout(slack: SlackClient, engine: Engine) -> None:
    question = "can I use 587 instead of 25?"
    expected = engine.ask(question)
    assert expected.status == "answered" and expected.entry
    answer = await slack.command(question)
    blocks = answer["blocks"]
    kinds = [b["type"] for b in blocks]
    assert kinds[0] == "header" and blocks[0]["text"]["text"] == expected.entry.question
    assert kinds[1] == "section"
    assert "table" in kinds
    context = texts([b for b in blocks if b["type"] == "context"])
    assert "Sources:" in context and "Reviewed" in context
    assert button(blocks, "share")["value"] == f"ask:{question}"
    assert button(blocks, "helpful")["value"] == expected.entry.id
    if expected.entry.related:
        assert "related_0" in action_ids(blocks)
    assert len(action_ids(blocks)) == len(set(action_ids(blocks)))


async def test_no_match_is_honest_and_noted(slack: SlackClient, store: SQLiteStore) -> None:
    answer = await slack.command("qwzx vbnm plokij")
    said = texts(answer)
    assert "I don't have a reviewed answer" in said
    assert "check" in said and "share" not in action_ids(answer["blocks"])
    again = await slack.command("qwzx vbnm plokij")
    assert again == answer
    await slack.fake.quiet(0.05)
    [noted] = await store.top_unanswered()
    assert (noted.question, noted.count) == ("qwzx vbnm plokij", 2)


async def test_user_text_is_escaped(slack: SlackClient) -> None:
    # Slack sends typed "<" ">" "&" as entities; the echo must not turn them back into markup.
    answer = await slack.command("&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; qwzx")
    said = texts(answer)
    assert "<!channel>" not in said and "<https://evil" not in said
    assert "&lt;!channel&gt;" in said and "&amp;" in said


async def test_bad_signature_and_old_timestamp_get_401(slack: SlackClient) -> None:
    body, kind = slack.command_body("465")
    wrong = {"x-slack-signature": "v0=" + "0" * 64}
    old = sign(body, timestamp=int(time.time()) - 600)
    other_secret = sign(body, secret="not-the-secret")
    for headers in (wrong, old, other_secret):
        status, answer = await slack.post(body, kind, headers)
        assert status == 401, answer
    url = f"{slack.server.url}/slack/events"
    async with slack.session.post(url, data=body, headers={"content-type": kind}) as response:
        assert response.status == 401
    await slack.fake.quiet(0.1)
    assert slack.fake.calls == []


async def test_unsigned_event_does_nothing(slack: SlackClient) -> None:
    body = slack.event_body({"type": "app_mention", "channel": "C1", "ts": "1.2", "text": "hi"})
    url = f"{slack.server.url}/slack/events"
    headers = {
        "content-type": "application/json",
        "x-slack-signature": "v0=bad",
        "x-slack-request-timestamp": str(int(time.time())),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        assert response.status == 401
    await slack.fake.quiet(0.2)
    assert slack.fake.calls == []


async def test_url_verification(slack: SlackClient) -> None:
    body = '{"token":"legacy","challenge":"abc123","type":"url_verification"}'
    status, answer = await slack.post(body, "application/json")
    assert status == 200 and answer == {"challenge": "abc123"}


async def test_settings_verb_answers_in_the_ack(slack: SlackClient) -> None:
    answer = await slack.command("settings sendgird")
    assert answer["response_type"] == "ephemeral"
    assert "smtp.sendgrid.net" in texts(answer) and "share" in action_ids(answer["blocks"])
    missing = await slack.command("settings <!channel> nosuchprovider")
    assert "I have no settings for" in texts(missing) and "<!channel>" not in texts(missing)


async def test_settings_by_mx_and_in_a_thread(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> None:
    table = {"acme-widgets.com": {"MX": ["1 smtp.google.com."]}}
    checker = Checker(settings, store, resolver=StaticResolver(table))
    async with running_app(fake, settings, engine, store, checker) as slack:
        answer = await slack.command("settings jane@acme-widgets.com")
        assert "smtp.gmail.com" in texts(answer)
        assert "acme-widgets.com receives its mail at smtp.google.com" in texts(answer)
        await slack.event(mention_event("settings fastmail", ts="1700000009.000100"))
        [reply] = await fake.wait_for("chat.postMessage")
        assert reply["thread_ts"] == "1700000009.000100" and "imap.fastmail.com" in texts(reply)
