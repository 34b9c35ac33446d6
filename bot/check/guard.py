"""The only door from a user's host to a socket.

Name hygiene, one DNS resolution per name (dnspython: no /etc/hosts, no search list), a vetting
rule applied to every address, and `Guard.connect`, which opens TCP connections to vetted IP
literals on mail ports only. Nothing else in mailport opens a connection to a user's host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.name
import dns.resolver
import dns.reversename
import idna

from bot.check.errors import CheckInputError
from bot.check.ports import PORTS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_NAME = 253
MAX_LINE = 8192
MAX_PER_FAMILY = 2
MAX_MX = 5

_N = ipaddress.ip_network
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "168.63.129.16",
        "100.100.100.200",
        "fd00:ec2::254",
    )
)
_DENY: tuple[tuple[IPNetwork, str], ...] = (
    (_N("0.0.0.0/8"), "'this network' (0.0.0.0/8)"),
    (_N("127.0.0.0/8"), "loopback"),
    (_N("10.0.0.0/8"), "private (RFC 1918)"),
    (_N("172.16.0.0/12"), "private (RFC 1918)"),
    (_N("192.168.0.0/16"), "private (RFC 1918)"),
    (_N("100.64.0.0/10"), "shared address space (CGNAT)"),
    (_N("169.254.0.0/16"), "link-local"),
    (_N("192.0.0.0/24"), "IETF protocol assignments"),
    (_N("192.0.2.0/24"), "documentation"),
    (_N("198.51.100.0/24"), "documentation"),
    (_N("203.0.113.0/24"), "documentation"),
    (_N("192.88.99.0/24"), "6to4 relay anycast"),
    (_N("198.18.0.0/15"), "benchmarking"),
    (_N("224.0.0.0/4"), "multicast"),
    (_N("240.0.0.0/4"), "reserved"),
    (_N("::/128"), "unspecified"),
    (_N("::1/128"), "loopback"),
    (_N("::ffff:0:0/96"), "IPv4-mapped IPv6"),
    (_N("::/96"), "IPv4-compatible IPv6"),
    (_N("64:ff9b::/96"), "NAT64 (wraps an IPv4 address)"),
    (_N("64:ff9b:1::/48"), "NAT64 (wraps an IPv4 address)"),
    (_N("2002::/16"), "6to4 (wraps an IPv4 address)"),
    (_N("2001::/32"), "Teredo (wraps an IPv4 address)"),
    (_N("2001::/23"), "IETF protocol assignments"),
    (_N("100::/64"), "discard-only"),
    (_N("2001:db8::/32"), "documentation"),
    (_N("3fff::/20"), "documentation"),
    (_N("5f00::/16"), "SRv6 segment identifiers"),
    (_N("fc00::/7"), "unique local (private IPv6)"),
    (_N("fe80::/10"), "link-local"),
    (_N("fec0::/10"), "site-local"),
    (_N("ff00::/8"), "multicast"),
)

# Refusals an admin can lift for an internal server with MAILPORT_ALLOW_CIDRS; the others
# (documentation, multicast, reserved, wrappers, metadata, ...) reach no mail server at all.
_INTERNAL_REASONS = frozenset(
    {
        "loopback",
        "private (RFC 1918)",
        "shared address space (CGNAT)",
        "link-local",
        "unique local (private IPv6)",
        "site-local",
        "not a public address",
    }
)

_ALWAYS_REFUSED = ("localhost", "invalid", "test", "example", "onion", "arpa", "alt")
_INTERNAL = ("local", "internal", "lan", "home", "corp", "intranet", "localdomain", "private")
_SLACK_LINK = re.compile(r"^<([^|>]*)(?:\|([^>]*))?>$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_HOST_PORT = re.compile(r"^(?:\[[^\]]*\]|[^:\[\]]+):\d*$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_LDH = re.compile(r"^[a-z0-9-]+$")


def refusal(ip: IPAddress, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Why the bot must not connect to `ip`, or None if it may. `allow` admits internal ranges."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        return "zone-scoped IPv6"
    if ip in _METADATA:
        return "cloud metadata service"
    if any(ip.version == net.version and ip in net for net in allow):
        return None
    for net, reason in _DENY:
        if ip.version == net.version and ip in net:
            return reason
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved or ip.is_unspecified:
        return "reserved"
    if not ip.is_global:
        return "not a public address"
    return None


def refused_literal(address: str, reason: str) -> tuple[str, str]:
    """For an IP literal the guard refuses: the sentence that says so, and the next step that
    fits the reason."""
    why = "" if reason == "not a public address" else f" as {reason}"
    return (
        f"Not checked: {address} is refused{why}; the live check does not connect to non-public "
        "addresses.",
        refused_next_step([(address, reason)], literal=True),
    )


def refused_next_step(refused: Sequence[tuple[str, str]], literal: bool = False) -> str:
    """The next step for refused (address, reason) pairs of an IP literal or a name: how an admin
    allows an internal server, or, for addresses no mail server is on, what to give instead."""
    if refused and all(reason in _INTERNAL_REASONS for _, reason in refused):
        example = ",".join(str(ipaddress.ip_network(a)) for a, _ in refused[:2])
        allow = f"an admin can allow it with MAILPORT_ALLOW_CIDRS (e.g. {example})"
        if literal:
            return f"To check an internal server, {allow}."
        return f"If it is an internal server, {allow}; if it should be public, fix its DNS records."
    if literal:
        return "No mail server can be reached there; give the server's public name or address."
    return (
        "No public mail server can be reached at such addresses; fix the name's DNS records, or "
        "check the server by its public name."
    )


@dataclass(frozen=True, slots=True)
class Host:
    """A cleaned host: `name` is the A-label name or canonical IP literal (SNI, certificate
    check); `display` is how to show it; `ip` is set for IP literals."""

    name: str
    display: str
    ip: IPAddress | None = None


def clean_host(text: str, internal_names: bool = False) -> Host:
    """Check that `text` is a plain host name or IP literal; raise CheckInputError if not.

    Slack's auto-link form `<http://a.example|a.example>` is unwrapped to its label first.
    `internal_names` admits names like `mail.corp.internal` (set when internal ranges are allowed).
    """
    text = _unwrap_slack_link(text.strip())
    if not text:
        raise CheckInputError("Give a host to check, e.g. `/mailport check smtp.example.com 587`.")
    if len(text) > MAX_NAME + 1:
        raise CheckInputError(
            f"That name is {len(text)} characters long; a host name has at most {MAX_NAME}."
        )
    literal = _ip_literal(text)
    if literal is not None:
        return Host(str(literal), str(literal), literal)
    _reject_shapes(text)
    name = _a_label(text.rstrip(".").lower())
    _reject_special(name, internal_names)
    display = idna.decode(name) if "xn--" in name else name
    return Host(name, display)


def _unwrap_slack_link(text: str) -> str:
    match = _SLACK_LINK.match(text)
    if not match:
        return text
    return (match.group(2) or match.group(1)).strip()


def _ip_literal(text: str) -> IPAddress | None:
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if "%" in bare:
        raise CheckInputError("Zone-scoped IPv6 addresses (with `%`) are not accepted.")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return None


def _reject_shapes(text: str) -> None:
    if _URL.match(text):
        raise CheckInputError("Give a bare host name, not a URL: e.g. `smtp.example.com`.")
    if _HOST_PORT.match(text):
        raise CheckInputError(
            "Give the port separately: e.g. `/mailport check smtp.example.com 587`."
        )
    if "@" in text:
        raise CheckInputError(
            "That looks like an email address. To check where its mail goes, give the domain: "
            "`/mailport check example.com --mx`."
        )
    labels = text.rstrip(".").split(".")
    if all(_NUMERIC_LABEL.match(label) for label in labels) or _NUMERIC_LABEL.match(labels[-1]):
        raise CheckInputError(
            "That looks like an IP address in an unusual spelling. Write IPv4 as four decimal "
            "numbers (e.g. 192.0.2.10) or give the host name."
        )
    bad = next((c for c in text if c.isascii() and not (c.isalnum() or c in ".-")), None)
    if bad is not None:
        shown = repr(bad) if bad.isprintable() and bad != " " else "a space or control character"
        raise CheckInputError(
            f"That is not a host name: {shown} is not allowed. Use letters, digits, hyphens "
            "and dots, e.g. `smtp.example.com`."
        )
    if any(not label for label in labels):
        raise CheckInputError("That name has an empty label (two dots in a row, or a leading dot).")


def _a_label(name: str) -> str:
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise CheckInputError(f"That is not a valid international domain name ({exc}).") from None
    if len(ascii_name) > MAX_NAME:
        raise CheckInputError(f"That name is longer than {MAX_NAME} characters once encoded.")
    if not all(_LDH.match(label) for label in ascii_name.split(".")):
        raise CheckInputError("That is not a host name: use letters, digits, hyphens and dots.")
    return ascii_name


def _reject_special(name: str, internal_names: bool) -> None:
    labels = name.split(".")
    if len(labels) < 2:
        raise CheckInputError(
            "Give a fully qualified name such as `smtp.example.com`; single-label names only "
            "mean something inside one network."
        )
    tld = labels[-1]
    if tld in _ALWAYS_REFUSED or name.endswith(".home.arpa"):
        raise CheckInputError(f"`.{tld}` names are reserved and never reach a public server.")
    if tld in _INTERNAL and not internal_names:
        raise CheckInputError(
            f"`.{tld}` names exist only inside a network; the live check is for public servers."
        )


class LookupFailed(Exception):
    """A DNS lookup that did not produce an answer; the message says why."""


class Resolver(Protocol):
    """DNS as the checker needs it: record data as text, [] when the name has no such record."""

    async def query(self, name: str, rdtype: str) -> list[str]:
        """Answer `rdtype` for the absolute `name`; raise LookupFailed (NXDOMAIN, timeout...)."""

    async def authenticated(self, name: str, rdtype: str) -> tuple[list[str], bool]:
        """`query`, and whether the resolver vouched for the answer with DNSSEC (AD flag)."""


class DnsResolver:
    """dnspython's async stub resolver: reads resolv.conf, never /etc/hosts or a search list."""

    def __init__(self, lifetime: float = 5.0, nameserver: tuple[str, int] | None = None) -> None:
        self._resolver: dns.asyncresolver.Resolver | None = None
        self._lifetime = lifetime
        self._nameserver = nameserver
        """A server of the caller's own (`address`, `port`) instead of resolv.conf's."""

    def _make(self) -> dns.asyncresolver.Resolver:
        if self._nameserver is None:
            return dns.asyncresolver.Resolver()
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [self._nameserver[0]]
        resolver.port = self._nameserver[1]
        return resolver

    async def query(self, name: str, rdtype: str) -> list[str]:
        return (await self.authenticated(name, rdtype))[0]

    async def authenticated(self, name: str, rdtype: str) -> tuple[list[str], bool]:
        """Asks with the AD bit set (RFC 6840 §5.7), so a validating resolver says whether
        the answer is DNSSEC-secure; a resolver that does not validate never sets it."""
        qname = dns.name.from_text(name)
        try:
            if self._resolver is None:
                self._resolver = self._make()
                self._resolver.flags = dns.flags.RD | dns.flags.AD
            answer = await self._resolver.resolve(
                qname, rdtype, search=False, lifetime=self._lifetime
            )
        except dns.resolver.NoAnswer:
            return [], False
        except dns.resolver.NXDOMAIN:
            raise LookupFailed(f"{name} does not exist in DNS (NXDOMAIN)") from None
        except dns.exception.Timeout:
            raise LookupFailed(f"DNS lookup of {name} timed out") from None
        except dns.exception.DNSException as exc:
            raise LookupFailed(f"DNS lookup of {name} failed: {exc}") from None
        secure = bool(answer.response.flags & dns.flags.AD)
        return [rdata.to_text() for rdata in answer], secure


