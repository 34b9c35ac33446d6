"""Tabular knowledge: mailbox providers' and sending services' server settings, one record each.

A record is data (hosts, ports, TLS modes, username, auth, notes, sources, reviewed date);
its answer is rendered from the data, so a host or port is written once. `ProviderIndex`
finds the record a question or a `settings` query names: by name or alias (typos too), by
an email address or domain, or by the MX hosts a domain's mail goes to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.kb.knowledge import (
    AUTOCONFIG_TAG,
    DNS_TAG,
    ENTRY_ID,
    ISPDB_TAG,
    TLS_LABELS,
    TLS_MODES,
    Entry,
    PortInfo,
    Problem,
    Source,
    _choice,
    _date,
    _Fields,
    _sources,
    _text,
    _text_list,
    record_fields,
)

PROVIDERS_FILE = "records/providers.yaml"
ISPDB_PREFIX = "ispdb-"  # the ids of providers read from Thunderbird's ISPDB (bot/kb/ispdb.py)
KINDS = ("mailbox", "sending")
ROLES = ("incoming", "outgoing", "relay")
PROTOCOLS = ("imap", "pop3", "smtp")
PROTOCOL_LABELS = {"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP"}
ROLE_LABELS = {"incoming": "Incoming", "outgoing": "Outgoing", "relay": "Relay"}
FUZZY_MIN = 86
FUZZY_LENGTH = 5
HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_WORD = re.compile(r"[a-z0-9][a-z0-9.&@-]*[a-z0-9]|[a-z0-9]")
_ADDRESS_DOMAIN = re.compile(r"@([a-z0-9-]+(?:\.[a-z0-9-]+)+)")
"""The domain of an address, or of `@sky.com` written alone."""

# How people ask a record's settings, for the matcher to rank a record beside the curated
# entries about the same provider ("fastmail smtp settings" is the record, "fastmail app
# password access" the entry). `{name}` is the name people type; protocol lines only when
# the record has servers for the protocol.
_ASKED = (
    "{name} smtp settings",
    "what is the {name} smtp server and port",
    "server settings to set up {name} in a mail client",
)
_ASKED_MAILBOX = ("{name} incoming and outgoing server settings",)
_ASKED_SENDING = ("{name} smtp relay host and port",)
_ASKED_BY_PROTOCOL = {
    "imap": ("{name} imap server name and port",),
    "pop3": ("{name} pop3 settings",),
}

PROVIDER_FIELDS = (
    "id",
    "name",
    "kind",
    "aliases",
    "domains",
    "mx",
    "servers",
    "username",
    "auth",
    "notes",
    "sources",
    "reviewed",
    "entry",
    "ispdb",
)
SERVER_FIELDS = ("role", "protocol", "host", "port", "tls", "region", "note")


ORIGIN_TAGS = {
    "ispdb": ISPDB_TAG,
    "dns": DNS_TAG,
    "autoconfig": AUTOCONFIG_TAG,
    "autodiscover": AUTOCONFIG_TAG,
}
ORIGIN_NOTES = {
    "ispdb": "From Thunderbird's ISPDB, unreviewed.",
    "dns": "From the domain's own DNS SRV records (RFC 6186), unreviewed.",
    "autoconfig": "From the domain's own autoconfig file, unreviewed.",
    "autodiscover": "From the domain's own Autodiscover answer, unreviewed.",
}


@dataclass(frozen=True, slots=True)
class Server:
    """One server a client or an application connects to."""

    role: str
    protocol: str
    host: str
    port: int
    tls: str
    region: str = ""
    note: str = ""

    def line(self) -> str:
        """`Incoming (IMAP): imap.example.com port 993, implicit TLS`, in mrkdwn."""
        where = f" ({self.region})" if self.region else ""
        label = f"{ROLE_LABELS[self.role]} ({PROTOCOL_LABELS[self.protocol]}){where}"
        note = f". {self.note}" if self.note else ""
        return f"{label}: `{self.host}` port {self.port}, {TLS_LABELS[self.tls]}{note}"


@dataclass(frozen=True, slots=True)
class Provider:
    """A mailbox provider's or a sending service's settings."""

    id: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...]
    mx: tuple[str, ...]
    servers: tuple[Server, ...]
    username: str
    auth: str
    notes: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed: dt.date
    entry: str = ""
    file: str = ""
    origin: str = ""
    """Where the servers come from when not from a review: `ispdb` (see bot/kb/ispdb.py)."""
    ispdb: bool = True
    """Whether a record without servers may take the ISPDB's (false when they are known to
    fall short, e.g. per-region hosts)."""

    @property
    def names(self) -> tuple[str, ...]:
        """What a question may call it: a reviewed record's name, id and aliases; an ISPDB
        provider's aliases only (they leave out display names that are ordinary words)."""
        if self.id.startswith(ISPDB_PREFIX):
            return self.aliases
        return (self.name.lower(), self.id.replace("-", " "), *self.aliases)

    @property
    def known(self) -> bool:
        """Whether the record holds reviewed servers (a record without is a name we know)."""
        return bool(self.servers)

    def unknown_note(self) -> str:
        """What to say for a provider we recognise but hold no reviewed servers for."""
        said = " ".join(note.rstrip(".") + "." for note in self.notes)
        where = self.sources[0].url if self.sources else ""
        return (
            f"I have no reviewed server settings for {self.name} yet. {said} "
            f"{self.name}'s own help: {where}"
        ).replace("  ", " ")

    @property
    def entry_id(self) -> str:
        """The id its answer has: a curated entry's, or `settings-<id>`."""
        return self.entry or f"settings-{self.id}"

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(server.port for server in self.servers))

    def as_entry(self) -> Entry:
        """The record as an entry, rendered from its data (for `ask`, `settings`, buttons)."""
        what = "SMTP settings" if self.kind == "sending" else "mail server settings"
        return Entry(
            id=f"settings-{self.id}",
            question=f"What are {self.name}'s {what}?",
            alternates=(),
            short=self.short(),
            detail=self.detail(),
            ports=self.ports,
            tags=("settings", self.kind, *((ORIGIN_TAGS[self.origin],) if self.origin else ())),
            sources=self.sources,
            related=(),
            reviewed=self.reviewed,
            file=self.file,
        )

    def ranked_entry(self, name: str) -> Entry:
        """The rendered entry, about the provider and phrased the ways people ask settings
        by `name`: the matcher ranks it beside the curated entries about the provider."""
        protocols = {server.protocol for server in self.servers}
        asked = [*_ASKED, *(_ASKED_SENDING if self.kind == "sending" else _ASKED_MAILBOX)]
        for protocol, phrasings in _ASKED_BY_PROTOCOL.items():
            asked += phrasings if protocol in protocols else ()
        regions = dict.fromkeys(server.region for server in self.servers if server.region)
        asked += [f"{{name}} smtp host for the {region} region" for region in regions]
        alternates = tuple(text.format(name=name) for text in asked)
        return dataclasses.replace(self.as_entry(), alternates=alternates, about=(self.id,))

    def short(self) -> str:
        """One sentence: each protocol's first host and that host's ports."""
        parts = []
        for protocol in PROTOCOLS:
            servers = [s for s in self.servers if s.protocol == protocol]
            if servers:
                host = servers[0].host
                ports = " or ".join(
                    f"{s.port} ({TLS_LABELS[s.tls]})" for s in servers if s.host == host
                )
                parts.append(f"{PROTOCOL_LABELS[protocol]} {host} on {ports}")
        said = f"{self.name}: " + "; ".join(parts) + "."
        return f"{said} ({ORIGIN_NOTES[self.origin]})" if self.origin else said

    def detail(self) -> str:
        """Every server, the username and how to sign in, and the notes, in mrkdwn."""
        lines = [f"• {server.line()}" for server in self.servers]
        lines.append(f"• Username: {self.username}")
        lines.append(f"• Sign-in: {self.auth}")
        lines.extend(f"• {note}" for note in self.notes)
        return "\n".join(lines)


