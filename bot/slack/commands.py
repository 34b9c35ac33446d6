"""The command verbs shared by Slack (`/mailport ...`, mentions, DMs): one parser."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_INPUT_CHARS = 4000

_BARE_PORT = re.compile(r"^\s*(?:(?:tcp|port)\s*[/#:]?\s*)*(\d{1,6})\s*[?.!]*\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Help:
    """Show usage."""


@dataclass(frozen=True, slots=True)
class PortQuery:
    """Show the port card for one number."""

    port: int


@dataclass(frozen=True, slots=True)
class Question:
    """Answer a free-text question from the knowledge base."""

    text: str


@dataclass(frozen=True, slots=True)
class Check:
    """Run a live check; `host` and `ports` are unvetted user text (the guard vets them)."""

    host: str
    ports: tuple[str, ...]
    mx: bool


@dataclass(frozen=True, slots=True)
class SettingsQuery:
    """A provider's server settings; `query` is a name, an address or a domain."""

    query: str


Command = Help | PortQuery | Question | Check | SettingsQuery


def bare_port(text: str) -> int | None:
    """The number in "465", "port 465?" or "tcp/465"; None for anything else."""
    match = _BARE_PORT.match(text)
    return int(match.group(1)) if match else None


def parse(text: str) -> Command:
    """Turn what the user typed after `/mailport` (or after the mention) into a command."""
    text = text.strip()[:MAX_INPUT_CHARS]
    words = text.split()
    if not words or words[0].lower() in ("help", "-h", "--help", "?"):
        return Help()
    if words[0].lower() == "check":
        args = words[1:]
        mx = "--mx" in (a.lower() for a in args)
        rest = [a for a in args if a.lower() != "--mx"]
        return Check(host=rest[0] if rest else "", ports=tuple(rest[1:]), mx=mx)
    if words[0].lower() == "settings" and len(words) > 1:
        return SettingsQuery(" ".join(words[1:]))
    port = bare_port(text)
    if port is not None:
        return PortQuery(port)
    return Question(text)
