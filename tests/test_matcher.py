"""Matcher decisions on the real knowledge base (and one built to be ambiguous)."""

import dataclasses

import pytest

from bot.engine.facade import Engine
from bot.kb.knowledge import KnowledgeBase
from bot.match.matcher import OUT_OF_SCOPE, OUTSIDE_NOTE, Matcher


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("465", "port-465"),
        ("port 465?", "port-465"),
        ("what is 587", "port-587"),
        ("what is port 587", "port-587"),
        ("tcp/993", "port-993"),
        ("<@U024BE7LH> port 110?", "port-110"),
        ("what is port 25 used for", "port-25"),
        ("can I use port 587 instead of 25?", "use-587-instead-of-25"),
        ("is smtp tcp or udp", "smtp-tcp-or-udp"),
        ("imap vs pop3", "imap-vs-pop3"),
    ],
)
def test_answers(engine: Engine, question: str, entry_id: str) -> None:
    answer = engine.ask(question)
    assert (answer.status, answer.entry.id if answer.entry else None) == ("answered", entry_id)


@pytest.mark.parametrize(
    "question",
    ["saw 143 in a pcap, what is it", "our firewall team closed 110, what stops working"],
)
def test_a_port_nothing_else_matches_answers_with_its_entry(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.score < 46
    assert (answer.status, answer.entry and answer.entry.id) == (
        "answered",
        f"port-{answer.ports[0].port}",
    )


@pytest.mark.parametrize(
    "question",
    [
        "our SPF record has too many includes, how do we trim it",
        "how do I move a shared calendar between two office 365 users",
    ],
)
def test_near_topic_questions_are_declined(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert (answer.status, answer.entry) == ("no_match", None)


def test_the_out_of_scope_examples_are_never_an_answer_or_a_suggestion(engine: Engine) -> None:
    for question in engine.kb.out_of_scope:
        answer = engine.matcher.ask(question)
        assert answer.status == "no_match", question
        assert OUT_OF_SCOPE not in [s.entry.id for s in answer.suggestions], question


def test_each_out_of_scope_topic_is_a_class_of_its_own(engine: Engine) -> None:
    matcher = engine.matcher
    topics = set(engine.kb.out_of_scope_topics.values())
    assert len(topics) >= 5 and len(matcher.outsides) == len(topics)
    assert all(matcher.entries[i].id == OUT_OF_SCOPE for i in matcher.outsides)
    sizes = sorted(len(matcher.entries[i].phrasings) for i in matcher.outsides)
    assert sum(sizes) == len(engine.kb.out_of_scope) and sizes[-1] < sum(sizes)


def test_out_of_scope_examples_explain_the_no(engine: Engine) -> None:
    answer = engine.ask("our SPF record has too many includes, how do we trim it")
    assert answer.note == OUTSIDE_NOTE


@pytest.mark.parametrize(
    "question",
    [
        "can gmail schedule a message to send tomorrow morning",
        "outlook calendar settings to share with my team",
        "office 365 admin settings for password expiry",
        "how do I use scheduled send in the gmail app on my phone",
    ],
)
def test_a_provider_named_in_passing_is_not_an_answer(engine: Engine, question: str) -> None:
    assert engine.ask(question).status != "answered"


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("which port does office 365 want for sending from our copier", "outlook-smtp-settings"),
        ("gmail imap server name for thunderbird", "gmail-smtp-settings"),
    ],
)
def test_provider_settings_questions(engine: Engine, question: str, entry_id: str) -> None:
    answer = engine.ask(question)
    assert (answer.status, answer.entry and answer.entry.id) == ("answered", entry_id)


@pytest.mark.parametrize(
    "question",
    [
        "should our crm use 587 or 465",
        "465 or 587 for our ticketing app",
    ],
)
def test_a_choice_between_ports_offers_the_choosing_entry(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    offered = [answer.entry] if answer.entry else [s.entry for s in answer.suggestions]
    assert "choose-smtp-port" in [entry.id for entry in offered]


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("465 or 587 for django", "django-email-tls-ssl"),
        ("which port for the scanner's scan to email, 465 or 587", "printer-scan-to-email-tls"),
        ("nodemailer secure true or false for 587?", "nodemailer-secure-option"),
        ("postfix relayhost needs a login, where does the password go", "postfix-relayhost-sasl"),
        (
            "dovecot: how do I make 993 the only way in",
            "dovecot-ssl-ports|dovecot-not-listening-ports",
        ),
        (
            "google account shows no app passwords page even with 2-step on, why",
            "gmail-app-password-missing",
        ),
        (
            "m365 app password still allowed when conditional access enforces mfa?",
            "microsoft-365-app-passwords",
        ),
    ],
)
def test_a_named_product_gets_the_entry_about_it(
    engine: Engine, question: str, entry_id: str
) -> None:
    """Entries declare what they are `about`; a question naming that product finds them
    (`a|b`: either of two entries about it answers, or a did-you-mean offers just those two)."""
    answer = engine.ask(question)
    accepted = entry_id.split("|")
    if answer.status == "ambiguous" and len(accepted) == 2:
        assert sorted(s.entry.id for s in answer.suggestions[:2]) == sorted(accepted)
        return
    assert answer.status == "answered" and answer.entry is not None
    assert answer.entry.id in accepted


@pytest.mark.parametrize(
    ("question", "not_about"),
    [
        ("laravel MAIL_ENCRYPTION tls or ssl for 465", "django"),
        ("exim smarthost with a password file", "postfix"),
    ],
)
def test_an_entry_about_another_product_does_not_answer(
    engine: Engine, question: str, not_about: str
) -> None:
    answer = engine.ask(question)
    offered = [answer.entry] if answer.entry else [s.entry for s in answer.suggestions]
    assert all(not_about not in e.about for e in offered if e is not None)


