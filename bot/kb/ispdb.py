"""Mailbox providers from Thunderbird's ISPDB (`knowledge/ispdb`, MPL-2.0, vendored unmodified),
for the providers that mailport's reviewed records do not cover.

Each `<emailProvider>` becomes a `Provider` whose `origin` says where it came from, so every
answer built from it says that the settings are community-maintained and unreviewed. Only what
the file states is used: its domains (also matched against MX hosts, as Thunderbird does),
IMAP, POP3 and SMTP servers with a fixed host name, the username form, the sign-in methods and
the provider's documentation links. A name is recognised in a question only when it is not an
ordinary word ("wind", "sky"), and a reviewed record always wins for the same domain; a
reviewed record that holds no servers takes the ISPDB's, with the ISPDB cited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.kb.knowledge import PortInfo, Problem, Source
from bot.kb.records import HOST, ISPDB_PREFIX, Provider, Server

FOLDER = "ispdb"
COMMIT = "c6ad79659b5fc321d1593ec4c277815b83e5dec5"
SNAPSHOT = dt.date(2026, 3, 12)
ORIGIN = "ispdb"
UPSTREAM = f"https://github.com/thunderbird/autoconfig/blob/{COMMIT}/ispdb/"
SOCKETS = {"SSL": "implicit", "STARTTLS": "starttls", "plain": "none"}
TYPES = {"imap": ("incoming", "imap"), "pop3": ("incoming", "pop3"), "smtp": ("outgoing", "smtp")}
USERNAMES = {
    "%EMAILADDRESS%": "the full email address",
    "%EMAILLOCALPART%": "the part of the address before the @",
}
SIGN_IN = {
    "password-cleartext": "password",
    "password-encrypted": "password (CRAM-MD5)",
    "OAuth2": "OAuth2",
    "client-IP-address": "by the client's IP address",
}
# Short names in the ISPDB that are ordinary words (or another product's name): a question
# using them is not taken to name that provider; its domains still are.
NOT_NAMES = frozenset(
    "wind goo jet hal apple outlook sky one tim bol uol q.com mit free janis aikis nili".split()
)
_SUFFIXES = re.compile(r"\s*(?::|-)?\s*\b(e-?mail|freemail|mail|poczta|email hosting)$")
_ASCII_NAME = re.compile(r"^[a-z0-9][a-z0-9 .&!/-]{1,40}$")
CAVEAT = (
    "These settings come from Thunderbird's ISPDB, which its community maintains; they were "
    "not reviewed against {name}'s own documentation, so confirm them there."
)


def load(root: Path, ports: dict[int, PortInfo], problems: list[Problem]) -> list[Provider]:
    """The ISPDB providers in `root/ispdb` (none when the folder is absent)."""
    folder = root / FOLDER
    found: list[Provider] = []
    for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
        try:
            document = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as exc:
            problems.append(Problem(_file(path), path.name, "xml", f"unreadable: {exc}"))
            continue
        for element in document.iter("emailProvider"):
            provider = _provider(path, element, ports)
            if provider is not None:
                found.append(provider)
    return found


def merge(reviewed: Iterable[Provider], ispdb: Iterable[Provider]) -> list[Provider]:
    """Reviewed records first, then each ISPDB provider that no reviewed record covers (by
    domain or by name). A reviewed record without servers takes those of the ISPDB provider
    that shares a domain with it, and its other domains, citing the ISPDB, unless the record
    says `ispdb: false`."""
    records = list(reviewed)
    owners = {domain: index for index, record in enumerate(records) for domain in record.domains}
    names = {name for record in records for name in record.names}
    for provider in ispdb:
        shared = [owners[d] for d in provider.domains if d in owners]
        if shared:
            index = shared[0]
            if not records[index].servers and records[index].ispdb:
                records[index] = _filled(records[index], provider, owners)
                owners.update(dict.fromkeys(records[index].domains, index))
            continue
        if names.intersection(provider.aliases):
            continue
        domains = tuple(d for d in provider.domains if d not in owners)
        if domains:
            owners.update(dict.fromkeys(domains, len(records)))
            records.append(dataclasses.replace(provider, domains=domains, mx=domains))
    return records


def _filled(record: Provider, provider: Provider, owners: dict[str, int]) -> Provider:
    extra = tuple(d for d in provider.domains if d not in owners)
    return dataclasses.replace(
        record,
        domains=(*record.domains, *extra),
        servers=provider.servers,
        notes=(*record.notes, CAVEAT.format(name=record.name)),
        sources=(*record.sources, *provider.sources),
        origin=ORIGIN,
    )


def _provider(path: Path, element: ET.Element, ports: dict[int, PortInfo]) -> Provider | None:
    domains = tuple(dict.fromkeys(d for d in _texts(element, "domain") if HOST.match(d)))
    servers = tuple(_servers(element, ports))
    name = (element.findtext("displayName") or "").strip()
    if not domains or not servers or not name or "%" in name:
        return None
    short = (element.findtext("displayShortName") or "").strip()
    username = next(iter(_texts(element, "incomingServer/username")), "")
    return Provider(
        id=f"{ISPDB_PREFIX}{path.stem.replace('.', '-')}",
        name=name,
        kind="mailbox",
        aliases=tuple(_aliases(name, short)),
        domains=domains,
        mx=domains,
        servers=servers,
        username=USERNAMES.get(username, "as the provider's documentation says"),
        auth=_sign_in(element),
        notes=(CAVEAT.format(name=name),),
        sources=(*_documentation(element), _upstream(path)),
        reviewed=SNAPSHOT,
        file=_file(path),
        origin=ORIGIN,
    )


def published(text: str, domain: str, url: str, ports: dict[int, PortInfo]) -> Provider | None:
    """A domain's own autoconfig file (the ISPDB's format, as Thunderbird fetches it from
    `autoconfig.<domain>`) as a provider record, `%EMAILDOMAIN%` filled in; None when it holds
    no usable server."""
    try:
        root = ET.fromstring(text.replace("%EMAILDOMAIN%", domain))
    except ET.ParseError:
        return None
    element = root.find("emailProvider")
    servers = tuple(_servers(element, ports)) if element is not None else ()
    if element is None or not servers:
        return None
    username = next(iter(_texts(element, "incomingServer/username")), "")
    return Provider(
        id=f"autoconfig-{domain.replace('.', '-')}",
        name=domain,
        kind="mailbox",
        aliases=(),
        domains=(domain,),
        mx=(),
        servers=servers,
        username=USERNAMES.get(username, "as the domain's mail host says"),
        auth=_sign_in(element),
        notes=(
            f"{domain} publishes these itself, for mail clients that set themselves up "
            "(Thunderbird reads the same file); run the live check on them before handing "
            "them on.",
        ),
        sources=(Source(f"{domain}'s autoconfig file", url),),
        reviewed=dt.date.today(),
        origin="autoconfig",
    )


def _servers(element: ET.Element, ports: dict[int, PortInfo]) -> Iterator[Server]:
    for server in (*element.findall("incomingServer"), *element.findall("outgoingServer")):
        kind = TYPES.get(server.get("type", ""))
        host = (server.findtext("hostname") or "").strip().lower()
        port = (server.findtext("port") or "").strip()
        tls = SOCKETS.get((server.findtext("socketType") or "").strip())
        if kind and tls and HOST.match(host) and port.isdigit() and int(port) in ports:
            yield Server(kind[0], kind[1], host, int(port), tls)


def _aliases(name: str, short: str) -> Iterator[str]:
    """The display names, and each without a trailing "Mail", when they are safe to spot."""
    for text in dict.fromkeys((name.lower(), short.lower())):
        for alias in dict.fromkeys((text, _SUFFIXES.sub("", text).strip(" :-"))):
            if _ASCII_NAME.match(alias) and alias not in NOT_NAMES and len(alias) >= 3:
                yield alias


def _sign_in(element: ET.Element) -> str:
    methods = dict.fromkeys(
        SIGN_IN[m] for m in _texts(element, "incomingServer/authentication") if m in SIGN_IN
    )
    methods.update(
        dict.fromkeys(
            SIGN_IN[m] for m in _texts(element, "outgoingServer/authentication") if m in SIGN_IN
        )
    )
    return ", ".join(methods) or "as the provider's documentation says"


def _documentation(element: ET.Element) -> Iterator[Source]:
    for doc in element.findall("documentation"):
        url = doc.get("url", "")
        if url.startswith("https://"):
            titles = {d.get("lang", ""): (d.text or "").strip() for d in doc.findall("descr")}
            title = titles.get("en") or next(iter(titles.values()), "") or "Provider documentation"
            yield Source(title, url)


def _upstream(path: Path) -> Source:
    return Source(f"Thunderbird ISPDB: {path.name} (snapshot {SNAPSHOT})", UPSTREAM + path.name)


def _texts(element: ET.Element, tag: str) -> Iterator[str]:
    for child in element.findall(tag):
        if child.text and child.text.strip():
            yield child.text.strip().lower() if tag == "domain" else child.text.strip()


def _file(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"
