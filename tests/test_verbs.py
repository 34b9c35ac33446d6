"""One table of verbs feeds Slack's parser, the command line, the help and the usage hint."""

from __future__ import annotations

import pytest

from bot import cli
from bot.render import blocks
from bot.slack.commands import parse
from bot.verbs import (
    CLI_VERBS,
    SLACK_VERBS,
    VERBS,
    Arity,
    Check,
    Help,
    Question,
    SettingsQuery,
    Slack,
    bind,
    name_of,
    slack_examples,
    usage_hint,
)


@pytest.mark.parametrize("verb", SLACK_VERBS, ids=lambda v: v.name)
def test_every_slack_example_parses_into_its_verb(verb) -> None:
    assert verb.examples and verb.hint
    for text, _ in verb.examples:
        assert name_of(parse(text)) == verb.name, text


@pytest.mark.parametrize("verb", CLI_VERBS, ids=lambda v: v.name)
def test_every_cli_verb_has_its_arguments_and_handler(verb) -> None:
    words = {Arity.ONE: ["25"], Arity.SOME: ["x"], Arity.ANY: [], Arity.FLAG: [], Arity.OPTION: []}
    argv = [*verb.name.split(), *(w for p in verb.params for w in words[p.arity])]
    args = cli.build_parser().parse_args(argv)
    assert args.func is cli.HANDLERS[verb.name]
    for param in verb.params:
        assert hasattr(args, param.name), param.name
    assert hasattr(args, "json") == bool(verb.json)


def test_the_cli_offers_exactly_the_table() -> None:
    assert set(cli.HANDLERS) == {v.name for v in CLI_VERBS}
    assert {v.name for v in VERBS if not v.cli} == {"help"}


def test_help_and_usage_hint_list_every_slack_verb() -> None:
    shown = " ".join(b["text"]["text"] for b in blocks.help_message().payload()["blocks"][1:3])
    for example, what in slack_examples():
        assert f"`{example}`" in shown and what in shown
    assert usage_hint().count("|") == len(SLACK_VERBS) - 1
    assert "settings yahoo" in usage_hint()


def test_bind_reads_flags_anywhere_and_joins_text() -> None:
    check = next(v for v in VERBS if v.name == "check")
    assert bind(check, ["--MX", "example.com"]) == Check("example.com", (), True)
    assert bind(check, ["mail.example.com", "25", "--mx", "465"]) == Check(
        "mail.example.com", ("25", "465"), True
    )
    settings = next(v for v in VERBS if v.name == "settings")
    assert bind(settings, ["yahoo", "mail"]) == SettingsQuery("yahoo mail")
    assert bind(settings, []) is None


def test_implicit_verbs_are_not_words() -> None:
    assert {v.name for v in VERBS if v.slack is Slack.IMPLICIT} == {"port", "ask"}
    assert parse("port") == Question("port") and parse("ask me") == Question("ask me")
    assert parse("HELP me") == Help()
