"""The protocol modules' capability parsers: pure functions, no server, no root."""

from __future__ import annotations

from bot.check.imap import ImapDialogue
from bot.check.pop3 import Pop3Dialogue
from bot.check.probe import DIALOGUES
from bot.check.smtp import SmtpDialogue


def test_smtp_reads_starttls_and_both_auth_spellings() -> None:
    caps = ["PIPELINING", "SIZE 10240000", "starttls", "AUTH PLAIN LOGIN", "AUTH=LOGIN XOAUTH2"]
    assert SmtpDialogue.offers_starttls(caps)
    assert SmtpDialogue.auth_mechanisms(caps) == ["PLAIN", "LOGIN", "XOAUTH2"]
    assert SmtpDialogue.cleartext_login(caps)
    assert not SmtpDialogue.offers_starttls(["STARTTLSX", "8BITMIME"])
    assert not SmtpDialogue.cleartext_login(["STARTTLS", "AUTHENTICATE"])


def test_imap_login_counts_unless_disabled() -> None:
    assert ImapDialogue.cleartext_login(["IMAP4rev1", "STARTTLS"])
    assert not ImapDialogue.cleartext_login(["IMAP4rev1", "STARTTLS", "LOGINDISABLED"])
    assert ImapDialogue.auth_mechanisms(["AUTH=PLAIN", "auth=xoauth2"]) == ["PLAIN", "XOAUTH2"]
    assert not ImapDialogue.offers_starttls(["IMAP4rev1", "STARTTLSX"])


def test_pop3_reads_stls_sasl_and_user() -> None:
    caps = ["TOP", "UIDL", "STLS", "SASL PLAIN login"]
    assert Pop3Dialogue.offers_starttls(caps)
    assert Pop3Dialogue.auth_mechanisms(caps) == ["PLAIN", "LOGIN"]
    assert Pop3Dialogue.cleartext_login(["USER", "TOP"])
    assert not Pop3Dialogue.cleartext_login(["TOP", "STLS"])


def test_every_protocol_has_a_dialogue_with_its_greeting_step() -> None:
    assert {d.greeting_step for d in DIALOGUES.values()} == {"banner", "greeting"}