def test_587_never_lands_on_465(engine: Engine) -> None:
    for question in ("what is 587", "587?", "is 587 ok", "tell me about 587"):
        answer = engine.ask(question)
        assert answer.entry is None or 587 in answer.entry.ports, question
        assert all(465 not in s.entry.ports or 587 in s.entry.ports for s in answer.suggestions)


@pytest.mark.parametrize(
    ("question", "note"),
    [
        ("port 22", "Port 22 is"),
        ("what is port 3306", "not an email port"),
        ("port 53 - what's that one?", "not an email port"),
        ("port 31337?", "not in my port table"),
    ],
)
def test_non_mail_ports_say_what_they_are(engine: Engine, question: str, note: str) -> None:
    answer = engine.ask(question)
    assert answer.status == "no_match"
    assert answer.entry is None
    assert note in answer.note
    assert answer.suggestions == ()


def test_a_non_mail_port_in_a_mail_question_offers_neighbours(engine: Engine) -> None:
    answer = engine.ask("can I send mail over port 8080")
    assert "not an email port" in answer.note
    offered = {s.entry.id for s in answer.suggestions}
    assert offered & {"outgoing-smtp-port", "port-443"}, offered  # how mail is sent, and 443


@pytest.mark.parametrize(
    "question",
    ["hello", "thx :raised_hands:", "", "   ", "<!channel>", ":wave:", "where is the coffee"],
)
def test_no_answer_for_chatter(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.status == "no_match"
    assert answer.entry is None


def test_huge_and_hostile_text(engine: Engine) -> None:
    answer = engine.ask("<!channel> <https://evil.example|click> " + "port 25 " * 50_000)
    assert answer.status in ("answered", "ambiguous", "no_match")
    assert engine.ask("\x00\x1b[31m;rm -rf / `id` $(reboot)").status == "no_match"


def test_answer_carries_port_rows(engine: Engine) -> None:
    answer = engine.ask("can I use port 587 instead of 25?")
    assert {row.port for row in answer.ports} >= {25, 587}


def test_ambiguous_offers_close_entries(engine: Engine) -> None:
    kb = engine.kb
    original = kb.entries["imap-vs-pop3"]
    twin = dataclasses.replace(original, id="imap-vs-pop3-twin")
    twinned = KnowledgeBase(entries={**kb.entries, twin.id: twin}, ports=kb.ports)
    matcher = Matcher(twinned, decider=engine.matcher.decider)
    answer = matcher.ask(original.alternates[0] + " please")
    assert answer.status == "ambiguous"
    ids = [s.entry.id for s in answer.suggestions]
    assert {"imap-vs-pop3", "imap-vs-pop3-twin"} <= set(ids)
    assert len(ids) <= 3


def test_port_card(engine: Engine) -> None:
    card = engine.port_card(465)
    assert card.info and card.info.tls == "implicit"
    assert card.entry and card.entry.id == "port-465"
    assert "not an email port" in engine.port_card(22).note


@pytest.mark.parametrize(
    ("question", "name", "nearest"),
    [
        ("zimbra smtp port for outgoing", "Zimbra", "outgoing-smtp-port"),
        ("starlink blocks port 25?", "Starlink", "port-25-blocked"),
    ],
)
def test_a_subject_no_entry_covers_gets_the_general_entry_as_a_suggestion(
    engine: Engine, question: str, name: str, nearest: str
) -> None:
    """A server or network with no entry of its own is not answered with a general entry."""
    answer = engine.ask(question)
    assert (answer.status, answer.entry) == ("no_match", None)
    assert f"nothing specific on {name}" in answer.note
    assert answer.suggestions[0].entry.id == nearest


@pytest.mark.parametrize(
    "question",
    [
        "eM Client says cannot connect to smtp server on 587",  # a client: general entries apply
        "hmailserver pop3 ssl port",  # the POP3 over TLS entry is phrased for hMailServer
    ],
)
def test_clients_and_entries_phrased_for_a_subject_are_still_answered(
    engine: Engine, question: str
) -> None:
    assert engine.ask(question).status == "answered"


def test_uncovered_subjects_are_servers_and_networks_without_entries(engine: Engine) -> None:
    kb = engine.kb
    assert {"zimbra", "starlink"} <= engine.uncovered
    assert not engine.uncovered & {"em-client", "nmap", "postfix", "gmail"}
    assert all(s not in kb.subject_kinds and s not in kb.providers for s in engine.uncovered)


def test_a_tie_goes_to_the_entry_about_what_the_question_names(engine: Engine) -> None:
    """Tied finalists (within CLOSE): the one entry about a named subject wins over general
    ones; two specific entries, or a clear lead, leave the decision to the fitted model."""
    matcher = engine.matcher
    index = {e.id: i for i, e in enumerate(matcher.entries)}
    general, phpmailer = index["smtp-connection-timeout"], index["phpmailer-smtp-connect-failed"]
    laravel = index["laravel-mail-encryption-scheme"]
    named = frozenset({"phpmailer"})
    assert matcher._named_in_tie(named, [(47.0, general), (45.0, phpmailer)]) == phpmailer
    assert matcher._named_in_tie(named, [(47.0, general), (30.0, phpmailer)]) is None
    assert matcher._named_in_tie(frozenset(), [(47.0, general), (45.0, phpmailer)]) is None
    both = [(47.0, phpmailer), (46.0, laravel), (45.0, general)]
    assert matcher._named_in_tie(named | {"laravel"}, both) is None
    outside = [(47.0, phpmailer), (46.0, min(matcher.outsides))]
    assert matcher.outsides and matcher._named_in_tie(named, outside) is None