def load_providers(
    root: Path, ports: dict[int, PortInfo], problems: list[Problem]
) -> list[Provider]:
    """The provider records of a knowledge directory (none when the file is absent)."""
    found = (_provider(f, ports) for f in record_fields(root / PROVIDERS_FILE, "id", problems))
    return [record for record in found if record]


def _provider(f: _Fields, ports: dict[int, PortInfo]) -> Provider | None:
    f.unknown(PROVIDER_FIELDS)
    values = dict(
        id=f.get(
            "id", lambda v: None if isinstance(v, str) and ENTRY_ID.match(v) else "kebab-case"
        ),
        name=f.get("name", _text(60)),
        kind=f.get("kind", _choice(KINDS)),
        aliases=tuple(a.lower() for a in f.get("aliases", _text_list, [])),
        domains=tuple(f.get("domains", _hosts, [])),
        mx=tuple(f.get("mx", _hosts, [])),
        servers=tuple(_servers(f, ports)),
        username=f.get("username", _text(300)),
        auth=f.get("auth", _text(500)),
        notes=tuple(f.get("notes", _text_list, [])),
        sources=tuple(
            Source(str(s["title"]), str(s["url"])) for s in f.get("sources", _sources, [])
        ),
        reviewed=f.get("reviewed", _date),
        entry=f.get("entry", _text(80), ""),
        file=f.file,
        ispdb=f.get("ispdb", _flag, True),
    )
    return Provider(**values) if f.ok else None


def _flag(value: object) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _hosts(value: object) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and HOST.match(v) for v in value):
        return "must be a list of lower-case host or domain names"
    return None


def _servers(f: _Fields, ports: dict[int, PortInfo]) -> Iterable[Server]:
    raw = f.get("servers", lambda v: None if isinstance(v, list) else "must be a list")
    for index, item in enumerate(raw or []):
        where = f"servers[{index}]"
        if not isinstance(item, dict) or set(item) - set(SERVER_FIELDS):
            f.fail(where, f"must be a mapping with only {', '.join(SERVER_FIELDS)}")
            continue
        problem = _server_problem(item, ports)
        if problem:
            f.fail(where, problem)
            continue
        yield Server(**{k: item[k] for k in SERVER_FIELDS if k in item})


