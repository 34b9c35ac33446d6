"""Code and network records: codes found in pasted lines, answers rendered from the records,
network policies beside the blocked-port answer."""

from __future__ import annotations

import pytest

from bot.engine.facade import Engine
from bot.kb.codes import codes_in, sender
from bot.match.kbcheck import check


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("550 5.1.1 <a@b.example>: Recipient address rejected", ["5.1.1", "550"]),
        ("bounce: 552-5.2.2 mailbox full", ["5.2.2", "552"]),
        ("Outlook says 0x800ccc0e", ["0x800CCC0E"]),
        ("what does error 421 mean", ["421"]),
        ("is port 465 open", []),
        ("connect to 10.1.2.3 port 587", []),
        ("version 2.4.1 of postfix", []),
        ("Invalid login: 535", ["535"]),
    ],
)
def test_codes_are_found_in_pasted_text(text: str, codes: list[str]) -> None:
    assert codes_in(text) == codes


@pytest.mark.parametrize(
    ("question", "entry_id", "says"),
    [
        ("NDR 550 5.1.1 user unknown - what does it mean", "code-5-1-1", "Bad destination mailbox"),
        ("got 451 4.4.7 from the relay", "code-4-4-7", "temporary failure"),
        (
            "550 5.7.708 Access denied, traffic not accepted from this IP",
            "code-microsoft-365-5-7-708",
            "Microsoft 365",
        ),
        ("what does smtp reply 554 mean", "code-554", "permanent failure"),
        ("535 5.7.8 Username and Password not accepted", "smtp-auth-errors", ""),
        ("550 5.7.1 Unable to relay", "smtp-auth-errors", ""),
    ],
)
def test_code_questions_are_answered_from_records(
    engine: Engine, question: str, entry_id: str, says: str
) -> None:
    answer = engine.ask(question)
    assert answer.status == "answered" and answer.entry is not None
    assert answer.entry.id == entry_id
    assert says in answer.entry.short + answer.entry.detail
    assert engine.entry_answer(entry_id) is not None, "buttons can show it again"


def test_record_text_cannot_become_slack_markup(engine: Engine) -> None:
    entry = engine.ask("got a 220 greeting, what does it mean").entry
    assert entry is not None and "<domain>" not in entry.detail and "&lt;domain&gt;" in entry.detail


@pytest.mark.parametrize(
    ("question", "network"),
    [
        (
            "ec2 instance cant reach any mx on 25, aws restricting it? how do we get it lifted",
            "Amazon EC2",
        ),
        ("why cant my digitalocean droplet send on 25", "DigitalOcean"),
        ("scaleway smtp blocked?", "Scaleway"),
        ("port 25 doesn't work from my scaleway instance, is it off by default", "Scaleway"),
    ],
)
def test_network_policies_come_with_the_blocked_port_answer(
    engine: Engine, question: str, network: str
) -> None:
    answer = engine.ask(question)
    assert answer.status == "answered" and answer.entry is not None
    assert answer.note.startswith(f"{network} blocks outbound port")
    assert "Source: https://" in answer.note
    assert engine.networks.networks[answer.network].name == network


@pytest.mark.parametrize(
    ("question", "network"),
    [
        (
            "is ec2's port 25 unblock form the same for lightsail, or does lightsail need its own",
            "amazon-lightsail",
        ),
        ("port 25 blocked on my ec2 instance, works on lightsail", "aws-ec2"),
    ],
)
def test_of_two_networks_the_one_asked_about_most_gets_the_policy(
    engine: Engine, question: str, network: str
) -> None:
    blocking = engine.networks.blocking_question(question)
    assert blocking is not None and blocking.id == network


def test_a_network_named_without_a_block_is_left_alone(engine: Engine) -> None:
    answer = engine.ask("how do I set up reverse dns on aws")
    assert not answer.note.startswith("Amazon EC2") and answer.network == ""


def test_every_code_and_network_record_is_sourced(engine: Engine) -> None:
    assert [str(p) for p in check()[0]] == []
    assert len(engine.kb.codes) >= 150 and len(engine.kb.networks) >= 6
    for record in (*engine.kb.codes, *engine.kb.networks):
        assert record.sources and all(s.url.startswith("https://") for s in record.sources)


def test_another_providers_reading_is_no_answer(engine: Engine) -> None:
    """Gmail's 5.7.30 (DKIM) is the only record of that code; a Microsoft 365 bounce with it
    does not get Gmail's meaning."""
    microsoft = engine.ask(
        '"550 5.7.30 Basic authentication is not supported" via smtp.office365.com'
    )
    assert microsoft.entry is None or "gmail" not in microsoft.entry.id
    gmail = engine.ask("gmail bounced with 550 5.7.30, what is it")
    assert gmail.entry is not None and gmail.entry.id == "code-gmail-5-7-30"


@pytest.mark.parametrize(
    ("line", "entry_id"),
    [
        (
            '"550 4.4.7 QUEUE.Expired; message expired" bounce after a day',
            "code-microsoft-365-4-4-7",
        ),
        (
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "code-microsoft-365-5-1-10",
        ),
        (
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
            "code-microsoft-365-5-4-1",
        ),
        (
            "534-5.7.14 <https://accounts.google.com/signin/continue?...> Please log in via your"
            " web browser",
            "code-gmail-5-7-14",
        ),
        ("421 4.7.0 [TSS04] Messages from 198.51.100.4 temporarily deferred", "code-yahoo-4-7-0"),
    ],
)
def test_a_bounce_that_names_no_provider_is_read_by_whose_bounce_it_is(
    engine: Engine, line: str, entry_id: str
) -> None:
    """Exchange Online's status texts, Gmail's help links and Yahoo's [TSSnn] tell whose
    bounce a pasted line is; the general reading is what a line without them gets."""
    answer = engine.ask(line)
    assert answer.entry is not None and answer.entry.id == entry_id
    assert sender("550 5.1.10 recipient not found") == ""
    assert engine.ask("550 4.4.7 message expired").entry.id == "code-4-4-7"  # type: ignore[union-attr]


