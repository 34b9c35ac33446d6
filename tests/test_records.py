"""Provider records: loading and validation, finding them in questions, and `settings`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dns_server import dns_server

from bot.check.guard import DnsResolver, Guard, StaticResolver
from bot.engine.discovery import discover
from bot.engine.facade import Engine
from bot.kb import knowledge
from bot.match.kbcheck import check

pytestmark = pytest.mark.usefixtures("engine")  # the fit is cached before `mailport` starts


FIXTURE = Path(__file__).parent / "fixtures" / "kb"
RECORD = """
- id: examplemail
  name: Example Mail
  kind: mailbox
  aliases: [examplemail, example mail]
  domains: [example-mail.test]
  mx: [mx.example-mail.test]
  servers:
    - {role: outgoing, protocol: smtp, host: smtp.example-mail.test, port: 587, tls: starttls}
    - {role: relay, protocol: smtp, host: relay.example-mail.test, port: 25, tls: none}
  username: the full address
  auth: an app password
  notes: []
  sources:
    - {title: "Example Mail help", url: "https://help.example-mail.test/settings"}
  reviewed: 2026-12-01
"""


def _kb_with(tmp_path: Path, records: str) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE, target)
    (target / "records").mkdir()
    (target / "records" / "providers.yaml").write_text(records, encoding="utf-8")
    return target


def test_every_real_record_is_valid_and_sourced(engine: Engine) -> None:
    assert [str(p) for p in check()[0]] == []
    for record in engine.kb.providers.values():
        assert record.sources and all(s.url.startswith("https://") for s in record.sources)
        for server in record.servers:
            assert server.port in engine.kb.ports
            assert f"`{server.host}`" in engine.kb.answer_entry(record.entry_id).detail  # type: ignore[union-attr]


def test_a_record_is_rendered_from_its_data(tmp_path: Path) -> None:
    kb = knowledge.load(_kb_with(tmp_path, RECORD))
    entry = kb.answer_entry("settings-examplemail")
    assert entry is not None and entry.ports == (587, 25)
    assert entry.short == "Example Mail: SMTP smtp.example-mail.test on 587 (STARTTLS)."
    assert "Outgoing (SMTP): `smtp.example-mail.test` port 587, STARTTLS" in entry.detail
    assert "Relay (SMTP): `relay.example-mail.test` port 25, none" in entry.detail


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("host: smtp.example-mail.test", "host: 'smtp example'"), "bad host name"),
        (("port: 587", "port: 9993"), "port 9993 is not in ports.yaml"),
        (("tls: none", "tls: ssl"), "tls must be one of"),
        (("kind: mailbox", "kind: isp"), "must be one of mailbox, sending"),
        (("  notes: []", "  notes: []\n  colour: blue"), "colour: unknown field"),
        (("  notes: []", "  notes: []\n  entry: no-such-entry"), "unknown entry id"),
        (("https://help", "http://help"), "must start with https://"),
    ],
)
def test_record_problems_name_file_record_and_field(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    problems = [str(p) for p in check(_kb_with(tmp_path, RECORD.replace(*change)))[0]]
    assert any(says in p and "providers.yaml:examplemail" in p for p in problems), problems


def test_duplicate_record_ids_are_refused(tmp_path: Path) -> None:
    problems = [str(p) for p in check(_kb_with(tmp_path, RECORD + RECORD))[0]]
    assert any("duplicate id" in p for p in problems), problems


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("sendgird smtp settings", "settings-sendgrid"),
        ("what's the smtp server for mailgun eu?", "settings-mailgun"),
        ("icloud imap server for outlook", "settings-icloud"),
        ("icloud connection settings for outlook", "settings-icloud"),
        ("Brevo SMTP host and login?", "settings-brevo"),
        ("fastmail incoming server", "settings-fastmail"),
        ("outgoing for yahoo in outlook: smtp.mail.yahoo.com with 587 or 465?", "settings-yahoo"),
        ("brevo smtp host is smtp-relay.brevo.com on 587, right?", "settings-brevo"),
    ],
)
def test_settings_questions_are_answered_from_records(
    engine: Engine, question: str, entry_id: str
) -> None:
    answer = engine.ask(question)
    assert answer.status == "answered" and answer.entry is not None
    assert answer.entry.id == entry_id


@pytest.mark.parametrize(
    "question",
    [
        "sendgrid docs mention port 2525, is that official?",
        "how do i add an SPF record for sendgrid",
        "mailgun vs sendgrid which is cheaper",
        "smtp.mail.yahoo.com 465 keeps timing out from the office",
        "firewall shows traffic to imap.fastmail.com on 993, what is it",
    ],
)
def test_other_questions_naming_a_provider_go_to_the_matcher(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.entry is None or not answer.entry.id.startswith("settings-")


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        (
            "fastmail app password: which access do i pick for imap and smtp",
            "fastmail-app-password-access",
        ),
        ("mandrill smtp password is the api key?", "mandrill-smtp-api-key"),
        ("zeptomail smtp: is the password the send mail token?", "zeptomail-smtp-auth"),
        ("icloud imap username: with or without @icloud.com?", "settings-icloud"),
        (
            "sendgrid ip access management is on, does it apply to smtp too?",
            "sendgrid-ip-access-management",
        ),
        ("fastmail imap and smtp settings for thunderbird", "settings-fastmail"),
        ("yahoo smtp pls", "settings-yahoo"),
        ("aol smtp?", "settings-aol"),
    ],
)
def test_a_record_competes_with_the_entries_about_its_provider(
    engine: Engine, question: str, entry_id: str
) -> None:
    """A question on a provider's accounts gets the curated entry about them; one asking for
    its servers or username (or naming nothing but the provider and a protocol) the record."""
    answer = engine.ask(question)
    assert (answer.status, answer.entry and answer.entry.id) == ("answered", entry_id)


def test_records_are_ranked_only_where_entries_are_about_their_provider(engine: Engine) -> None:
    kb = engine.kb
    contested = {s for e in kb.entries.values() for s in e.about}
    ranked = kb.ranked_records
    assert "settings-fastmail" in ranked and "settings-gmx" not in ranked
    assert {e.about for e in ranked.values()} == {
        (e.id.removeprefix("settings-"),) for e in ranked.values()
    }
    assert all(e.about[0] in contested for e in ranked.values())
    fastmail = ranked["settings-fastmail"]
    assert fastmail.short == kb.record_entries["settings-fastmail"].short
    assert len(fastmail.alternates) >= 5 and all("fastmail" in p for p in fastmail.alternates)
    assert "settings-fastmail" in {e.id for e in engine.matcher.entries}


def test_a_provider_without_reviewed_servers_is_an_honest_no(engine: Engine) -> None:
    answer = engine.ask("what is the zoho imap server")
    assert answer.status == "no_match" and answer.entry is None
    assert "no reviewed server settings for Zoho Mail" in answer.note
    assert "https://www.zoho.com/mail/help/" in answer.note


def test_a_provider_without_reviewed_servers_yields_to_an_entry_about_it(engine: Engine) -> None:
    """Zoho's record holds no servers, but an entry explains its data centres' hosts."""
    answer = engine.ask(
        "our zoho account was opened on zoho.eu, which smtp server name applies to us"
    )
    assert (answer.status, answer.entry and answer.entry.id) == (
        "answered",
        "zoho-mail-data-centre",
    )


def test_ispdb_fills_a_reviewed_record_without_servers(engine: Engine) -> None:
    """AOL's record holds its sign-in facts but no servers: the ISPDB's servers answer, the
    ISPDB is cited and the answer says the servers are unreviewed."""
    answer = engine.ask("what is the aol imap server")
    assert answer.status == "answered" and answer.entry is not None
    assert answer.entry.id == "settings-aol"
    assert "`imap.aol.com` port 993, implicit TLS" in answer.entry.detail
    assert "app password" in answer.entry.detail and "not reviewed" in answer.entry.detail
    assert "unreviewed" in answer.entry.short
    urls = [s.url for s in answer.entry.sources]
    assert urls[0].startswith("https://help.aol.com/")
    assert urls[-1].endswith("/ispdb/aol.com.xml")


@pytest.mark.parametrize(
    ("query", "record", "host"),
    [
        ("jane@comcast.net", "ispdb-comcast-net", "smtp.comcast.net"),
        ("comcast", "ispdb-comcast-net", "smtp.comcast.net"),
        ("smtp.orange.fr", "ispdb-orange-fr", "smtp.orange.fr"),
        ("bob@sbcglobal.net", "ispdb-att-net", "smtp.mail.att.net"),
        ("jo@cox.net", "yahoo", "smtp.mail.yahoo.com"),
    ],
)
def test_ispdb_providers_by_name_address_and_host(
    engine: Engine, query: str, record: str, host: str
) -> None:
    found = engine.settings(query)
    assert found is not None and found.provider.id == record
    assert host in {s.host for s in found.provider.servers}
    assert found.provider.origin == "ispdb"


def test_reviewed_records_win_over_the_ispdb(engine: Engine) -> None:
    """The ISPDB also lists Gmail, Outlook.com, Microsoft 365, iCloud, Fastmail and Yandex:
    their reviewed records answer, and no ISPDB copy of them exists beside."""
    for query in ("gmail", "jane@hotmail.com", "fastmail", "office 365", "icloud"):
        found = engine.settings(query)
        assert found is not None and not found.provider.origin, query
    records = engine.kb.providers.values()
    reviewed = {name for p in records if not p.id.startswith("ispdb-") for name in p.names}
    copies = [p.id for p in records if p.id.startswith("ispdb-") and reviewed & set(p.aliases)]
    assert copies == []
    assert not any(p.id.startswith("ispdb-") and "gmail.com" in p.domains for p in records)


@pytest.mark.parametrize("word", ["wind", "goo", "jet", "sky", "apple", "one"])
def test_an_ispdb_short_name_that_is_a_word_names_nothing(engine: Engine, word: str) -> None:
    assert engine.providers.named_in(f"the {word} is strong today, smtp settings?") is None


def test_by_mx_finds_an_ispdb_host(engine: Engine) -> None:
    found = engine.settings_by_mx(["mx00.kundenserver.de"])
    assert found is not None and found.provider.id == "ispdb-1und1-de"


def test_a_broken_ispdb_file_is_one_problem(tmp_path: Path) -> None:
    shutil.copytree(knowledge.default_dir(), tmp_path / "kb")
    (tmp_path / "kb" / "ispdb" / "broken.example.xml").write_text("<clientConfig><emailProvider")
    problems = check(tmp_path / "kb")[0]
    assert [(p.field, p.file) for p in problems] == [("xml", "ispdb/broken.example.xml")]


def test_gmail_keeps_its_curated_entry(engine: Engine) -> None:
    assert engine.settings("gmail").provider.entry_id == "gmail-smtp-settings"  # type: ignore[union-attr]
    assert engine.ask("gmail imap settings").entry.id == "gmail-smtp-settings"  # type: ignore[union-attr]


async def _discover(engine: Engine, query: str, table: dict) -> object:
    return await discover(engine, Guard(StaticResolver(table)), query)


@pytest.mark.parametrize(
    ("query", "found", "via"),
    [
        ("SendGrid", "sendgrid", "name"),
        ("jane@hotmail.com", "microsoft-365", "domain"),
        ("icloud.com", "icloud", "domain"),
        ("it@acme-widgets.com", "gmail", "mx"),
        ("contoso-widgets.com", "microsoft-365", "mx"),
    ],
)
async def test_settings_by_name_address_domain_or_mx(
    engine: Engine, query: str, found: str, via: str
) -> None:
    table = {
        "acme-widgets.com": {"MX": ["1 smtp.google.com."]},
        "contoso-widgets.com": {"MX": ["0 contoso-widgets.com.mail.protection.outlook.com."]},
    }
    result = await _discover(engine, query, table)
    assert result.found is not None  # type: ignore[attr-defined]
    assert (result.found.provider.id, result.found.via) == (found, via)  # type: ignore[attr-defined]
    if via == "mx":
        assert "receives its mail at" in result.answer.note  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "says", "refused"),
    [
        ("self-hosted-mail.org", "belong to no provider I know", False),
        ("gone-for-good.net", "does not exist in DNS", False),
        ("10.0.0.1", "not an IP address", True),
        ("nosuchprovider", "I have no settings for 'nosuchprovider'", False),
        ("", "Give a provider", True),
    ],
)
async def test_settings_not_found_says_why(
    engine: Engine, query: str, says: str, refused: bool
) -> None:
    table = {"self-hosted-mail.org": {"MX": ["10 mail.self-hosted-mail.org."]}}
    result = await _discover(engine, query, table)
    assert result.found is None and says in result.answer.note  # type: ignore[attr-defined]
    assert result.refused is refused  # type: ignore[attr-defined]
    assert "SendGrid" in result.answer.note  # type: ignore[attr-defined]


def test_cli_settings_json_and_exit_status() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "settings", "--json", "sendgrid"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["status"] == "answered" and data["entry"]["id"] == "settings-sendgrid"
    assert set(data["entry"]) == {"id", "question", "short", "detail", "ports", "sources"}
    assert 587 in data["entry"]["ports"]
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "settings", "zoho"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1 and "no reviewed server settings" in missing.stdout


@pytest.mark.parametrize(
    "question",
    [
        "cloud run service sending via smtp.gmail.com times out",
        "oracle cloud free tier - smtp egress blocked",
    ],
)
def test_a_word_inside_a_name_is_no_typo_of_it(engine: Engine, question: str) -> None:
    named = engine.providers.named_in(question)
    assert named is None or named.id != "icloud"


def test_a_record_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    problems = [str(p) for p in check(_kb_with(tmp_path, RECORD + "- just some text\n"))[0]]
    assert any("providers.yaml:#2: record must be a mapping" in p for p in problems), problems


async def test_a_domain_publishing_srv_records_gets_them_with_checks(engine: Engine) -> None:
    """RFC 6186 SRV records, served by a real DNS server on loopback, become the settings."""
    zone = {
        "example-srv.org": {"MX": ["10 mx.example-srv.org."]},
        "_submissions._tcp.example-srv.org": {"SRV": ["0 1 465 smtp.example-srv.org."]},
        "_submission._tcp.example-srv.org": {"SRV": ["10 1 587 smtp.example-srv.org."]},
        "_imaps._tcp.example-srv.org": {
            "SRV": ["5 1 993 imap2.example-srv.org.", "0 1 993 imap.example-srv.org."]
        },
        "_pop3s._tcp.example-srv.org": {"SRV": ["0 0 0 ."]},
    }
    async with dns_server(zone) as where:
        result = await discover(engine, Guard(DnsResolver(nameserver=where)), "jo@example-srv.org")
    answer = result.answer
    assert answer.status == "answered" and answer.entry is not None
    short = answer.entry.short
    assert "IMAP imap.example-srv.org on 993" in short and "POP3" not in short
    assert "SMTP smtp.example-srv.org on 465 (" in short and " or 587 (" in short
    assert short.endswith("(From the domain's own DNS SRV records (RFC 6186), unreviewed.)")
    assert "publishes its mail client settings in DNS (SRV records)" in answer.note
    assert "mx.example-srv.org" in answer.note
    assert answer.checks == (
        "smtp.example-srv.org 465",
        "smtp.example-srv.org 587",
        "imap.example-srv.org 993",
    )
    assert "rfc6186" in answer.entry.sources[0].url
    assert answer.entry.dated.startswith("Looked up in DNS")


async def test_known_mx_wins_over_srv_records(engine: Engine) -> None:
    zone = {
        "acme-srv.com": {"MX": ["1 smtp.google.com."]},
        "_imaps._tcp.acme-srv.com": {"SRV": ["0 1 993 imap.acme-srv.com."]},
    }
    async with dns_server(zone) as where:
        result = await discover(engine, Guard(DnsResolver(nameserver=where)), "acme-srv.com")
    assert result.found is not None and result.found.provider.id == "gmail"


@pytest.mark.parametrize(
    ("question", "provider"),
    [
        ("sky yahoo email outgoing server?? customer has @sky.com address", "ispdb-sky-com"),
        ("customer has an @icloud.com address and wants it in Outlook on Windows", "icloud"),
        ("outlook smtp settings", "microsoft-365"),
        ("gmail imap settings for outlook", "gmail"),
    ],
)
def test_the_most_specific_name_wins(engine: Engine, question: str, provider: str) -> None:
    """An address's domain first; "outlook", also a mail client's name, names Microsoft 365
    only when nothing else is named."""
    named = engine.providers.named_in(question)
    assert named is not None and named.id == provider


def test_a_settings_question_may_misspell_settings(engine: Engine) -> None:
    answer = engine.ask("bigpond / telstra mail setings, customer has an old @bigpond.com address")
    assert answer.entry is not None and answer.entry.id == "settings-ispdb-bigpond-com"
