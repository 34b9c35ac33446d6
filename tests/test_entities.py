"""Ports and concepts are recognised before fuzzy scoring."""

import pytest

from bot.match.entities import canonical_words, extract, find_ports

KNOWN = {25, 110, 143, 465, 587, 993, 995, 2525, 22, 53, 443, 8080}


@pytest.mark.parametrize(
    ("text", "ports"),
    [
        ("what is 587", (587,)),
        ("port 465?", (465,)),
        ("tcp/993", (993,)),
        ("smtp.example.com:2525 times out", (2525,)),
        ("25/udp or tcp", (25,)),
        ("can I use 587 instead of 25", (587, 25)),
        ("port 8443 for webmail", (8443,)),
        ("port twenty five", (25,)),
        ("what is smtps", (465,)),
        ("what's a 5.1.1 NDR", ()),
        ("remind me at 3pm", ()),
        ("534-5.7.9 application-specific password required", ()),
        ("we send 500 mails a day in 2026", ()),
        ("port 99999", ()),
        ("ELI5 port 25", (25,)),
        ("Invalid login: 535 Authentication failed", ()),
        ("[::1]:2525 refused", (2525,)),
    ],
)
def test_find_ports(text: str, ports: tuple[int, ...]) -> None:
    assert find_ports(text, KNOWN) == ports


@pytest.mark.parametrize(
    ("text", "concepts"),
    [
        ("outgoing smpt server", {"send", "smtp"}),
        ("Office 365 / O365 / M365 settings", {"outlook"}),
        ("google mail or gmail", {"gmail"}),
        ("pop 3 vs imap", {"pop3", "imap"}),
        ("is it encrypted with ssl or starttls", {"encrypt", "ssl", "starttls"}),
        ("firewalld blocked it, connection timed out", {"firewall", "blocked", "timeout"}),
        ("udp or tcp", {"udp", "tcp"}),
    ],
)
def test_concepts(text: str, concepts: set[str]) -> None:
    assert extract(text, KNOWN).concepts == concepts


def test_canonical_words_use_one_word_per_concept() -> None:
    assert canonical_words("Outgoing SMPT via office 365") == ["send", "smtp", "via", "outlook"]
    assert canonical_words("ISP restricting 25") == ["isp", "blocked", "25"]


def test_a_move_between_providers_keeps_the_destination() -> None:
    assert extract("moving from G Suite to Office 365, smtp?", KNOWN).concepts == {
        "outlook",
        "smtp",
    }
    assert canonical_words("from gmail to outlook") == ["from", "to", "outlook"]
    assert extract("gmail or outlook", KNOWN).concepts == {"gmail", "outlook"}