def _server_problem(item: dict[str, object], ports: dict[int, PortInfo]) -> str | None:
    checks = [
        (item.get("role") in ROLES, f"role must be one of {', '.join(ROLES)}"),
        (item.get("protocol") in PROTOCOLS, f"protocol must be one of {', '.join(PROTOCOLS)}"),
        (isinstance(item.get("host"), str) and HOST.match(str(item["host"])), "bad host name"),
        (item.get("port") in ports, f"port {item.get('port')} is not in ports.yaml"),
        (item.get("tls") in TLS_MODES, f"tls must be one of {', '.join(TLS_MODES)}"),
    ]
    return next((message for ok, message in checks if not ok), None)


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


@dataclass(frozen=True, slots=True)
class Found:
    """The record a query named, and how it was found."""

    provider: Provider
    via: str
    """`name`, `domain` or `mx`."""


class ProviderIndex:
    """Finds records by name, alias, typo, email domain or MX host."""

    def __init__(self, providers: Sequence[Provider], shared: Iterable[str] = ()) -> None:
        """`shared`: names that also stand for something else, such as a mail client
        ("outlook"): they name a provider only when nothing more specific does."""
        self.providers = {p.id: p for p in providers}
        self._names: dict[str, str] = {}
        for p in providers:
            for alias in p.names:
                self._names.setdefault(_normal(alias), p.id)
        self._shared = frozenset(_normal(name) for name in shared)
        self._domains: dict[str, str] = {}
        for p in providers:
            for domain in p.domains:
                self._domains.setdefault(domain, p.id)
        self._hosts: dict[str, str] = {}
        for p in providers:
            for server in p.servers:
                self._hosts.setdefault(server.host, p.id)
        self._single = [
            name
            for name, owner in self._names.items()
            if " " not in name and not owner.startswith(ISPDB_PREFIX)
        ]
        self._longest = max((len(n.split()) for n in self._names), default=1)

    def named_in(self, text: str) -> Provider | None:
        """The record the text names, most specific first: an email address's domain
        (`jane@sky.com`), a name or alias, a server or domain, a name that also stands for a
        mail client ("outlook"), then a typo of a one-word name."""
        words = _normal(text).split()
        addresses = _ADDRESS_DOMAIN.findall(text.lower())
        hosts = [w.rpartition("@")[2] for w in words if "." in w]
        named = self._names_in(words)
        found = (
            next(filter(None, map(self._by_host, addresses)), None)
            or next((owner for name, owner in named if name not in self._shared), None)
            or next(filter(None, map(self._by_host, hosts)), None)
            or next((owner for _, owner in named), None)
        )
        return self.providers[found] if found else self._typo(words)

    def _names_in(self, words: list[str]) -> list[tuple[str, str]]:
        """Each name or alias among `words` with its record's id, longest first."""
        found: list[tuple[str, str]] = []
        for size in range(min(self._longest, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                name = " ".join(words[start : start + size])
                if name in self._names:
                    found.append((name, self._names[name]))
        return found

    def _by_host(self, name: str) -> str | None:
        """The record that names `name` as a server, or owns it or a parent domain of it
        (`jane@comcast.net`, `smtp.orange.fr`)."""
        if "." not in name:
            return None
        if name in self._hosts:
            return self._hosts[name]
        labels = name.split(".")
        for start in range(len(labels) - 1):
            found = self._domains.get(".".join(labels[start:]))
            if found:
                return found
        return None

    def _typo(self, words: list[str]) -> Provider | None:
        """A one-word name of a reviewed record typed with a slip ("sendgird", "gmial"): same
        first letter, not a host name, and not a word that is part of the name ("cloud" is no
        typo of "icloud")."""
        for word in words:
            if len(word) < FUZZY_LENGTH or word.isdigit() or "." in word or "@" in word:
                continue
            hit = process.extractOne(word, self._single, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN)
            if hit and hit[0][0] == word[0] and word not in hit[0] and hit[0] not in word:
                return self.providers[self._names[hit[0]]]
        return None

    def lookup(self, query: str) -> Found | None:
        """A `settings` query: an address, a domain, or a name."""
        text = query.strip().lower().rstrip(".")
        found = self._by_host(text.rpartition("@")[2]) if " " not in text else None
        if found:
            return Found(self.providers[found], "domain")
        named = self.named_in(text)
        return Found(named, "name") if named else None

    def by_mx(self, mx_hosts: Iterable[str]) -> Provider | None:
        """The record whose MX suffixes the domain's MX hosts end with."""
        hosts = [h.lower().rstrip(".") for h in mx_hosts]
        for provider in self.providers.values():
            if any(h == s or h.endswith("." + s) for h in hosts for s in provider.mx):
                return provider
        return None
