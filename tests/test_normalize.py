"""Slack markup is removed before matching; the words people typed survive."""

import pytest

from bot.match.normalize import MAX_CHARS, strip_slack


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@U024BE7LH> what is port 25", "what is port 25"),
        ("<@U024BE7LH|alice> hi", "hi"),
        ("see <#C123ABC|mail-ops> about 587", "see mail-ops about 587"),
        ("<!channel> is 465 ok", "is 465 ok"),
        ("<!subteam^S123|@oncall> smtp?", "smtp?"),
        ("docs: <https://example.com/x|the guide> say 587", "docs: the guide say 587"),
        ("host <http://smtp.gmail.com|smtp.gmail.com> port", "host smtp.gmail.com port"),
        ("mail <mailto:bob@example.com|bob@example.com>", "mail bob@example.com"),
        ("bare <https://example.com/a>", "bare example.com/a"),
        (":sweat_smile: what's tcp 995 :+1:", "what's tcp 995"),
        ("is *587* _secure_ ~really~?", "is 587 secure really ?"),
        ("`telnet smtp.gmail.com 587` fails", "telnet smtp.gmail.com 587 fails"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("  lots \n of\t space ", "lots of space"),
    ],
)
def test_strip_slack(raw: str, expected: str) -> None:
    assert strip_slack(raw) == expected


def test_huge_text_is_capped() -> None:
    assert len(strip_slack("port 25 " * 100_000)) <= MAX_CHARS


@pytest.mark.parametrize(
    "kept",
    ["2001:db8:1::25", "2001:db8::1", "::ffff:192.0.2.1", "64:ff9b::a:b", "10:30:45", "at 9:05:00"],
)
def test_addresses_and_times_survive(kept: str) -> None:
    assert strip_slack(f"check {kept} please") == f"check {kept} please"


@pytest.mark.parametrize(
    "emoji", [":thumbsup:", ":+1:", ":white_check_mark:", ":+1::skin-tone-2:", ":100:"]
)
def test_emoji_are_still_removed(emoji: str) -> None:
    assert strip_slack(f"{emoji} port 587 {emoji}") == "port 587"
    assert strip_slack(f"at 10:30:45 {emoji}") == "at 10:30:45"


@pytest.mark.parametrize("emoji", [":thumbsup:", ":+1:", ":white_check_mark:"])
def test_emoji_touching_words_are_removed(emoji: str) -> None:
    assert strip_slack(f"thanks{emoji}{emoji}") == "thanks"


def test_matching_drops_every_colon_word() -> None:
    assert strip_slack("error:0A00010B:SSL :+1:", for_matching=True) == "error SSL"
