"""Messages that are no question: greetings, thanks, acknowledgements, a bare "test", an emoji
or punctuation alone. They get a short friendly reply, never an answer, a "did you mean" or a
place among the curators' unanswered questions."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.match.normalize import strip_slack


class Kind(StrEnum):
    """What a message that is no question is."""

    THANKS = "thanks"
    GREETING = "greeting"


THANKS = frozenset("thanks thank thx ty tysm cheers appreciated appreciate".split())
# Every word of a greeting or acknowledgement; a message made only of these (and thanks) is
# small talk. Words that could start a real question ("can", "port", "how") are not here.
CHATTER = frozenset(
    """
    hi hello hey hiya yo howdy morning afternoon evening good gm ok okay k kk cool great nice
    perfect awesome got it yes yep yeah no nope sure lol lmao haha hahaha bye ciao test testing
    ping you u so much very a lot mailport bot there all folks team guys np thumbsup
    re are the best for that this it worked works fixed sorted helped helpful really again
    mate man legend amazing brilliant excellent super
    """.split()
)
_WORDS = re.compile(r"[^\W_]+")
MAX_WORDS = 8

REPLIES = {
    Kind.THANKS: "Glad to help.",
    Kind.GREETING: (
        "Hi! Ask me about mail ports, TLS, provider settings or an error code, for example "
        "`which port for IMAP?` or `settings yahoo`; `check HOST` tests a mail server live."
    ),
}


def kind(text: str) -> Kind | None:
    """The kind of small talk `text` is, or None when it may be a question."""
    words = [w.lower() for w in _WORDS.findall(strip_slack(text))]
    if len(words) > MAX_WORDS or not set(words) <= CHATTER | THANKS:
        return None
    return Kind.THANKS if THANKS.intersection(words) else Kind.GREETING


def reply(found: Kind) -> str:
    """The short reply for small talk."""
    return REPLIES[found]
