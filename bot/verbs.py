"""Every verb, declared once: its name, arguments, help and examples.

Slack's parser (`bot/slack/commands.py`), the `mailport` argument parser (`bot/cli.py`), the
Slack help message (`bot/render/blocks.py`) and the manifest's usage hint (`manifest.yml`,
tested against `usage_hint`) all read `VERBS`. A new verb is one row here, the command it
parses into, and one handler in each adapter that offers it (each adapter checks at start
that it has a handler for every verb it offers).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


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


class Arity(Enum):
    """How many words an argument takes."""

    ONE = "one"  # exactly one word
    ANY = "any"  # zero or more words
    SOME = "some"  # one or more words
    FLAG = "flag"  # `--name`, anywhere among the words
    OPTION = "option"  # `--name VALUE` (the command line only)


class Slack(Enum):
    """How Slack reaches a verb."""

    WORD = "word"  # `/mailport NAME ...`
    IMPLICIT = "implicit"  # by the shape of the text (a bare port, or any other text)
    NO = "no"  # the command line only


def port_number(raw: str) -> int:
    """A port number argument, 1 to 65535."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"ports run from 1 to 65535, not {value}")
    return value


def positive_int(raw: str) -> int:
    """A count argument, 1 or more."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


@dataclass(frozen=True, slots=True)
class Param:
    """One argument, for both parsers (`name` is also the command's field in Slack).
    `joined`: the words as one text ("yahoo mail"), not a list; `type` and `default` are
    the command line's."""

    name: str
    help: str
    arity: Arity = Arity.ONE
    joined: bool = False
    type: Callable[[str], object] | None = None
    default: object = None
    metavar: str | None = None


@dataclass(frozen=True, slots=True)
class Verb:
    """One verb. `command` is what Slack parses it into; `examples` are (what follows
    `/mailport`, what it shows) for Slack's help; `hint` is its part of the slash command's
    usage hint; `json` is the help of the CLI's `--json`, when it has one."""

    name: str
    summary: str
    params: tuple[Param, ...] = ()
    command: Callable[..., Command] | None = None
    slack: Slack = Slack.WORD
    cli: bool = True
    examples: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    description: str = ""
    json: str = ""

    @property
    def group(self) -> str | None:
        """`kb` for `kb check`: the CLI nests two-word verbs under their first word."""
        first, _, rest = self.name.partition(" ")
        return first if rest else None


SLASH_COMMAND = "/mailport"

HELP_ALIASES = frozenset({"-h", "--help", "?"})
"""What else asks Slack for help, besides `help` and an empty command."""

GROUPS = {"kb": "knowledge base tools"}
"""Help for the first word of two-word verbs."""

VERBS = (
    Verb(
        "port",
        "show what a port number is for",
        (Param("number", "a port number, 1 to 65535", type=port_number),),
        PortQuery,
        slack=Slack.IMPLICIT,
        examples=(("465", "what a port is for, with its port-table row"),),
        hint="465",
        json="one JSON object",
    ),
    Verb(
        "ask",
        "answer a question from the knowledge base",
        (Param("question", "the question (omit to read lines from stdin)", Arity.ANY, True),),
        Question,
        slack=Slack.IMPLICIT,
        examples=(("can a customer use 587 instead of 25?", "ask a question in your own words"),),
        hint="your question",
        json="one JSON object per question",
    ),
    Verb(
        "settings",
        "a provider's server settings (by name, email address or domain)",
        (Param("query", "e.g. yahoo, jane@comcast.net, example.com", Arity.SOME, True),),
        SettingsQuery,
        examples=(("settings yahoo", "a provider's servers, by name, address or domain"),),
        hint="settings yahoo",
        description="Exit status: 0 found, 1 no settings known, 2 refused input.",
        json="one JSON object (as ask --json)",
    ),
    Verb(
        "check",
        "check a mail server live (banner, TLS, certificate, AUTH)",
        (
            Param("host", "host name or IP address (a domain with --mx)"),
            Param(
                "ports",
                "mail ports (25 465 587 2525 143 993 110 995), names such as imaps, or all; "
                "default by host name (smtp*/mail*/mx*: 25 465 587, imap*: 143 993, "
                "pop*: 110 995)",
                Arity.ANY,
            ),
            Param("mx", "check port 25 on each MX of the domain", Arity.FLAG),
        ),
        Check,
        examples=(
            ("check smtp.example.com 587", "live check: banner, TLS, certificate, AUTH"),
            ("check example.com --mx", "check port 25 on each MX host of a domain"),
        ),
        hint="check smtp.example.com 587",
        description="Exit status: 0 every port OK, 1 any WARNING or FAIL, 2 refused input.",
        json="JSON (schema mailport.check/1)",
    ),
    Verb(
        "help",
        "usage and examples",
        command=Help,
        cli=False,
        examples=(("help", "this message"),),
        hint="help",
    ),
    Verb("kb check", "validate every entry and the port table", slack=Slack.NO),
    Verb(
        "kb fit",
        "fit the matcher's decision by cross-validation and report each entry's recall",
        slack=Slack.NO,
    ),
    Verb(
        "serve",
        "run the Slack app (HTTP, or Socket Mode)",
        (Param("socket", "Socket Mode (default when SLACK_APP_TOKEN is set)", Arity.FLAG),),
        slack=Slack.NO,
    ),
    Verb(
        "report",
        "top unanswered questions and most down-voted answers",
        (
            Param(
                "limit",
                "rows per list (default 10)",
                Arity.OPTION,
                type=positive_int,
                default=10,
                metavar="N",
            ),
        ),
        slack=Slack.NO,
    ),
)

SLACK_VERBS = tuple(v for v in VERBS if v.slack is not Slack.NO)
CLI_VERBS = tuple(v for v in VERBS if v.cli)
BY_NAME = {v.name: v for v in VERBS}


def name_of(command: Command) -> str:
    """The verb a parsed command belongs to."""
    return _NAMES[type(command)]


_NAMES = {v.command: v.name for v in VERBS if v.command is not None}


def slack_examples() -> list[tuple[str, str]]:
    """Slack's help: (what to type, what it shows) for every Slack verb's examples."""
    return [(f"{SLASH_COMMAND} {text}", what) for v in SLACK_VERBS for text, what in v.examples]


def usage_hint() -> str:
    """The slash command's usage hint: each Slack verb's shortest form."""
    return "[" + " | ".join(v.hint for v in SLACK_VERBS) + "]"


def bind(verb: Verb, words: list[str]) -> Command | None:
    """Slack words after a verb's name as its command: flags anywhere, then the positional
    arguments in order (a missing `ONE` is "", for the handler to explain); None when a
    `SOME` argument gets no word, so the text is not this verb."""
    if verb.command is None:
        raise TypeError(f"{verb.name} is not a Slack verb")
    flags = {f"--{p.name}": p.name for p in verb.params if p.arity is Arity.FLAG}
    values: dict[str, str | tuple[str, ...] | bool] = {
        name: any(w.lower() == flag for w in words) for flag, name in flags.items()
    }
    rest = [w for w in words if w.lower() not in flags]
    for param in verb.params:
        if param.arity is Arity.ONE:
            values[param.name] = rest.pop(0) if rest else ""
        elif param.arity in (Arity.ANY, Arity.SOME):
            if param.arity is Arity.SOME and not rest:
                return None
            values[param.name] = " ".join(rest) if param.joined else tuple(rest)
            rest = []
    return verb.command(**values)
