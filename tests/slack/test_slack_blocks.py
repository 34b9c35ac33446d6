"""Every knowledge entry and every port card renders within Slack's Block Kit limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_harness import action_ids

from bot.check.report import (
    CertInfo,
    CheckReport,
    HostResult,
    Level,
    PortResult,
    TlsInfo,
    Verdict,
)
from bot.engine.facade import Engine
from bot.match.answers import Answer, Suggestion
from bot.render import blocks
from bot.render import check_blocks as check_render
from bot.render.kit import Message, escape
from bot.slack.commands import Check, parse
from bot.store import Unanswered, Votes

MESSAGE_BLOCKS = 50
HOME_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25


def check_blocks(rendered: list[dict[str, Any]], max_blocks: int = MESSAGE_BLOCKS) -> None:
    """Slack's limits, including the ones slack_sdk does not validate."""
    assert 0 < len(rendered) <= max_blocks
    ids = action_ids(rendered)
    assert len(ids) == len(set(ids)), ids
    assert sum(b["type"] == "table" for b in rendered) <= 1
    for block in rendered:
        kind = block["type"]
        if kind == "section":
            assert 0 < len(block["text"]["text"]) <= SECTION_TEXT
        elif kind == "header":
            assert 0 < len(block["text"]["text"]) <= HEADER_TEXT
        elif kind == "context":
            assert len(block["elements"]) <= CONTEXT_ELEMENTS
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= ACTIONS_ELEMENTS
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= BUTTON_TEXT
                assert len(element["value"]) <= BUTTON_VALUE
        elif kind == "table":
            assert len(block["rows"]) <= 100
            assert all(0 < len(row) <= 20 for row in block["rows"])


def mrkdwn(value: Any) -> list[str]:
    """Every mrkdwn text in blocks (plain_text is never parsed for mentions or links)."""
    if isinstance(value, list):
        return [text for item in value for text in mrkdwn(item)]
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") == "mrkdwn" else []
        return found + [text for item in value.values() for text in mrkdwn(item)]
    return []


def check_message(message: Message) -> dict[str, Any]:
    payload = message.payload()  # to_dict() runs slack_sdk's validators
    assert payload["text"].strip()
    check_blocks(payload["blocks"])
    return payload


def test_every_entry_renders_within_limits(engine: Engine) -> None:
    kb = engine.kb
    assert kb.entries
    for entry in kb.entries.values():
        rows = kb.port_rows(entry.ports)
        payload = check_message(
            blocks.entry_message(entry, rows, kb, note="x" * 300, share_ref="ask:" + "q" * 1900)
        )
        if rows:
            assert "```" in payload["text"], entry.id
            assert all(str(r.port) in payload["text"] for r in rows)
        shared = check_message(blocks.entry_message(entry, rows, kb, shared_by="U1", asked="q"))
        assert "share" not in action_ids(shared["blocks"])


@pytest.mark.parametrize("extra", [0, 1, 22, 2, 99999, 65535, 8080])
def test_every_port_card_renders_within_limits(engine: Engine, extra: int) -> None:
    for port in {*engine.kb.ports, extra}:
        card = engine.port_card(port)
        payload = check_message(blocks.port_card_message(card, share_ref=f"port:{port}"))
        assert str(port) in payload["text"]


def test_ambiguous_and_no_match_render_within_limits(engine: Engine) -> None:
    entries = list(engine.kb.entries.values())
    hostile = "<!channel> " + "&<>" * 2000
    suggestions = tuple(Suggestion(e, 50.0) for e in entries[:5])
    rows = tuple(engine.kb.ports.values())[:30]
    for status in ("ambiguous", "no_match"):
        answer = Answer(hostile, status, 50.0, None, suggestions, rows, note="n" * 500)
        payload = check_message(blocks.answer_message(answer, engine.kb))
        assert "<!channel>" not in str(payload)
        assert len([i for i in action_ids(payload["blocks"]) if i.startswith("suggest_")]) <= 3


def test_help_and_notices_render() -> None:
    for message in (
        blocks.help_message(),
        blocks.apology(),
        blocks.feedback_thanks(True),
        blocks.feedback_thanks(False),
    ):
        check_message(message)


