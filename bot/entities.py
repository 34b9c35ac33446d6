"""Entities found in a question before any fuzzy scoring: port numbers and concepts.

Concepts are synonym groups ("smpt", "outgoing" and "sending" are all `smtp`;
"o365" and "office 365" are `outlook`). `canonical_words` rewrites text so that both
the question and the knowledge base use the same word for the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Multi-word phrases first: they are replaced before single words are looked at.
PHRASES: Mapping[str, str] = {
    "office 365": "outlook",
    "microsoft 365": "outlook",
    "ms 365": "outlook",
    "exchange online": "outlook",
    "outlook com": "outlook",
    "live com": "outlook",
    "google mail": "gmail",
    "google workspace": "gmail",
    "g suite": "gmail",
    "timed out": "timeout",
    "times out": "timeout",
    "time out": "timeout",
    "timing out": "timeout",
    "tls on connect": "implicit",
    "ssl tls": "ssl tls",
    "pop 3": "pop3",
    "imap 4": "imap",
    "twenty five": "25",
    "twenty-five": "25",
    "five eighty seven": "587",
    "five eight seven": "587",
    "four sixty five": "465",
    "four six five": "465",
    "nine ninety three": "993",
    "nine ninety five": "995",
    "one ten": "110",
    "one forty three": "143",
    "implicit tls": "implicit",
    "implicit ssl": "implicit",
    "allow list": "whitelist",
}

WORDS: Mapping[str, str] = {
    # smtp / sending
    "smpt": "smtp",
    "stmp": "smtp",
    "smtpd": "smtp",
    "esmtp": "smtp",
    "outgoing": "smtp",
    "sending": "smtp",
    "send": "smtp",
    "sends": "smtp",
    "sender": "smtp",
    "outbound": "smtp",
    "mta": "smtp",
    "mtas": "smtp",
    "smtps": "465",
    "submissions": "465",
    # retrieval
    "imap4": "imap",
    "imaps": "imap",
    "incoming": "imap",
    "receiving": "imap",
    "pop": "pop3",
    "pop3s": "pop3",
    "pops": "pop3",
    # tls
    "starttls": "starttls",
    "stls": "starttls",
    "tls": "tls",
    "ssl": "ssl",
    "encrypt": "encrypt",
    "encrypted": "encrypt",
    "encryption": "encrypt",
    "encrypts": "encrypt",
    "secure": "encrypt",
    "secured": "encrypt",
    "plaintext": "encrypt",
    "cleartext": "encrypt",
    "unencrypted": "encrypt",
    # providers
    "gmail": "gmail",
    "googlemail": "gmail",
    "gsuite": "gmail",
    "google": "gmail",
    "outlook": "outlook",
    "office365": "outlook",
    "o365": "outlook",
    "m365": "outlook",
    "ms365": "outlook",
    "hotmail": "outlook",
    "msft": "outlook",
    # network words
    "firewall": "firewall",
    "firewalld": "firewall",
    "ufw": "firewall",
    "iptables": "firewall",
    "nftables": "firewall",
    "acl": "firewall",
    "whitelist": "firewall",
    "allowlist": "firewall",
    "blocked": "blocked",
    "block": "blocked",
    "blocks": "blocked",
    "blocking": "blocked",
    "filtered": "blocked",
    "filtering": "blocked",
    "restricted": "blocked",
    "banned": "blocked",
    "opened": "open",
    "listening": "open",
    "reachable": "open",
    "udp": "udp",
    "tcp": "tcp",
    "timeout": "timeout",
    "timeouts": "timeout",
    "hangs": "timeout",
    "hanging": "timeout",
}

CONCEPTS = frozenset(
    {
        "smtp",
        "imap",
        "pop3",
        "starttls",
        "tls",
        "ssl",
        "encrypt",
        "implicit",
        "gmail",
        "outlook",
        "firewall",
        "blocked",
        "open",
        "udp",
        "tcp",
        "timeout",
    }
)
PROVIDERS = frozenset({"gmail", "outlook"})

_PHRASE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)) + r")\b"
)
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"(?<![\w.,\-])(\d{1,5})(?![\w]|[.,]\d)")
_PORT_CUE = re.compile(r"(?:\bports?|\btcp|\budp|:)\s*[/#:]?\s*$")
_NUMBER_CUE_AFTER = re.compile(r"^\s*/\s*(?:tcp|udp)\b")


@dataclass(frozen=True, slots=True)
class Entities:
    """What a question is about, independent of its wording."""

    ports: tuple[int, ...]
    concepts: frozenset[str]


def canonical_words(text: str) -> list[str]:
    """Lower-case words with synonyms replaced by their concept word."""
    text = _PHRASE.sub(lambda m: f" {PHRASES[m.group(1)]} ", text.lower())
    return [WORDS.get(word, word) for word in _WORD.findall(text)]


def find_ports(text: str, known: Iterable[int]) -> tuple[int, ...]:
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
    if "465" in canonical_words(text) and 465 not in found:
        found.append(465)
    return tuple(dict.fromkeys(found))


def extract(text: str, known_ports: Iterable[int]) -> Entities:
    """Ports and concepts mentioned in `text` (already stripped of Slack markup)."""
    words = canonical_words(text)
    return Entities(ports=find_ports(text, known_ports), concepts=frozenset(words) & CONCEPTS)
