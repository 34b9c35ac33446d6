"""DANE for `check --mx` (RFC 7672): the MX's TLSA records, whether DNSSEC vouched for them,
and whether the certificate a real SMTP server sends matches them."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable

from check_servers import Certs, aiosmtpd_server
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from dns_server import dns_server

from bot.check import Level
from bot.check.guard import DnsResolver, Guard, StaticResolver
from bot.render import check_text

TLSA_NAME = "_25._tcp.mx1.example.net"


def served(certs: Certs) -> tuple[ssl.SSLContext, str]:
    """A server context for mx1.example.net and its key's SHA-256 (a `3 1 1` record's data)."""
    leaf = certs.ca.issue_cert("mx1.example.net")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return context, hashlib.sha256(spki).hexdigest()


def publish(resolver: StaticResolver, tlsa: list[str], signed: bool) -> None:
    resolver.table["example.net"] = {"MX": ["10 mx1.example.net."]}
    resolver.table["mx1.example.net"] = {"A": ["127.0.0.2"]}
    resolver.table[TLSA_NAME] = {"TLSA": tlsa}
    if signed:
        resolver.signed.add(TLSA_NAME)


async def test_a_signed_record_matching_the_key_is_ok(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    context, digest = served(certs)
    publish(resolver, [f"3 1 1 {digest.upper()}"], signed=True)
    with aiosmtpd_server("127.0.0.2", 25, context):
        report = await make_checker().check("example.net", mx=True)
    [result] = report.results()
    assert result.verdict is not None and result.verdict.level is Level.OK
    assert any("matches the DNSSEC-signed TLSA record 3 1 1" in a for a in result.verdict.also)
    assert report.hosts[0].tlsa_dnssec is True
    assert f"TLSA {TLSA_NAME} (DNSSEC-signed): 3 1 1" in check_text.to_text(report)


async def test_a_signed_record_for_another_key_stops_delivery(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    context, digest = served(certs)
    publish(resolver, ["3 1 1 " + "ab" * 32, f"1 1 1 {digest}"], signed=True)
    with aiosmtpd_server("127.0.0.2", 25, context):
        report = await make_checker().check("example.net", mx=True)
    [result] = report.results()
    assert result.verdict is not None and result.verdict.level is Level.FAIL
    assert "no record matches the certificate" in result.verdict.summary
    assert f"IN TLSA 3 1 1 {digest}" in (result.verdict.next_step or "")
    assert report.level is Level.FAIL


async def test_records_dnssec_did_not_vouch_for_change_nothing(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    context, _ = served(certs)
    publish(resolver, ["3 1 1 " + "ab" * 32], signed=False)
    with aiosmtpd_server("127.0.0.2", 25, context):
        report = await make_checker().check("example.net", mx=True)
    [result] = report.results()
    assert result.verdict is not None and result.verdict.level is Level.OK
    assert any("did not vouch for them with DNSSEC" in a for a in result.verdict.also)


async def test_no_records_no_dane(certs: Certs, make_checker: Callable, resolver) -> None:
    context, _ = served(certs)
    resolver.table["example.net"] = {"MX": ["10 mx1.example.net."]}
    resolver.table["mx1.example.net"] = {"A": ["127.0.0.2"]}
    with aiosmtpd_server("127.0.0.2", 25, context):
        report = await make_checker().check("example.net", mx=True)
    assert report.hosts[0].tlsa == [] and report.hosts[0].tlsa_dnssec is None
    assert ("_25._tcp.mx1.example.net", "TLSA") in resolver.queries
    assert report.level is Level.OK


async def test_the_resolver_reads_dnssec_from_the_ad_flag() -> None:
    """Through a real DNS server: the AD flag a validating resolver sets is what counts."""
    zone = {
        TLSA_NAME: {"TLSA": ["3 1 1 " + "ab" * 32]},
        "_25._tcp.mx2.example.net": {"TLSA": ["3 1 1 " + "cd" * 32]},
    }
    async with dns_server(zone, signed=frozenset({TLSA_NAME})) as where:
        guard = Guard(DnsResolver(nameserver=where))
        signed = await guard.tlsa("mx1.example.net")
        unsigned = await guard.tlsa("mx2.example.net")
        missing = await guard.tlsa("mx3.example.net")
    assert signed == ([f"3 1 1 {'ab' * 32}"], True)
    assert unsigned[1] is False and missing == ([], None)