def test_a_providers_reading_covers_the_other_failure_class(engine: Engine) -> None:
    """Microsoft lists 4.4.316; the same failure after the retries is 5.4.316."""
    answer = engine.ask("office 365 NDR: 550 5.4.316 Message expired, connection refused")
    assert answer.entry is not None and answer.entry.id == "code-microsoft-365-4-4-316"
    assert "5.4.316" in answer.entry.short
    recipient = engine.ask("454 4.7.1 <someone@gmail.com>: Relay access denied")
    assert recipient.entry is not None and "gmail" not in recipient.entry.id, (
        "a general reading of the code comes before a named provider's other class"
    )


@pytest.mark.parametrize(
    ("line", "entry_id"),
    [
        ("550 5.7.64 TenantAttribution; Relay Access Denied ATTR36", "code-microsoft-365-5-7-64"),
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the"
            " Tenant",
            "exchange-online-smtp-auth-mailbox",
        ),
    ],
)
def test_a_providers_reading_explains_an_auth_line_only_when_the_line_quotes_it(
    engine: Engine, line: str, entry_id: str
) -> None:
    """Microsoft's 5.7.139 record is the federated-STS text; the tenant switch's text is
    another 5.7.139, so it goes to the entries on SMTP AUTH."""
    answer = engine.ask(line)
    assert answer.entry is not None
    assert answer.entry.id in (entry_id, "smtp-auth-errors") and "5-7-139" not in answer.entry.id
    if entry_id.startswith("code-"):
        assert answer.entry.id == entry_id


@pytest.mark.parametrize(
    ("line", "entry_id"),
    [
        (
            '"454 4.7.0 TLS not available due to local problem" from a postfix box',
            "postfix-tls-not-available",
        ),
        (
            "554 5.7.1 <someone@external.com>: Relay access denied — our postfix says this",
            "postfix-relay-access-denied",
        ),
    ],
)
def test_an_entry_about_what_the_line_names_beats_the_bare_code(
    engine: Engine, line: str, entry_id: str
) -> None:
    answer = engine.ask(line)
    assert answer.entry is not None and answer.entry.id == entry_id
    assert engine.ask("454 4.7.0 TLS not available").entry.id != entry_id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "entry_id"),
    [
        ("503 5.5.1 Bad sequence of commands right after EHLO", "smtp-503-bad-sequence"),
        (
            '"450 4.7.1 Client host rejected: cannot find your hostname"',
            "postfix-client-hostname-rejected",
        ),
        ("552 5.3.4 Message size exceeds fixed limit, whose limit?", "message-size-limits"),
    ],
)
def test_an_entry_that_declares_the_code_beats_its_general_reading(
    engine: Engine, line: str, entry_id: str
) -> None:
    """An entry's `codes` let it answer the line it explains; a code it does not declare
    keeps the general reading even when the matcher finds the entry."""
    answer = engine.ask(line)
    assert answer.entry is not None and answer.entry.id == entry_id
    assert "5.5.1" in engine.kb.entries["smtp-503-bad-sequence"].codes
    bare = engine.ask("what does 5.5.1 mean")
    assert bare.entry is not None and bare.entry.id == "code-5-5-1"


@pytest.mark.parametrize(
    ("line", "entry_id"),
    [
        ("550-5.1.1 The email account that you tried to reach does not exist", "code-gmail-5-1-1"),
        ("550 5.1.8 Access denied, bad outbound sender", "code-microsoft-365-5-1-8"),
        (
            'gmail imap: "454 4.7.0 Too many login attempts, please try again later"',
            "code-gmail-4-7-0",
        ),
    ],
)
def test_the_senders_own_words_get_its_reading(engine: Engine, line: str, entry_id: str) -> None:
    """A reply text only one provider sends is its reading, and a reading the line quotes says
    more than the provider's settings entry."""
    answer = engine.ask(line)
    assert answer.entry is not None and answer.entry.id == entry_id
    assert engine.ask("550 5.1.8 sender rejected").entry.id == "code-5-1-8"  # type: ignore[union-attr]


def test_a_provider_named_for_its_servers_is_no_blocking_question(engine: Engine) -> None:
    """Telstra BigPond is a network that blocks port 25 and a mailbox provider: "servers seem
    dead" asks for its servers, "blocks port 25" for its policy."""
    servers = engine.ask(
        "Telstra BigPond email: what are the current IMAP/SMTP servers? Old ones seem dead"
    )
    assert servers.entry is not None and servers.entry.id == "settings-ispdb-bigpond-com"
    assert not servers.note.startswith("Telstra")
    blocked = engine.ask("does telstra bigpond block smtp servers on port 25")
    assert blocked.note.startswith("Telstra BigPond blocks outbound port 25")


def test_a_port_the_network_does_not_block_gets_no_blocked_port_answer(engine: Engine) -> None:
    """EC2 blocks 25 only: 587 timing out there is not that block, so the bot does not
    answer with the port 25 entry; the policy still comes as context."""
    answer = engine.ask("aws security group egress allows all, so why would 587 time out? nacl")
    assert answer.entry is None or answer.entry.id != "port-25-blocked"
    assert answer.network == "aws-ec2" and answer.note.startswith("Amazon EC2 blocks")
    blocked = engine.ask("aws ec2 instance times out on 25 to every mx, blocked?")
    assert blocked.entry is not None and blocked.entry.id == "port-25-blocked"
