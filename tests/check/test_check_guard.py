"""The guard: hostile names and addresses get a clear refusal and are never connected to."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from check_servers import LOOPBACK, Recorder
from loopback_ports import TEST_PORTS

from bot.check import Checker, CheckInputError
from bot.check.guard import Guard, StaticResolver, clean_host, refusal
from bot.settings import Settings

HOSTILE_TEXT = [
    ("", "Give a host"),
    ("   ", "Give a host"),
    (";rm -rf /", "not a host name"),
    ("smtp.example.com;rm -rf /", "not a host name"),
    ("$(reboot).example.com", "not a host name"),
    ("exa mple.com", "not a host name"),
    ("mail_server.example.com", "not a host name"),
    ("a" * 300, "at most 253"),
    (("abcdefghi." * 26) + "com", "at most 253"),
    ("http://x", "not a URL"),
    ("https://smtp.example.com/path", "not a URL"),
    ("<http://x|x>", "fully qualified"),
    ("smtp.example.com:587", "port separately"),
    ("[::1]:25", "port separately"),
    ("user@example.com", "email address"),
    ("127.1", "unusual spelling"),
    ("0177.0.0.1", "unusual spelling"),
    ("0x7f.0.0.1", "unusual spelling"),
    ("2130706433", "unusual spelling"),
    ("127.0.0.1.", "unusual spelling"),
    ("example.123", "unusual spelling"),
    ("fe80::1%eth0", "Zone-scoped"),
    ("localhost", "fully qualified"),
    ("smtp.localhost", "reserved"),
    ("mail.test", "reserved"),
    ("1.0.0.127.in-addr.arpa", "reserved"),
    ("metadata.google.internal", "inside a network"),
    ("printer.local", "inside a network"),
    ("nas.home.arpa", "reserved"),
    ("smtp..example.com", "empty label"),
    (".example.com", "empty label"),
    ("-bad.example.com", "international domain name"),
    ("xn--zz.example.com", "international domain name"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE_TEXT)
def test_hostile_text_gets_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(CheckInputError, match=message):
        clean_host(text)


@pytest.mark.parametrize(
    ("text", "name", "display"),
    [
        ("SMTP.Example.COM.", "smtp.example.com", "smtp.example.com"),
        ("münchen.de", "xn--mnchen-3ya.de", "münchen.de"),
        ("\uff53\uff4d\uff54\uff50\uff0eexample.com", "smtp.example.com", "smtp.example.com"),
        ("<http://smtp.example.com|smtp.example.com>", "smtp.example.com", "smtp.example.com"),
        ("  mx1.example.net ", "mx1.example.net", "mx1.example.net"),
        ("8.8.8.8", "8.8.8.8", "8.8.8.8"),
        ("[2606:4700::1111]", "2606:4700::1111", "2606:4700::1111"),
    ],
)
def test_clean_names(text: str, name: str, display: str) -> None:
    host = clean_host(text)
    assert (host.name, host.display) == (name, display)


def test_internal_names_only_when_internal_ranges_are_allowed() -> None:
    assert clean_host("mail.corp.internal", internal_names=True).name == "mail.corp.internal"
    with pytest.raises(CheckInputError):
        clean_host("mail.corp.internal")
    with pytest.raises(CheckInputError, match="reserved"):
        clean_host("smtp.localhost", internal_names=True)


REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("0.0.0.0", "this network"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "CGNAT"),
    ("100.100.100.200", "metadata"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("168.63.129.16", "metadata"),
    ("169.254.1.1", "link-local"),
    ("192.0.0.8", "IETF"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("192.88.99.1", "6to4"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:10.0.0.1", "IPv4-mapped"),
    ("::ffff:8.8.8.8", "IPv4-mapped"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("64:ff9b::7f00:1", "NAT64"),
    ("64:ff9b:1::a00:1", "NAT64"),
    ("2002:7f00:1::", "6to4"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("100::1", "discard"),
    ("5f00::1", "SRv6"),
    ("fc00::1", "unique local"),
    ("fd00:ec2::254", "metadata"),
    ("fe80::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_refused_addresses(address: str, reason: str) -> None:
    found = refusal(ipaddress.ip_address(address))
    assert found is not None and reason in found


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450::1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_allowed_ranges_admit_exactly_their_addresses() -> None:
    assert refusal(ipaddress.ip_address("127.0.0.2"), LOOPBACK) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.2"), LOOPBACK) == "IPv4-mapped IPv6"
    link_local = (ipaddress.ip_network("169.254.0.0/16"),)
    assert refusal(ipaddress.ip_address("169.254.169.254"), link_local) == "cloud metadata service"
    assert refusal(ipaddress.ip_address("10.0.0.1"), LOOPBACK) == "private (RFC 1918)"


# Names the fixed DNS maps to addresses that must never be connected to.
HOSTILE_DNS = {
    "loop.example.net": {"A": ["127.0.0.1"]},
    "loop6.example.net": {"AAAA": ["::1"]},
    "mapped.example.net": {"AAAA": ["::ffff:127.0.0.1"]},
    "nat64.example.net": {"AAAA": ["64:ff9b::7f00:1"]},
    "sixtofour.example.net": {"AAAA": ["2002:7f00:1::"]},
    "zero.example.net": {"A": ["0.0.0.0"]},
    "metadata.example.net": {"A": ["169.254.169.254"]},
    "private.example.net": {"A": ["10.0.0.1"]},
    "cgnat.example.net": {"A": ["100.64.0.1"]},
    "mixed.example.net": {"A": ["8.8.8.8", "127.0.0.1"]},
    "mixed6.example.net": {"A": ["8.8.8.8"], "AAAA": ["::1"]},
}
HOSTILE_TARGETS = [
    *HOSTILE_DNS,
    "127.0.0.1",
    "127.0.0.2",
    "0.0.0.0",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::127.0.0.1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
    "127.1",
    "0177.0.0.1",
    "0x7f000001",
    "2130706433",
    "localhost",
    "localhost.",
    "loop.example.net:2525",
    "http://127.0.0.1:2525/",
]


async def _attempt_all(checker: Checker) -> list[str]:
    outcomes = []
    for target in HOSTILE_TARGETS:
        try:
            report = await checker.check(target, ["2525"])
        except CheckInputError as exc:
            outcomes.append(f"{target}: refused input: {exc}")
            continue
        assert not report.results(), target
        assert report.hosts[0].refused, target
        assert report.hosts[0].verdict is not None
        assert "does not connect" in report.hosts[0].verdict.summary
        outcomes.append(f"{target}: {report.verdict.summary if report.verdict else ''}")
    return outcomes


async def test_hostile_targets_are_never_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real listener for 2525 on 127.0.0.1 sees no connection, and no socket is opened."""
    opened: list[tuple] = []
    real_open = asyncio.open_connection

    async def observed(*args: object, **kwargs: object) -> object:
        opened.append((args, kwargs))
        return await real_open(*args, **kwargs)

    monkeypatch.setattr(asyncio, "open_connection", observed)
    recorder = Recorder()
    await recorder.listen("127.0.0.1", 2525)
    try:
        checker = Checker(Settings(check_cache_ttl=0), resolver=StaticResolver(HOSTILE_DNS))
        outcomes = await _attempt_all(checker)
        await asyncio.sleep(0.05)
        assert recorder.connections == 0
        assert opened == []
        assert len(outcomes) == len(HOSTILE_TARGETS)

        # The same listener does record a connection once an admin allows loopback.
        allowed = Checker(
            Settings(check_cache_ttl=0, allow_cidrs=LOOPBACK),
            resolver=StaticResolver(HOSTILE_DNS),
            dial=TEST_PORTS,
        )
        report = await allowed.check("loop.example.net", ["2525"])
        await asyncio.sleep(0.05)
        assert recorder.connections == 1
        assert len(opened) == 1
        assert report.results()[0].address == "127.0.0.1"
    finally:
        await recorder.close()


