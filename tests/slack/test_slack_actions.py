"""Buttons (feedback, did-you-mean, related, share) and handler failures."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from slack_harness import (
    FakeSlack,
    SlackClient,
    action_ids,
    button,
    mention_event,
    running_app,
    texts,
)

from bot.engine.facade import Engine
from bot.kb.knowledge import KnowledgeBase
from bot.match.answers import Answer, Suggestion
from bot.settings import Settings
from bot.store import SQLiteStore


def _blocks(data: dict) -> list[dict]:
    blocks = data["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


async def test_share_posts_the_same_answer_publicly(slack: SlackClient) -> None:
    question = "can I use 587 instead of 25?"
    private = await slack.command(question)
    ref = button(private["blocks"], "share")["value"]
    status, _ = await slack.click("share", ref, user="U0SHARER")
    assert status == 200
    public, delete = await slack.fake.wait_for("response_url", count=2)
    assert public["response_type"] == "in_channel" and public["replace_original"] is False
    assert "Shared by <@U0SHARER>" in texts(public)
    assert "share" not in action_ids(public["blocks"])
    header = lambda blocks: next(b for b in blocks if b["type"] == "header")  # noqa: E731
    assert header(public["blocks"]) == header(private["blocks"])
    assert delete == {"delete_original": True}


async def test_share_a_port_card(slack: SlackClient) -> None:
    await slack.click("share", "port:993")
    public, _ = await slack.fake.wait_for("response_url", count=2)
    assert public["response_type"] == "in_channel" and "993" in public["text"]


async def test_feedback_is_stored_and_thanked(slack: SlackClient, store: SQLiteStore) -> None:
    await slack.click("helpful", "port-465", user="U1")
    [thanks] = await slack.fake.wait_for("response_url")
    assert thanks["response_type"] == "ephemeral" and "Thanks" in thanks["text"]
    await slack.click("not_helpful", "port-465", user="U2", ephemeral=False, thread_ts="1.5")
    [note] = await slack.fake.wait_for("chat.postEphemeral")
    assert note["user"] == "U2" and note["thread_ts"] == "1.5"
    await slack.click("not_helpful", "port-465", user="U1", ephemeral=False)
    await slack.fake.wait_for("chat.postEphemeral", count=2)
    votes = await store.votes("port-465")
    assert (votes.helpful, votes.not_helpful) == (0, 2)
    assert (await store.most_downvoted())[0].entry_id == "port-465"


async def test_suggestion_replaces_private_message(slack: SlackClient, engine: Engine) -> None:
    await slack.click("suggest_1", "port-587")
    [shown] = await slack.fake.wait_for("response_url")
    assert shown["replace_original"] is True
    assert _blocks(shown)[0]["text"]["text"] == engine.kb.entries["port-587"].question
    assert button(_blocks(shown), "share")["value"].startswith("ask:")


async def test_suggestion_updates_public_message(slack: SlackClient) -> None:
    await slack.click("suggest_0", "port-587", ephemeral=False, channel="C9", ts="1.7")
    [update] = await slack.fake.wait_for("chat.update")
    assert (update["channel"], update["ts"]) == ("C9", "1.7")
    assert "share" not in action_ids(_blocks(update))
    assert slack.fake.to("response_url") == []


async def test_related_question_in_a_public_thread_is_shown_to_the_clicker(
    slack: SlackClient,
) -> None:
    """One person's click does not post a long answer for the whole channel: it is theirs,
    in the thread, with "Share in channel" if they want everyone to see it."""
    await slack.click("related_0", "port-587", ephemeral=False, ts="2.0", thread_ts="1.0")
    [post] = await slack.fake.wait_for("chat.postEphemeral")
    assert post["thread_ts"] == "1.0" and post["channel"] == "C0CHAN"
    assert post["user"] == "U0USER" and "share" in action_ids(post["blocks"])
    await slack.fake.quiet(0.1)
    assert slack.fake.to("chat.postMessage") == []


async def test_related_falls_back_to_response_url(slack: SlackClient) -> None:
    slack.fake.fail_next(
        "chat.postEphemeral", web.json_response({"ok": False, "error": "not_in_channel"})
    )
    await slack.click("full_answer", "port-465", ephemeral=False, ts="3.0")
    [post] = await slack.fake.wait_for("response_url")
    assert post["response_type"] == "ephemeral" and post["replace_original"] is False


async def test_related_on_private_message_stays_private(slack: SlackClient) -> None:
    await slack.click("related_2", "port-993")
    [post] = await slack.fake.wait_for("response_url")
    assert post["response_type"] == "ephemeral" and post["replace_original"] is False


async def test_removed_entry_is_explained(slack: SlackClient) -> None:
    await slack.click("suggest_0", "no-such-entry")
    [shown] = await slack.fake.wait_for("response_url")
    assert "no longer" in shown["text"] or "left the knowledge base" in shown["text"]


class ScriptedEngine(Engine):
    """The real engine, except for questions scripted by a test."""

    def __init__(self, kb: KnowledgeBase, script: dict[str, Answer | Exception]) -> None:
        super().__init__(kb)
        self.script = script

    def ask(self, question: str) -> Answer:
        scripted = self.script.get(question)
        if isinstance(scripted, Exception):
            raise scripted
        return scripted or super().ask(question)


@pytest.fixture
async def scripted(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> SlackClient:
    kb = engine.kb
    entries = [kb.entries[i] for i in ("port-465", "port-587", "port-25", "port-993")]
    ambiguous = Answer(
        "which smtp port", "ambiguous", 55.0, None, tuple(Suggestion(e, 50.0) for e in entries), ()
    )
    script = {"which smtp port": ambiguous, "boom": RuntimeError("engine down")}
    scripted_engine = ScriptedEngine(kb, script)
    async with running_app(fake, settings, scripted_engine, store) as client:
        yield client


async def test_did_you_mean_offers_three_buttons(scripted: SlackClient) -> None:
    answer = await scripted.command("which smtp port")
    assert "Did you mean" in texts(answer)
    assert action_ids(answer["blocks"]) == ["suggest_0", "suggest_1", "suggest_2"]
    assert button(answer["blocks"], "suggest_1")["value"] == "port-587"


async def test_command_failure_apologises_in_the_ack(scripted: SlackClient) -> None:
    answer = await scripted.command("boom")
    assert answer["response_type"] == "ephemeral"
    assert "Sorry, something went wrong" in answer["text"]


async def test_event_failure_apologises_in_the_thread(scripted: SlackClient) -> None:
    await scripted.event(mention_event("boom", ts="5.0"))
    [reply] = await scripted.fake.wait_for("chat.postMessage")
    assert "Sorry" in reply["text"] and reply["thread_ts"] == "5.0"


async def test_button_failure_apologises_privately(scripted: SlackClient) -> None:
    status, _ = await scripted.click("share", "ask:boom")
    assert status == 200
    [reply] = await scripted.fake.wait_for("response_url")
    assert "Sorry" in reply["text"] and reply["response_type"] == "ephemeral"
