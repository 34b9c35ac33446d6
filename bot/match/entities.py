"""Entities found in a question before any fuzzy scoring: port numbers and concepts.

Concepts are synonym groups ("smpt", "outgoing" and "sending" are all `smtp`;
"o365" and "office 365" are `outlook`). `canonical_words` rewrites text so that both
the question and the knowledge base use the same word for the same thing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# concept: the words and phrases that mean it, "|" between phrases. Multi-word phrases are
# replaced before single words are looked at.
SYNONYMS = """
smtp: smpt | stmp | smtpd | esmtp | mta | mtas
send: outgoing | sending | sends | outbound
receive: incoming | receiving | receives
imap: imap4 | imap 4
pop3: pop | pop 3
465: smtps | submissions | four sixty five | four six five
993: imaps | nine ninety three
995: pop3s | pops | nine ninety five
25: twenty five | twenty-five
587: five eighty seven | five eight seven
110: one ten
143: one forty three
starttls: stls
implicit: implicit tls | implicit ssl | tls on connect
encrypt: encrypted | encryption | encrypts | secure | secured
plaintext: cleartext | unencrypted | insecure | plain | plain text | without encryption
    | without ssl | without tls | no encryption | not encrypted | non ssl
gmail: googlemail | gsuite | google | google mail | google workspace | g suite
outlook: office365 | o365 | m365 | ms365 | hotmail | msft | office 365 | microsoft 365
    | ms 365 | exchange online | outlook com | live com
firewall: firewalld | ufw | iptables | nftables | acl | whitelist | allowlist | allow list
blocked: block | blocks | blocking | filter | filtered | filtering | restrict | restricted | ban
    | banned | throttle | throttled
open: opened | listening | reachable
letsencrypt: lets encrypt | let s encrypt
test: testing | tested | tests | verify | verifying | confirm | confirming | probe | telnet
timeout: timeouts | hangs | hanging | timed out | times out | time out | timing out | etimedout
    | timedout
"""


def _synonyms(table: str) -> dict[str, str]:
    mapping = {}
    for line in table.replace("\n    |", " |").strip().splitlines():
        concept, _, words = line.partition(":")
        for word in words.split("|"):
            mapping[word.strip()] = concept.strip()
    return mapping


_ALL = _synonyms(SYNONYMS)
PHRASES: Mapping[str, str] = {k: v for k, v in _ALL.items() if " " in k}
WORDS: Mapping[str, str] = {k: v for k, v in _ALL.items() if " " not in k}
CONCEPTS = frozenset(
    "smtp send receive imap pop3 starttls tls ssl encrypt plaintext implicit gmail outlook "
    "firewall blocked open udp tcp timeout test".split()
)
# A broader term added beside each member, so "encrypted" and "tls" share some meaning.
FAMILIES: Mapping[str, str] = {
    **dict.fromkeys(("starttls", "tls", "ssl", "encrypt", "plaintext", "implicit"), "crypto"),
    "send": "smtp",
}
SETTINGS_WORDS = frozenset(
    "port ports server servers setting settings host hostname config configure setup".split()
)
CLIENT_WORDS = frozenset(
    """
    thunderbird iphone ipad android phone printer scanner copier mfp nas synology postfix exim
    sendmail relayhost phpmailer nodemailer smtplib laravel django wordpress wp plugin crm erp
    app apps client clients
    """.split()
)
PORT_WORDS = frozenset({"25", "110", "143", "465", "587", "993", "995"})
PROVIDERS = frozenset({"gmail", "outlook"})

_PHRASE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)) + r")\b"
)
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"(?<![\w.,\-])(\d{1,5})(?![\w]|[.,]\d)")
_PORT_CUE = re.compile(r"(?:\bports?|\btcp|\budp)\s*[/#:]?\s*$|[\w\]]:$")
_NUMBER_CUE_AFTER = re.compile(r"^\s*/\s*(?:tcp|udp)\b")


@dataclass(frozen=True, slots=True)
class Entities:
    """What a question is about, independent of its wording."""

    ports: tuple[int, ...]
    concepts: frozenset[str]
    settings: bool = False  # asks about configuration: "port", "server", "settings", "host"
    client: bool = False  # names mail software or a device that sends mail


def canonical_words(text: str) -> list[str]:
    """Lower-case words with synonyms replaced by their concept word. In a move between
    providers ("from gsuite to o365") only the destination is kept: it is what the question
    asks about."""
    text = _PHRASE.sub(lambda m: f" {PHRASES[m.group(1)]} ", " ".join(_WORD.findall(text.lower())))
    words = [WORDS.get(word) or WORDS.get(stem(word), word) for word in text.split()]
    return _without_move_source(words)


def _without_move_source(words: list[str]) -> list[str]:
    """Drop provider P in "from P to Q" (Q another provider)."""
    for i in range(len(words) - 3):
        source, link, target = words[i + 1], words[i + 2], words[i + 3]
        moving = words[i] == "from" and link in ("to", "into", "onto")
        if moving and source in PROVIDERS and target in PROVIDERS and source != target:
            return words[: i + 1] + words[i + 2 :]
    return words


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix strip so "blocking", "blocked" and "blocks" share one term."""
    for suffix, keep in (("ing", 4), ("ed", 4), ("es", 5), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def find_ports(text: str, known: Iterable[int], words: list[str] | None = None) -> tuple[int, ...]:
    """Port numbers in `text`: numbers in the port table, or any number written as a port.

    "port 8443", "tcp/25", "host:587" and "25/udp" count; "5.1.1", "3pm", "2026" do not,
    unless the number is in the port table and stands alone.
    """
    known = set(known)
    lowered = _PHRASE.sub(lambda m: f" {PHRASES[m.group(1)]} ", text.lower())
    found: list[int] = []
    for match in _NUMBER.finditer(lowered):
        value = int(match.group(1))
        if not 0 < value < 65536:
            continue
        cued = bool(_PORT_CUE.search(lowered[: match.start()])) or bool(
            _NUMBER_CUE_AFTER.match(lowered[match.end() :])
        )
        if cued or value in known:
            found.append(value)
    if words is None:
        words = canonical_words(text)
    implied = [int(w) for w in words if w in PORT_WORDS]
    return tuple(dict.fromkeys(found + implied))


def extract(text: str, known_ports: Iterable[int], words: list[str] | None = None) -> Entities:
    """Ports and concepts mentioned in `text` (already stripped of Slack markup), whose
    `canonical_words` may be given."""
    if words is None:
        words = canonical_words(text)
    return Entities(
        ports=find_ports(text, known_ports, words),
        concepts=frozenset(words) & CONCEPTS,
        settings=not SETTINGS_WORDS.isdisjoint(words),
        client=not CLIENT_WORDS.isdisjoint(words),
    )
