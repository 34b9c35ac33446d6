"""Slack markup is removed before matching; the words people typed survive."""

import pytest

from bot.normalize import MAX_CHARS, strip_slack


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