async def test_one_refused_address_stops_the_whole_name() -> None:
    checker = Checker(Settings(check_cache_ttl=0), resolver=StaticResolver(HOSTILE_DNS))
    report = await checker.check("mixed6.example.net", ["25"])
    host = report.hosts[0]
    assert [r.address for r in host.refused] == ["::1"]
    assert host.ports == []
    assert report.verdict is not None and "::1 (loopback)" in report.verdict.summary


async def test_connect_vets_again() -> None:
    guard = Guard(StaticResolver({}))
    for address, port in [("127.0.0.1", 25), ("8.8.8.8", 80), ("127.1", 25), ("::ffff:7f00:1", 25)]:
        with pytest.raises(ValueError, match="refusing"):
            await guard.connect(address, port)


async def test_resolves_once_without_search_list() -> None:
    resolver = StaticResolver({"smtp.example.net": {"A": ["8.8.8.8"], "AAAA": ["2606:4700::1"]}})
    target = await Guard(resolver).resolve(clean_host("smtp.example.net"))
    assert target.addresses == ("8.8.8.8", "2606:4700::1")
    assert sorted(resolver.queries) == [("smtp.example.net", "A"), ("smtp.example.net", "AAAA")]


async def test_addresses_are_capped_per_family() -> None:
    resolver = StaticResolver({"big.example.net": {"A": ["8.8.8.8", "8.8.4.4", "1.1.1.1"]}})
    target = await Guard(resolver).resolve(clean_host("big.example.net"))
    assert target.addresses == ("8.8.8.8", "8.8.4.4")
    assert target.skipped == ("1.1.1.1",)


