"""`settings QUERY`: a provider's settings by name, email address or domain, or, for a domain
that is no known provider, by where its MX hosts point (a Google or Microsoft 365 domain),
else by the autoconfig file it serves mail clients (as Thunderbird fetches it), else by the
SRV records it publishes for them (RFC 6186, RFC 8314).

Names and known domains are answered from the records at once; only an unknown domain costs
DNS queries and HTTPS fetches (MX, the six SRV names and the two autoconfig URLs at once),
made through the live check's guard (name hygiene, no search list, vetted addresses, a
deadline). Settings the domain publishes say where they come from, and offer the live check
on what they name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.check.errors import CheckError
from bot.check.guard import FetchFailed, Guard, Host, SrvService
from bot.check.ports import PORTS as CHECK_PORTS
from bot.engine.facade import MAX_CHECKS, Engine
from bot.kb import ispdb
from bot.kb.knowledge import Source
from bot.kb.records import HOST, Found, Provider, Server
from bot.match.answers import Answer

MAX_QUERY = 254


@dataclass(frozen=True, slots=True)
class SettingsResult:
    """What a `settings` query found, as an answer every renderer knows."""

    query: str
    found: Found | None
    answer: Answer
    refused: bool = False


def local(engine: Engine, query: str) -> SettingsResult | None:
    """The result when the records answer by name or known domain, else None."""
    found = engine.settings(query)
    if found is None:
        return None
    if not found.provider.known:
        return SettingsResult(
            query, None, Answer(query, "no_match", 0.0, None, (), (), found.provider.unknown_note())
        )
    return _result(engine, query, found, "")


async def discover(engine: Engine, guard: Guard, query: str) -> SettingsResult:
    """Records first; then, for something that looks like a domain, its MX hosts."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return _missing(engine, query, "Give a provider, an email address or a domain.", True)
    known = local(engine, query)
    if known is not None:
        return known
    domain = query.rpartition("@")[2]
    if "." not in domain or " " in domain:
        return _missing(engine, query, f"I have no settings for {query!r}.")
    try:
        host = guard.clean(domain)
    except CheckError as exc:
        return _missing(engine, query, str(exc), True)
    if host.ip is not None:
        return _missing(engine, query, "Give a domain name, not an IP address.", True)
    address = query if "@" in query else f"postmaster@{host.name}"
    lookup, services, published, discovered = await asyncio.gather(
        guard.mx(host),
        guard.srv(host),
        _autoconfig(engine, guard, host),
        _autodiscover(engine, guard, host, address),
    )
    names = [mx.name for mx in lookup.hosts]
    found = engine.settings_by_mx(names)
    shown = ", ".join(names[:3]) or "none"
    mx_note = f"; its MX hosts ({shown}) belong to no provider I know" if not lookup.error else ""
    if found is None and published is not None:
        note = f"{host.display} publishes its mail client settings in an autoconfig file{mx_note}."
        return _discovered(engine, query, published, note)
    if found is None and discovered is not None:
        note = f"{host.display} answers Microsoft Autodiscover with mail client settings{mx_note}."
        return _discovered(engine, query, discovered, note)
    if found is None and services:
        return _from_srv(engine, query, host, services, mx_note)
    if lookup.error:
        return _missing(engine, query, f"I have no settings for {host.display}: {lookup.error}.")
    if found is None:
        return _missing(
            engine,
            query,
            f"I have no settings for {host.display}: its MX hosts ({shown}) belong to no "
            "provider I know. Its mail host or IT team has the client settings.",
        )
    note = f"{host.display} receives its mail at {shown}, so it is hosted by {found.provider.name}."
    return _result(engine, query, found, note)


_SRV_SERVERS = {
    "submissions": ("outgoing", "smtp", "implicit"),
    "submission": ("outgoing", "smtp", "starttls"),
    "imaps": ("incoming", "imap", "implicit"),
    "imap": ("incoming", "imap", "starttls"),
    "pop3s": ("incoming", "pop3", "implicit"),
    "pop3": ("incoming", "pop3", "starttls"),
}
SRV_SOURCES = (
    Source(
        "RFC 6186: Use of SRV Records for Locating Email Submission/Access Services",
        "https://www.rfc-editor.org/rfc/rfc6186",
    ),
    Source(
        "RFC 8314: Cleartext Considered Obsolete (implicit TLS SRV names)",
        "https://www.rfc-editor.org/rfc/rfc8314#section-5.1",
    ),
)