@dataclass
class StaticResolver:
    """A fixed table {name: {rdtype: [data]}} for tests and benchmarks; other names are
    NXDOMAIN. Records every query."""

    table: Mapping[str, Mapping[str, list[str]]]
    queries: list[tuple[str, str]] = field(default_factory=list)
    signed: set[str] = field(default_factory=set)
    """Names answered as DNSSEC-secure."""

    async def query(self, name: str, rdtype: str) -> list[str]:
        self.queries.append((name, rdtype))
        key = name.rstrip(".").lower()
        if key not in self.table:
            raise LookupFailed(f"{key} does not exist in DNS (NXDOMAIN)")
        return list(self.table[key].get(rdtype, []))

    async def authenticated(self, name: str, rdtype: str) -> tuple[list[str], bool]:
        records = await self.query(name, rdtype)
        return records, name.rstrip(".").lower() in self.signed


@dataclass(frozen=True, slots=True)
class Refused:
    """An address the bot will not connect to, and why."""

    address: str
    reason: str


@dataclass(frozen=True, slots=True)
class Target:
    """A host after resolution and vetting. `addresses` are the vetted IP literals to probe; it
    is empty when any address was refused, since a name with one internal address is not
    checked at all."""

    host: Host
    addresses: tuple[str, ...] = ()
    refused: tuple[Refused, ...] = ()
    skipped: tuple[str, ...] = ()
    dns_ms: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True, order=True)
