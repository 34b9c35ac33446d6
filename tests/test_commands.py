"""One parser for what users type after /mailport or a mention."""

import pytest

from bot.slack.commands import (
    MAX_INPUT_CHARS,
    Check,
    Help,
    PortQuery,
    Question,
    SettingsQuery,
    bare_port,
    parse,
)


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "?", "--help"])
def test_help(text: str) -> None:
    assert parse(text) == Help()


@pytest.mark.parametrize("text", ["465", "port 465", "port 465?", "tcp/465", " 465 "])
def test_bare_port(text: str) -> None:
    assert parse(text) == PortQuery(465)


def test_question() -> None:
    assert parse("can I use 587 instead of 25?") == Question("can I use 587 instead of 25?")


def test_check_forms() -> None:
    assert parse("check smtp.example.com 587") == Check("smtp.example.com", ("587",), False)
    assert parse("check example.com --mx") == Check("example.com", (), True)
    assert parse("check") == Check("", (), False)
    assert parse("CHECK mail.example.com 25 465 all") == Check(
        "mail.example.com", ("25", "465", "all"), False
    )


def test_huge_input_is_cut() -> None:
    command = parse("why " * 10_000)
    assert isinstance(command, Question)
    assert len(command.text) <= MAX_INPUT_CHARS


@pytest.mark.parametrize("text", ["what is 465", "465 or 587", "port", "4651234"])
def test_not_bare(text: str) -> None:
    assert bare_port(text) is None


def test_settings_verb() -> None:
    assert parse("settings  jane@comcast.net ") == SettingsQuery("jane@comcast.net")
    assert parse("SETTINGS yahoo mail") == SettingsQuery("yahoo mail")
    assert isinstance(parse("settings"), Question)
