"""Which live checks an answer offers: hosts the question names, and the servers of the
provider record the answer is about; never a placeholder from an entry's text."""

from __future__ import annotations

import pytest

from bot.engine.facade import Engine


@pytest.mark.parametrize(
    ("question", "offered"),
    [
        ("is mail.acme-widgets.com:587 reachable", ("mail.acme-widgets.com 587",)),
        ("mail.acme-widgets.com:8080 down?", ("mail.acme-widgets.com",)),
        (
            "postfix: connect to gmail-smtp-in.l.google.com[142.250.1.1]:25 timed out",
            ("gmail-smtp-in.l.google.com",),
        ),
        ("telnet smtp.example.com 587 hangs", ()),
        ("set the relay to mail.yourdomain.com", ()),
        ("mail for jane@mail.acme-widgets.com bounces", ()),
        ("what is port 587 used for", ()),
    ],
)
def test_hosts_the_question_names(engine: Engine, question: str, offered: tuple) -> None:
    assert engine.ask(question).checks == offered


def test_an_entry_offers_only_its_records_servers(engine: Engine) -> None:
    """No curated entry's text becomes a button: an answer offers a check of its own only
    when a provider record with servers stands behind it (Gmail's entry: its SMTP hosts), or
    the entry is `about` such a provider (SendGrid's login entry: SendGrid's servers)."""
    records = engine.kb.providers.values()
    servers = {p.entry_id: {s.host for s in p.servers} for p in records if p.known}
    for entry in engine.kb.entries.values():
        allowed = set(servers.get(entry.id, set()))
        for subject in entry.about:
            if subject in engine.kb.providers:
                allowed |= {s.host for s in engine.kb.providers[subject].servers}
        assert set(engine.checks_for("", entry)) <= allowed, entry.id
    login = engine.kb.entries["sendgrid-smtp-apikey-login"]
    assert engine.checks_for("", login) == ("smtp.sendgrid.net",)
    assert engine.checks_for("", engine.kb.entries["django-email-tls-ssl"]) == ()
    assert engine.ask("gmail smtp settings").checks == ("smtp.gmail.com", "smtp-relay.gmail.com")
    assert engine.ask("sendgrid smtp settings").checks == ("smtp.sendgrid.net",)
