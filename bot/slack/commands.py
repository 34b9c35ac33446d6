"""Slack's grammar for the verbs (`/mailport ...`, mentions, DMs), read from `bot.verbs`."""

from __future__ import annotations

import re

from bot.verbs import (
    HELP_ALIASES,
    SLACK_VERBS,
    Check,
    Command,
    Help,
    PortQuery,
    Question,
    SettingsQuery,
    Slack,
    bind,
)

__all__ = ["Check", "Command", "Help", "PortQuery", "Question", "SettingsQuery", "parse"]

MAX_INPUT_CHARS = 4000

_BARE_PORT = re.compile(r"^\s*(?:(?:tcp|port)\s*[/#:]?\s*)*(\d{1,6})\s*[?.!]*\s*$", re.IGNORECASE)
_WORDS = {v.name: v for v in SLACK_VERBS if v.slack is Slack.WORD}


def bare_port(text: str) -> int | None:
    """The number in "465", "port 465?" or "tcp/465"; None for anything else."""
    match = _BARE_PORT.match(text)
    return int(match.group(1)) if match else None


def parse(text: str) -> Command:
    """What the user typed after `/mailport` (or after the mention) as a command: a verb's
    word and its arguments, else a bare port number, else a question."""
    text = text.strip()[:MAX_INPUT_CHARS]
    words = text.split()
    if not words or words[0].lower() in HELP_ALIASES:
        return Help()
    verb = _WORDS.get(words[0].lower())
    command = bind(verb, words[1:]) if verb else None
    if command is not None:
        return command
    port = bare_port(text)
    if port is not None:
        return PortQuery(port)
    return Question(text)
