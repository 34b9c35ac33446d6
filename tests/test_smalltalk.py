"""Small talk is no question: a short reply, never an answer or a "did you mean"."""

from __future__ import annotations

import pytest

from bot.engine.facade import Engine
from bot.match import smalltalk
from bot.match.smalltalk import Kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("thanks!", Kind.THANKS),
        ("thank you so much :pray:", Kind.THANKS),
        ("ok thx", Kind.THANKS),
        ("hi", Kind.GREETING),
        ("hello there", Kind.GREETING),
        ("test", Kind.GREETING),
        ("?", Kind.GREETING),
        (":+1:", Kind.GREETING),
        ("lol", Kind.GREETING),
        ("<@U0BOT> hey", Kind.GREETING),
        ("thanks!! you're the best", Kind.THANKS),
        ("cheers mate, that fixed it", Kind.THANKS),
        ("that worked, brilliant", Kind.GREETING),
    ],
)
def test_small_talk_is_recognised(text: str, kind: Kind) -> None:
    assert smalltalk.kind(text) is kind


@pytest.mark.parametrize(
    "text",
    [
        "hi, can I use 587 instead of 25?",
        "test smtp connection",
        "thanks but gmail still says 535",
        "thanks, that worked for imap but smtp still fails",
        "is 587 the best port?",
        "ok so which port for imap",
        "465",
        "starttls",
        "hello " * 9,
    ],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert smalltalk.kind(text) is None


@pytest.mark.parametrize("text", ["test", "hi", "?", "lol", "thanks!"])
def test_noise_is_never_answered_or_suggested(engine: Engine, text: str) -> None:
    answer = engine.ask(text)
    assert answer.status == "no_match" and answer.small_talk
    assert answer.entry is None and answer.suggestions == ()