AUTOCONFIG_SECONDS = 1.5
"""How long the domain's web servers get to hand over its autoconfig file: what is left of
`settings`' time goes to the DNS answers."""
AUTOCONFIG_MAX = 64 * 1024
AUTOCONFIG_PATHS = (
    ("autoconfig.", "/mail/config-v1.1.xml"),
    ("", "/.well-known/autoconfig/mail/config-v1.1.xml"),
)
"""Where Thunderbird looks, in its order: `autoconfig.<domain>`, then the domain's own
.well-known path."""


AUTODISCOVER_PATHS = (
    ("", "/autodiscover/autodiscover.xml"),
    ("autodiscover.", "/autodiscover/autodiscover.xml"),
)
"""Where Outlook posts its Autodiscover request, in its order."""
AUTODISCOVER_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
"""
AUTODISCOVER_SOURCE = Source(
    "Microsoft: Protocol (POX), the Autodiscover response's server settings",
    "https://learn.microsoft.com/en-us/previous-versions/office/developer/exchange-server-2010/"
    "bb204278(v=exchg.140)",
)


async def _autoconfig(engine: Engine, guard: Guard, domain: Host) -> Provider | None:
    """The settings `domain` publishes in an autoconfig file over HTTPS (fetched through the
    guard: vetted addresses, a valid certificate, no redirect), or None."""

    def read(text: str, url: str) -> Provider | None:
        return ispdb.published(text, domain.name, url, engine.kb.ports)

    return await _first(guard, domain, AUTOCONFIG_PATHS, None, read)


async def _autodiscover(
    engine: Engine, guard: Guard, domain: Host, address: str
) -> Provider | None:
    """The IMAP, POP3 and SMTP settings `domain` answers Outlook's Autodiscover request with
    (POX, over HTTPS through the guard), or None."""
    body = AUTODISCOVER_REQUEST.format(address=html.escape(address)).encode()

    def read(text: str, url: str) -> Provider | None:
        servers = autodiscover_servers(text, engine.kb.ports)
        sources = (Source(f"{domain.display}'s Autodiscover answer", url), AUTODISCOVER_SOURCE)
        said = "the Autodiscover answer does not say"
        return _published(domain, servers, "autodiscover", sources, said) if servers else None

    return await _first(guard, domain, AUTODISCOVER_PATHS, ("text/xml", body), read)


async def _first(
    guard: Guard,
    domain: Host,
    places: tuple[tuple[str, str], ...],
    post: tuple[str, bytes] | None,
    read: Callable[[str, str], Provider | None],
) -> Provider | None:
    """The first of `places` (prefix to the domain, path) whose reply `read` makes settings
    of, all asked at once and given AUTOCONFIG_SECONDS."""
    tasks = [
        asyncio.ensure_future(_fetch(guard, prefix + domain.name, path, post, read))
        for prefix, path in places
    ]
    done, pending = await asyncio.wait(tasks, timeout=AUTOCONFIG_SECONDS)
    for task in pending:
        task.cancel()
    return next((t.result() for t in tasks if t in done and t.result() is not None), None)


async def _fetch(
    guard: Guard,
    name: str,
    path: str,
    post: tuple[str, bytes] | None,
    read: Callable[[str, str], Provider | None],
) -> Provider | None:
    try:
        host = guard.clean(name)
        reply = await guard.fetch(host, path, AUTOCONFIG_MAX, post)
    except (CheckError, FetchFailed):
        return None
    if reply.status != 200 or reply.truncated:
        return None
    return read(reply.body.decode("utf-8", "replace"), f"https://{host.display}{path}")


_ENCRYPTION = {"ssl": "implicit", "tls": "starttls", "none": "none"}
_IMPLICIT_PORTS = (465, 993, 995)


def autodiscover_servers(text: str, ports: Mapping[int, object]) -> tuple[Server, ...]:
    """The IMAP, POP3 and SMTP `Protocol` elements of a POX Autodiscover response as servers:
    `Encryption` says how TLS starts (SSL at once, TLS by STARTTLS); without it, `SSL on` is
    TLS at once on 465, 993 and 995 and STARTTLS elsewhere."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return ()
    servers = []
    for protocol in root.iterfind(".//{*}Protocol"):
        kind = ispdb.TYPES.get((protocol.findtext("{*}Type") or "").strip().lower())
        host = (protocol.findtext("{*}Server") or "").strip().lower()
        port = (protocol.findtext("{*}Port") or "").strip()
        if not kind or not HOST.match(host) or not port.isdigit() or int(port) not in ports:
            continue
        encryption = (protocol.findtext("{*}Encryption") or "").strip().lower()
        ssl_on = (protocol.findtext("{*}SSL") or "on").strip().lower() == "on"
        implicit = "implicit" if int(port) in _IMPLICIT_PORTS else "starttls"
        tls = _ENCRYPTION.get(encryption) or (implicit if ssl_on else "none")
        servers.append(Server(kind[0], kind[1], host, int(port), tls))
    return tuple(dict.fromkeys(servers))