class MxHost:
    """One MX record."""

    preference: int
    name: str


@dataclass(frozen=True, slots=True)
class MxLookup:
    """The MX hosts of a domain in preference order, or why there are none to check."""

    hosts: tuple[MxHost, ...] = ()
    note: str | None = None
    error: str | None = None
    dns_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class SrvService:
    """One mail service a domain publishes in DNS (RFC 6186, RFC 8314 for the TLS ones)."""

    service: str
    """`submissions`, `submission`, `imaps`, `imap`, `pop3s` or `pop3`."""
    priority: int
    weight: int
    port: int
    host: str


HTTPS_PORT = 443


@dataclass(frozen=True, slots=True)
class HttpsReply:
    """What an HTTPS GET brought back: at most the caller's limit of the body."""

    status: int
    content_type: str
    body: bytes
    truncated: bool


class FetchFailed(Exception):
    """An HTTPS fetch that got no reply: refused address, TLS failure, connection error."""


SRV_SERVICES = ("submissions", "submission", "imaps", "imap", "pop3s", "pop3")
MAX_SRV = 2


class Guard:
    """Resolve once, vet every address, connect only to vetted addresses on mail ports."""

    def __init__(
        self,
        resolver: Resolver,
        allow: Sequence[IPNetwork] = (),
        dial: Mapping[int, int] | None = None,
        https: ssl.SSLContext | None = None,
    ) -> None:
        """`https`: the verifying context for `fetch` (the system's CAs by default)."""
        self._resolver = resolver
        self._allow = tuple(allow)
        self._dial = dict(dial or {})
        self._https = https

    def clean(self, text: str) -> Host:
        """Name hygiene for user text; internal names are admitted only if ranges are allowed."""
        return clean_host(text, internal_names=bool(self._allow))

    def refused(self, host: Host) -> str | None:
        """For an IP literal the bot will not connect to, the message saying so (no DNS needed);
        None for a name or an address it may check."""
        if host.ip is None:
            return None
        reason = refusal(host.ip, self._allow)
        return " ".join(refused_literal(host.display, reason)) if reason else None

    async def resolve(self, host: Host) -> Target:
        """Resolve A and AAAA once and vet every address."""
        if host.ip is not None:
            return self._vet(host, [host.ip], 0.0)
        started = time.perf_counter()
        answers = await asyncio.gather(
            self._resolver.query(host.name, "A"),
            self._resolver.query(host.name, "AAAA"),
            return_exceptions=True,
        )
        dns_ms = _ms_since(started)
        errors = [a for a in answers if isinstance(a, BaseException)]
        found = [a for a in answers if isinstance(a, list)]
        if not any(found):
            error = str(errors[0]) if errors else f"{host.name} has no A or AAAA record"
            return Target(host, dns_ms=dns_ms, error=error)
        ips = [ipaddress.ip_address(text) for texts in found for text in texts]
        return self._vet(host, ips, dns_ms)

    def _vet(self, host: Host, ips: list[IPAddress], dns_ms: float) -> Target:
        refused = tuple(
            Refused(str(ip), reason) for ip in ips if (reason := refusal(ip, self._allow))
        )
        if refused:
            return Target(host, refused=refused, dns_ms=dns_ms)
        kept: list[str] = []
        skipped: list[str] = []
        for ip in dict.fromkeys(ips):
            same_family = sum(1 for k in kept if ipaddress.ip_address(k).version == ip.version)
            (kept if same_family < MAX_PER_FAMILY else skipped).append(str(ip))
        return Target(host, tuple(kept), skipped=tuple(skipped), dns_ms=dns_ms)

    async def mx(self, domain: Host) -> MxLookup:
        """The domain's MX hosts by preference; the domain itself when it has none (RFC 5321)."""
        started = time.perf_counter()
        try:
            records = await self._resolver.query(domain.name, "MX")
        except LookupFailed as exc:
            return MxLookup(error=str(exc), dns_ms=_ms_since(started))
        dns_ms = _ms_since(started)
        if not records:
            note = f"{domain.display} has no MX record, so mail goes to its own address."
            return MxLookup((MxHost(0, domain.name),), note=note, dns_ms=dns_ms)
        hosts = sorted(_parse_mx(r) for r in records)
        if len(hosts) == 1 and hosts[0].name in ("", "."):
            note = f"{domain.display} publishes a null MX: it accepts no mail (RFC 7505)."
            return MxLookup(note=note, dns_ms=dns_ms)
        cut = f"Only the first {MAX_MX} of {len(hosts)} MX hosts were checked."
        return MxLookup(
            tuple(hosts[:MAX_MX]), note=cut if len(hosts) > MAX_MX else None, dns_ms=dns_ms
        )

    async def srv(self, domain: Host) -> list[SrvService]:
        """The mail services `domain` publishes as SRV records, best first per service; a
        target of "." (RFC 6186 §3: not offered) and unparsable records are left out."""
        names = [f"_{service}._tcp.{domain.name}" for service in SRV_SERVICES]
        answers = await asyncio.gather(
            *(self._resolver.query(name, "SRV") for name in names), return_exceptions=True
        )
        found: list[SrvService] = []
        for service, answer in zip(SRV_SERVICES, answers, strict=True):
            if isinstance(answer, list):
                parsed = [r for text in answer if (r := _parse_srv(service, text))]
                records = sorted(parsed, key=lambda r: (r.priority, -r.weight))
                found.extend(records[:MAX_SRV])
        return found

    async def tlsa(self, host: str, port: int = 25) -> tuple[list[str], bool | None]:
        """`_<port>._tcp.<host>`'s TLSA records and whether DNSSEC vouched for them (None
        when there are none, or the lookup failed)."""
        try:
            records, secure = await self._resolver.authenticated(f"_{port}._tcp.{host}", "TLSA")
        except LookupFailed:
            return [], None
        return records, (secure if records else None)

    async def txt(self, name: str) -> list[str]:
        """The TXT records of the absolute `name` (as DNS presents them)."""
        return await self._resolver.query(name, "TXT")

    async def fetch(
        self, host: Host, path: str, limit: int, post: tuple[str, bytes] | None = None
    ) -> HttpsReply:
        """GET (or POST `post`: content type and body) `https://<host><path>` from a vetted
        address of `host` only, verifying its certificate for `host`, following no redirect and
        reading at most `limit` bytes. The caller bounds the time; FetchFailed says why nothing
        came back."""
        import aiohttp

        target = await self.resolve(host)
        if target.error or target.refused or not target.addresses:
            refused = ", ".join(f"{r.address} ({r.reason})" for r in target.refused)
            raise FetchFailed(target.error or f"{host.display} resolves to {refused}")
        connector = aiohttp.TCPConnector(
            resolver=_vetted_resolver(target, self._dial.get(HTTPS_PORT, HTTPS_PORT)),
            ssl=self._https or ssl.create_default_context(),
            use_dns_cache=False,
        )
        try:
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.request(
                    "POST" if post else "GET",
                    f"https://{host.name}{path}",
                    data=post[1] if post else None,
                    headers={"Content-Type": post[0]} if post else None,
                    allow_redirects=False,
                ) as response,
            ):
                body = await response.content.read(limit + 1)
                return HttpsReply(
                    response.status, response.content_type, body[:limit], len(body) > limit
                )
        except (aiohttp.ClientError, OSError) as exc:
            raise FetchFailed(_fetch_error(exc)) from None

    async def ptr(self, address: str) -> tuple[str | None, bool | None]:
        """Reverse DNS of `address`, and whether that name resolves back to it (FCrDNS)."""
        try:
            names = await self._resolver.query(
                dns.reversename.from_address(address).to_text(), "PTR"
            )
        except LookupFailed:
            return None, None
        if not names:
            return None, None
        name = names[0].rstrip(".")
        rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
        try:
            forward = await self._resolver.query(name, rdtype)
        except LookupFailed:
            return name, False
        ip = ipaddress.ip_address(address)
        return name, any(ipaddress.ip_address(f) == ip for f in forward)

    async def connect(
        self, address: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Open TCP to a vetted IP literal on a mail port (vetted again here: defence in depth).

        The caller bounds the time; the reader's line limit is MAX_LINE. `dial` (from code, never
        from a user or a setting) maps a mail port to the TCP port its server really listens on,
        so tests run real servers on unprivileged ports; the port vetted and reported is the
        mail port."""
        ip = _ip_or_none(address)
        if ip is None or str(ip) != address or port not in PORTS:
            raise ValueError(f"refusing to connect to {address!r} port {port}")
        reason = refusal(ip, self._allow)
        if reason:
            raise ValueError(f"refusing to connect to {address} ({reason})")
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        return await asyncio.open_connection(
            address,
            self._dial.get(port, port),
            family=family,
            flags=socket.AI_NUMERICHOST,
            limit=MAX_LINE,
        )


def _vetted_resolver(target: Target, dial_port: int) -> Any:
    """aiohttp's resolver for one host: only the guard's vetted addresses, on the HTTPS port
    (`dial`'s stand-in in tests); any other name or port is refused. (aiohttp is imported
    here, not by the module, so a check that fetches nothing does not load it.)"""
    from aiohttp.abc import AbstractResolver, ResolveResult

    class Vetted(AbstractResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            if host != target.host.name or port != HTTPS_PORT:
                raise OSError(f"refusing to connect to {host!r} port {port}")
            return [
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=dial_port,
                    family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
                for address in target.addresses
            ]

        async def close(self) -> None:
            """Nothing to release."""

    return Vetted()


def _fetch_error(exc: BaseException) -> str:
    """A failed fetch in words: the certificate's fault, or the connection's."""
    reason = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None) or exc
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"its certificate is not valid ({reason.verify_message})"
    return str(reason) or type(reason).__name__


def _ip_or_none(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_srv(service: str, text: str) -> SrvService | None:
    """`priority weight port target` as DNS gives it; None for "." or a malformed record."""
    parts = text.split()
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        return None
    host = parts[3].rstrip(".").lower()
    port = int(parts[2])
    if not host or not 0 < port < 65536:
        return None
    return SrvService(service, int(parts[0]), int(parts[1]), port, host)


def _parse_mx(text: str) -> MxHost:
    preference, _, exchange = text.partition(" ")
    return MxHost(int(preference), exchange.strip().rstrip(".").lower() or ".")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
