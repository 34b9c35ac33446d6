"""`settings DOMAIN` reads the autoconfig file a domain serves mail clients (Thunderbird's two
places, in its order) and its answer to Outlook's Autodiscover request, over real HTTPS through
the guard, from a real DNS server."""

from __future__ import annotations

import pytest
from check_servers import LOOPBACK, Certs, https_server
from dns_server import dns_server
from loopback_ports import TEST_PORTS

from bot.check.guard import DnsResolver, Guard
from bot.check.tls import make_contexts
from bot.engine.discovery import discover
from bot.engine.facade import Engine

CONFIG = """<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example-ac.org">
    <domain>example-ac.org</domain>
    <displayName>Example AC</displayName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.%EMAILDOMAIN%</hostname><port>587</port><socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""
WEB = "127.0.0.19"
AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"


def guard(where: tuple[str, int], certs: Certs) -> Guard:
    https = make_contexts(certs.cafile).verifying
    return Guard(DnsResolver(nameserver=where), LOOPBACK, TEST_PORTS, https=https)


async def test_the_autoconfig_host_gives_the_settings(engine: Engine, certs: Certs) -> None:
    zone = {
        "example-ac.org": {"MX": ["10 mx.example-ac.org."]},
        "autoconfig.example-ac.org": {"A": [WEB]},
    }
    pages = {AUTOCONFIG: (200, CONFIG, "application/xml")}
    async with (
        dns_server(zone) as where,
        https_server(WEB, certs.good("autoconfig.example-ac.org"), pages) as asked,
    ):
        result = await discover(engine, guard(where, certs), "jo@example-ac.org")
    assert asked == [AUTOCONFIG]
    answer = result.answer
    assert answer.status == "answered" and answer.entry is not None
    short = answer.entry.short
    assert "IMAP imap.example-ac.org on 993" in short and "SMTP smtp.example-ac.org on 587" in short
    assert short.endswith("(From the domain's own autoconfig file, unreviewed.)")
    assert "publishes its mail client settings in an autoconfig file" in answer.note
    assert "mx.example-ac.org" in answer.note
    assert answer.checks == ("smtp.example-ac.org 587", "imap.example-ac.org 993")
    assert answer.entry.sources[0].url == f"https://autoconfig.example-ac.org{AUTOCONFIG}"
    assert answer.entry.dated.startswith("Fetched ")


async def test_the_well_known_path_on_the_domain_is_read_too(engine: Engine, certs: Certs) -> None:
    zone = {"example-ac.org": {"MX": ["10 mx.example-ac.org."], "A": [WEB]}}
    pages = {WELL_KNOWN: (200, CONFIG, "text/xml")}
    async with (
        dns_server(zone) as where,
        https_server(WEB, certs.good("example-ac.org"), pages) as asked,
    ):
        result = await discover(engine, guard(where, certs), "example-ac.org")
    assert asked == [WELL_KNOWN]
    assert result.answer.status == "answered"


@pytest.mark.parametrize(
    ("address", "page", "trusted"),
    [
        (WEB, (200, "<clientConfig><emailProvider/></clientConfig>", "text/xml"), True),
        (WEB, (200, "not xml at all <", "text/xml"), True),
        (WEB, (302, "", "text/html"), True),
        (WEB, (200, CONFIG, "text/xml"), False),
        ("10.1.2.3", (200, CONFIG, "text/xml"), True),
    ],
    ids=["no-servers", "not-xml", "redirect", "untrusted-certificate", "private-address"],
)
async def test_an_autoconfig_file_that_cannot_be_used_is_passed_over(
    engine: Engine, certs: Certs, address: str, page: tuple[int, str, str], trusted: bool
) -> None:
    zone = {
        "example-ac.org": {"MX": ["10 mx.example-ac.org."]},
        "autoconfig.example-ac.org": {"A": [address]},
    }
    name = "autoconfig.example-ac.org"
    context = certs.good(name) if trusted else certs.untrusted(name)
    async with (
        dns_server(zone) as where,
        https_server(WEB, context, {AUTOCONFIG: page}) as asked,
    ):
        result = await discover(engine, guard(where, certs), "example-ac.org")
    assert asked == ([AUTOCONFIG] if trusted and address == WEB else [])  # read, then refused
    assert result.answer.status == "no_match"
    assert "belong to no provider I know" in result.answer.note


AUTODISCOVER = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol><Type>IMAP</Type><Server>mail.example-ac.org</Server><Port>993</Port>
        <SSL>on</SSL></Protocol>
      <Protocol><Type>SMTP</Type><Server>mail.example-ac.org</Server><Port>587</Port>
        <SSL>on</SSL><Encryption>TLS</Encryption></Protocol>
      <Protocol><Type>EXCH</Type><Server>exch.internal</Server></Protocol>
    </Account>
  </Response>
</Autodiscover>
"""


async def test_an_autodiscover_answer_gives_the_settings(engine: Engine, certs: Certs) -> None:
    zone = {
        "example-ac.org": {"MX": ["10 mx.example-ac.org."]},
        "autodiscover.example-ac.org": {"A": [WEB]},
    }
    path = "/autodiscover/autodiscover.xml"
    pages = {path: (200, AUTODISCOVER, "text/xml")}
    async with (
        dns_server(zone) as where,
        https_server(WEB, certs.good("autodiscover.example-ac.org"), pages) as asked,
    ):
        result = await discover(engine, guard(where, certs), "jo@example-ac.org")
    [request] = asked
    assert request.startswith(f"POST {path} ") and "<EMailAddress>jo@example-ac.org<" in request
    answer = result.answer
    assert answer.status == "answered" and answer.entry is not None
    short = answer.entry.short
    assert "IMAP mail.example-ac.org on 993 (implicit TLS)" in short, short
    assert "SMTP mail.example-ac.org on 587 (STARTTLS)" in short, short
    assert "exch.internal" not in answer.entry.detail
    assert "answers Microsoft Autodiscover" in answer.note
    assert short.endswith("(From the domain's own Autodiscover answer, unreviewed.)")