def test_home_view_within_limits(engine: Engine) -> None:
    unanswered = [Unanswered("<!here> " + "why " * 125, 10 - i, 0.0) for i in range(10)]
    votes = [Votes(entry_id, 1, 5) for entry_id in [*list(engine.kb.entries)[:9], "gone"]]
    view = blocks.home_view(unanswered, votes, engine.kb).to_dict()
    check_blocks(view["blocks"], HOME_BLOCKS)
    assert "<!here>" not in str(view)


def test_escape_only_control_characters() -> None:
    assert escape('<!channel> & <https://x|y> "we\'ll"') == (
        '&lt;!channel&gt; &amp; &lt;https://x|y&gt; "we\'ll"'
    )
    assert escape("&amp;") == "&amp;amp;"


def test_long_text_is_split_into_sections() -> None:
    text = ("word " * 100 + "\n") * 20
    parts = blocks.sections(text)
    assert len(parts) > 1
    assert all(len(p.text.text) <= 3000 for p in parts)
    assert " ".join(p.text.text for p in parts).split() == text.split()


def _hostile_report(hosts: int, ports: int) -> CheckReport:
    evil = "<!channel> <https://evil.example|click> & " + "x" * 300
    verdict = Verdict(Level.FAIL, evil, evil, [evil])
    cert = CertInfo(evil, evil, [evil], "a", "b", -3, True, True, "00")
    tls = TlsInfo("TLSv1.3", "TLS_AES", 256, evil, False, 20, evil, evil, False, cert)
    results = [
        PortResult(f"mx{h}", f"192.0.2.{p}", 25, "smtp", "starttls", 12.5, verdict=verdict, tls=tls)
        for h in range(hosts)
        for p in range(ports)
    ]
    return CheckReport(
        query=evil,
        ports=[25],
        mx=True,
        checked_at="2026-01-01T00:00:00+00:00",
        hosts=[
            HostResult(
                evil,
                f"mx{h}",
                mx_preference=h,
                verdict=verdict,
                skipped=[evil],
                ports=results[h * ports : (h + 1) * ports],
            )
            for h in range(hosts)
        ],
        notes=[evil] * 12,
        verdict=verdict,
        cached=True,
    )


@pytest.mark.parametrize(("hosts", "ports"), [(0, 0), (1, 1), (3, 4), (40, 8)])
def test_check_report_within_limits_and_escaped(hosts: int, ports: int) -> None:
    payload = check_message(check_render.to_message(_hostile_report(hosts, ports)))
    said = " ".join([payload["text"], *mrkdwn(payload["blocks"])])
    assert "<!channel>" not in said and "<https://evil" not in said
    assert "&lt;!channel&gt;" in said
    assert payload["blocks"][0]["type"] == "header"
    assert "FAIL" in payload["text"]


def test_run_check_buttons_parse_as_commands(engine: Engine) -> None:
    targets = engine.checks_for(
        "Use smtp.office365.com on 587, or outlook.office365.com:993 and imap.gmail.com:80.", None
    )
    values = [e["value"] for e in blocks.run_check_actions(targets).to_dict()["elements"]]
    assert values == [
        "check smtp.office365.com",
        "check outlook.office365.com 993",
        "check imap.gmail.com",
    ]
    assert parse(values[1]) == Check("outlook.office365.com", ("993",), False)


def test_answer_naming_a_host_offers_a_live_check(engine: Engine) -> None:
    answer = engine.ask("what are the gmail smtp settings for smtp.gmail.com:465")
    assert answer.entry is not None
    payload = check_message(blocks.answer_message(answer, engine.kb))
    values = [
        e["value"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert "check smtp.gmail.com 465" in values


def test_did_you_mean_shows_each_short_answer(engine: Engine) -> None:
    """Each close answer is readable without a click, and the fallback text is one clean
    sentence per option."""
    options = tuple(Suggestion(engine.kb.entries[i], 50.0) for i in ("port-993", "port-465"))
    answer = Answer("which tls port for mail", "ambiguous", 50.0, None, options, ())
    message = blocks.answer_message(answer, engine.kb)
    said = json.dumps(message.payload()["blocks"])
    for suggestion in answer.suggestions:
        first = suggestion.entry.short[:30]
        assert first in message.text and first in said
    assert "??" not in message.text and "??" not in said