def _published(
    domain: Host,
    servers: tuple[Server, ...],
    origin: str,
    sources: tuple[Source, ...],
    unsaid: str,
) -> Provider:
    """Settings the domain hands out itself (`origin`: how), as an unreviewed provider record;
    `unsaid` is why the username and sign-in are not known."""
    return Provider(
        id=f"{origin}-{domain.name}",
        name=domain.display,
        kind="mailbox",
        aliases=(),
        domains=(domain.name,),
        mx=(),
        servers=servers,
        username=f"Usually the full email address ({unsaid}).",
        auth=f"Whatever the domain's mail host requires ({unsaid}).",
        notes=("Run the live check on these hosts before handing them on.",),
        sources=sources,
        reviewed=dt.date.today(),
        origin=origin,
    )


def _from_srv(
    engine: Engine, query: str, host: Host, services: list[SrvService], mx_note: str
) -> SettingsResult:
    """Settings built from the SRV records the domain publishes, marked as such."""
    servers = tuple(
        Server(*_SRV_SERVERS[s.service][:2], s.host, s.port, _SRV_SERVERS[s.service][2])
        for s in services
        if HOST.match(s.host)
    )
    if not servers:
        return _missing(engine, query, f"I have no settings for {host.display}.")
    provider = _published(host, servers, "dns", SRV_SOURCES, "SRV records do not say")
    note = f"{host.display} publishes its mail client settings in DNS (SRV records){mx_note}."
    return _discovered(engine, query, provider, note)


def _discovered(engine: Engine, query: str, provider: Provider, note: str) -> SettingsResult:
    """Settings the domain publishes itself, as an answer offering the live check on them."""
    entry = provider.as_entry()
    targets = [
        f"{s.host} {s.port}"
        for s in sorted(provider.servers, key=_smtp_first)
        if s.port in CHECK_PORTS
    ]
    answer = Answer(
        entry.question,
        "answered",
        100.0,
        entry,
        (),
        engine.kb.port_rows(entry.ports),
        note,
        checks=tuple(dict.fromkeys(targets))[:MAX_CHECKS],
    )
    return SettingsResult(query, None, answer)


def _smtp_first(server: Server) -> int:
    return 0 if server.protocol == "smtp" else 1


def _result(engine: Engine, query: str, found: Found, note: str) -> SettingsResult:
    answer = engine.entry_answer(found.provider.entry_id)
    assert answer is not None and answer.entry is not None, "records are checked at load"
    entry = answer.entry
    return SettingsResult(
        query, found, Answer(entry.question, "answered", 100.0, entry, (), answer.ports, note)
    )


def _missing(engine: Engine, query: str, why: str, refused: bool = False) -> SettingsResult:
    known = [p for p in engine.kb.providers.values() if p.known]
    reviewed = sorted(p.name for p in known if not p.origin)
    others = len(known) - len(reviewed)
    names = ", ".join(reviewed)
    if others:
        names += (
            f", and {others} more mailbox providers from Thunderbird's ISPDB "
            "(ask by email address or domain)"
        )
    note = f"{why} I have reviewed settings for: {names}." if names else why
    return SettingsResult(query, None, Answer(query, "no_match", 0.0, None, (), (), note), refused)