async def test_unknown_name_is_reported() -> None:
    checker = Checker(Settings(check_cache_ttl=0), resolver=StaticResolver({}))
    report = await checker.check("nope.example.net", ["25"])
    assert report.hosts[0].error == "nope.example.net does not exist in DNS (NXDOMAIN)"
    assert report.verdict is not None and report.verdict.level.value == "FAIL"


@pytest.mark.parametrize(
    ("ports", "message"),
    [
        (["80"], "not a mail port"),
        (["22,25"], "not a mail port"),
        (["x"], "not a port"),
        (["99999999"], "not a port"),
        (["-1"], "not a port"),
    ],
)
def test_only_mail_ports(ports: list[str], message: str) -> None:
    checker = Checker(Settings())
    with pytest.raises(CheckInputError, match=message):
        checker.prepare("smtp.example.com", ports)


@pytest.mark.parametrize(
    ("host", "ports", "mx", "expected"),
    [
        ("smtp.example.com", [], False, (25, 465, 587)),
        ("mail.example.com", [], False, (25, 465, 587)),
        ("mx1.example.com", [], False, (25, 465, 587)),
        ("imap.example.com", [], False, (143, 993)),
        ("pop3.example.com", [], False, (110, 995)),
        ("example.com", [], True, (25,)),
        ("smtp.example.com", ["all"], False, (25, 465, 587, 2525, 143, 993, 110, 995)),
        ("smtp.example.com", ["587,465", "25"], False, (25, 465, 587)),
        ("smtp.example.com", ["imaps", "submission"], False, (587, 993)),
    ],
)
def test_ports_by_name_and_list(host: str, ports: list[str], mx: bool, expected: tuple) -> None:
    assert Checker(Settings()).prepare(host, ports, mx).ports == expected


@pytest.mark.parametrize(
    ("words", "optional"),
    [(("all",), (2525,)), (("all", "2525"), ()), (("587",), ()), (("2525",), ())],
)
def test_only_all_makes_2525_optional(words: tuple[str, ...], optional: tuple[int, ...]) -> None:
    request = Checker(Settings()).prepare("smtp.example.com", words)
    assert request.optional == optional
    assert (2525 in request.ports) is (words != ("587",))
