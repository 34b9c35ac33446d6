"""The answering engine: the knowledge base and its matcher, loaded and indexed once."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path

from bot.check.ports import PORTS as CHECK_PORTS
from bot.kb import knowledge
from bot.kb.codes import Code, CodeIndex, codes_in, explain, general_key
from bot.kb.knowledge import Entry, KnowledgeBase
from bot.kb.networks import Network, NetworkIndex
from bot.kb.records import Found, Provider, ProviderIndex, Server
from bot.match import smalltalk
from bot.match.answers import MAX_SUGGESTIONS, Answer, PortCard, Suggestion
from bot.match.matcher import STOPWORDS, Matcher

# Words asking for a provider's servers: the settings table answers them, whatever else the
# question says about the provider's accounts (with ports and the username, `_SERVER_WORDS`).
_SERVER_TERMS = (
    r"sett?ings?|settigns?|servers?|hosts?|hostnames?|incoming|outgoing|configur\w*|config|"
    r"set\s?up|details"
)
# A question naming a provider is about its settings when it says so, or names a protocol,
# and is not about something the settings do not answer (DNS records, prices, accounts).
_SETTINGS_WORDS = re.compile(
    rf"\b({_SERVER_TERMS}|imap|pop3?|smtp|smpt|credentials|username|app\s+password)\b",
    re.IGNORECASE,
)
_SERVER_WORDS = re.compile(rf"\b({_SERVER_TERMS}|ports?|user\s?names?)\b", re.IGNORECASE)
_PROTOCOL_WORDS = frozenset("smtp imap pop pop3 mail email e-mail".split())
_WORD = re.compile(r"[a-z0-9][a-z0-9-]*")
_NOT_SETTINGS = re.compile(
    r"\b(spf|dkim|dmarc|dns|mx\s+records?|price|pricing|cost|cheaper|plan|invoice|billing|"
    r"dashboard|teammate|unsubscribe|campaign|deliverability|spam|blacklist|blocklist)\b",
    re.IGNORECASE,
)
_TROUBLE = re.compile(
    r"\b(error|errors|fail\w*|econn\w+|refused|reject\w*|e?time[sd]?\s?out|timing\s+out|bounced?|denied|"
    r"(?:not|stopped)\s+working|doesn'?t\s+work|stuck|hangs?)\b",
    re.IGNORECASE,
)
BLOCKED_ENTRY = "port-25-blocked"
AUTH_ENTRY = "smtp-auth-errors"
# Codes that mean "not allowed" in general, and an authentication or relay problem when the
# line says so (RFC 4954's 530 5.7.0; "550 5.7.1 Unable to relay").
_AUTH_CODES = frozenset(
    {"5.7.0", "5.7.1", "4.7.0", "5.7.3", "5.7.54", "5.7.57", "5.7.64", "5.7.139"}
)
_AUTH_WORDS = re.compile(
    r"\b(relay\w*|auth\w*|login|log in|credentials?|password|starttls|sign.?in)\b", re.IGNORECASE
)
_PORT_NUMBER = re.compile(r"(?<![\w.])\d{2,5}(?![\w.])")
# A mail host named in a question (`smtp.example.org`, `mail.acme.com:587`), not an address.
_MAIL_HOST = re.compile(
    r"(?<![\w@.-])([a-z0-9-]*(?:smtp|imap|pop|mail|mx|outlook|submission|secure)[a-z0-9-]*"
    r"(?:\.[a-z0-9-]+){2,})(?::(\d{2,5}))?(?![\w.-]*@)",
    re.IGNORECASE,
)
# Names that stand for "your server" in examples (RFC 2606), never a host worth checking.
_PLACEHOLDER = re.compile(r"(^|\.)(example\.(com|net|org)|your[a-z-]*\.[a-z]+)$")
MAX_CHECKS = 3


class Engine:
    """What every adapter calls: `ask` for questions, `port_card` for a port number,
    `settings` for a provider's server settings."""

    def __init__(self, kb: KnowledgeBase, cache_dir: Path | None = None) -> None:
        self.kb = kb
        self.matcher = Matcher(kb, cache_dir)
        clients = (n for s, names in kb.subjects.items() if s not in kb.providers for n in names)
        self.providers = ProviderIndex(list(kb.providers.values()), clients)
        self.codes = CodeIndex(kb.codes)
        self.networks = NetworkIndex(kb.networks)
        self._records_by_entry = {p.entry_id: p for p in kb.providers.values() if p.known}
        covered = {s for e in kb.entries.values() for s in e.about}
        specific = {s for s in kb.subjects if s not in kb.subject_kinds}
        self.uncovered = frozenset(specific - covered - set(kb.providers))
        """Subjects a general entry does not answer for (servers, panels, networks: not
        clients or tools) that no entry is about and that have no provider record."""

    @classmethod
    def load(cls, directory: Path | None = None, cache_dir: Path | None = None) -> Engine:
        """Load, validate and index the knowledge base (raises knowledge.KnowledgeError);
        `cache_dir` keeps what indexing learns, for a faster next start."""
        return cls(knowledge.load(directory), cache_dir)

    def ask(self, question: str) -> Answer:
        """Answer free text: answered, ambiguous (did you mean) or no_match. Small talk gets
        a short reply (`small_talk`); a question about the settings of a provider with a
        record is answered from the record, and one naming a known reply or error code from
        the code records."""
        chatter = smalltalk.kind(question)
        if chatter is not None:
            return Answer(question, "no_match", 0.0, None, (), (), smalltalk.reply(chatter), True)
        answer = self._ask(question)
        return dataclasses.replace(answer, checks=self.checks_for(question, answer.entry))

    def _ask(self, question: str) -> Answer:
        named = self.providers.named_in(question)
        pairs = self.codes.pairs(question, named.id if named else "")
        matched = self.matcher.ask(question) if pairs else None
        coded = self.code_answer(question, pairs, matched)
        if coded is not None:
            quoted = pairs[0][0].quoted_in(question)  # the sender's own words: its reading
            return coded if quoted else self._about(question, matched=matched) or coded
        provider = self.settings_question(question, named)
        network = self.networks.blocking_question(question, servers=provider is not None)
        if network is not None:
            return self._with_policy(self.matcher.ask(question), network)
        if provider is None:
            return self._specific(self.matcher.ask(question))
        if not provider.known:
            return self._about(question, provider) or Answer(
                question, "no_match", 0.0, None, (), (), provider.unknown_note()
            )
        about = self._curated_about(question, provider)
        if about is not None:
            return about
        answer = self.entry_answer(provider.entry_id)
        if answer is None:
            return self.matcher.ask(question)
        return Answer(question, "answered", 100.0, answer.entry, (), answer.ports)

    def _curated_about(self, question: str, provider: Provider) -> Answer | None:
        """The curated entry about `provider` that the matcher ranks first among the answers
        about it (its answer, else its suggestions), when that is not the record ranked beside
        them: "fastmail app password: which access" is the entry on Fastmail's app passwords,
        not the settings table. A question asking for servers or the username (`_asks_servers`)
        gets the record."""
        if provider.entry_id not in self.kb.ranked_records or _asks_servers(question, provider):
            return None
        matched = self.matcher.ask(question)
        if matched.status == "answered" and matched.entry is not None:
            ranked = [Suggestion(matched.entry, matched.score)]
        else:
            ranked = list(matched.suggestions)
        first = next((s for s in ranked if provider.id in s.entry.about), None)
        if first is None or first.entry.id == provider.entry_id:
            return None
        rows = self.kb.port_rows(first.entry.ports)
        return Answer(question, "answered", first.score, first.entry, (), rows)

    def _specific(self, answer: Answer) -> Answer:
        """The answer, unless the question is about a subject no entry covers (Zimbra,
        Starlink) and the entry is neither about what it names nor phrased for it: then the
        entry becomes a suggestion and the bot says it has nothing specific."""
        entry = answer.entry
        if answer.status != "answered" or entry is None:
            return answer
        named = self.matcher.subjects.named(answer.question)
        missing = named & self.uncovered
        if not missing or named & set(entry.about) or self._phrased_for(entry, missing):
            return answer
        names = " or ".join(sorted(self.kb.subject_titles[s] for s in missing))
        offered = (Suggestion(entry, answer.score), *answer.suggestions)[:MAX_SUGGESTIONS]
        note = f"I have nothing specific on {names} yet; the nearest general answer is below."
        return Answer(answer.question, "no_match", 0.0, None, offered, answer.ports, note)

    def _phrased_for(self, entry: Entry, subjects: frozenset[str]) -> bool:
        """One of the entry's phrasings names one of `subjects` ("hmailserver pop3 ssl port")."""
        return any(self.matcher.subjects.named(p) & subjects for p in entry.phrasings)

    def _about(
        self, question: str, provider: Provider | None = None, matched: Answer | None = None
    ) -> Answer | None:
        """The matcher's answer (`matched` when already asked) when it is an entry about what
        the question names (`provider` when given, else any subject it names): a curated
        entry on a provider's or a server's errors (SES's sandbox 554, Postfix's 454 TLS not
        available) says more than the bare code's reading."""
        named = {provider.id} if provider else self.matcher.subjects.named(question)
        if not named:
            return None
        if matched is None:
            matched = self.matcher.ask(question)
        entry = matched.entry
        answered = matched.status == "answered" and entry is not None
        return matched if answered and entry is not None and named & set(entry.about) else None

    def _with_policy(self, answer: Answer, network: Network) -> Answer:
        """The answer with `network`'s policy as its note; the blocked-port entry when the
        matcher had no answer of its own, unless the question names only ports the network
        does not block (587 timing out on EC2 is not EC2's port 25 block)."""
        asked = {info.port for info in answer.ports}
        if answer.status != "answered" and (not asked or asked & set(network.blocked)):
            answer = self.entry_answer(BLOCKED_ENTRY) or answer
        note = f"{network.policy()} {answer.note}".strip()
        return dataclasses.replace(answer, note=note, network=network.id)

    def code_answer(
        self, question: str, pairs: list[tuple[Code, str]], matched: Answer | None
    ) -> Answer | None:
        """The answer for the codes a question names (`CodeIndex.pairs`): the matcher's answer
        (`matched`) when it is an entry that declares a code with only a general reading, else
        the records; a code whose record defers to a curated entry gets that entry."""
        if not pairs:
            return None
        first = pairs[0][0]
        if not first.provider and matched is not None and _declares(matched, pairs):
            return matched
        auth = (
            not first.quoted_in(question)
            and _AUTH_CODES.intersection(codes_in(question))
            and _AUTH_WORDS.search(question)
        )
        if first.entry or auth:
            answer = self.entry_answer(first.entry or AUTH_ENTRY)
        else:
            answer = Answer(question, "answered", 100.0, explain(pairs), (), ())
        if answer is None or answer.entry is None:
            return None
        return Answer(question, "answered", 100.0, answer.entry, (), answer.ports)

    def settings_question(self, question: str, named: Provider | None) -> Provider | None:
        """The record a question asks the settings of: it names the provider, asks about
        settings or a protocol, reports no trouble and is about nothing the settings do not
        answer. A port number makes it a question about the port, unless it stands beside one
        of the provider's own servers ("smtp.mail.yahoo.com on 465 or 587?"). Providers whose
        curated entry the matcher knows (`entry:`) are left to the matcher. `named`: the
        provider it names."""
        if named is None or named.entry:
            return None
        if not _SETTINGS_WORDS.search(question) or _NOT_SETTINGS.search(question):
            return None
        if _TROUBLE.search(question):  # "yandex app password stopped working"
            return None
        if _PORT_NUMBER.search(question) and not _names_a_server(question, named):
            return None
        return named

    def settings(self, query: str) -> Found | None:
        """The record a `settings` query names (a provider, an address or a domain)."""
        return self.providers.lookup(query)

    def settings_by_mx(self, mx_hosts: Iterable[str]) -> Found | None:
        """The record a domain's MX hosts point to (Google, Microsoft 365, ...)."""
        provider = self.providers.by_mx(mx_hosts)
        return Found(provider, "mx") if provider else None

    def entry_answer(self, entry_id: str) -> Answer | None:
        """One entry as an answer (a "did you mean" or related-question click), if it exists."""
        entry = self.kb.answer_entry(entry_id)
        if entry is None:
            return None
        rows = self.kb.port_rows(entry.ports)
        return Answer(
            entry.question, "answered", 100.0, entry, (), rows, checks=self.checks_for("", entry)
        )

    def checks_for(self, question: str, entry: Entry | None) -> tuple[str, ...]:
        """Live checks to offer: mail hosts the question names (with a mail port written as
        `host:port`), then the SMTP servers of the provider record `entry` is about.
        Placeholders (`smtp.example.com`, `mail.yourdomain.com`) are never offered."""
        offered: dict[str, None] = {}
        for match in _MAIL_HOST.finditer(question):
            host, port = match.group(1).lower().rstrip("."), match.group(2)
            if not _PLACEHOLDER.search(host):
                mail_port = port is not None and int(port) in CHECK_PORTS
                offered[f"{host} {port}" if mail_port else host] = None
        for server in self._servers_for(entry):
            if server.protocol == "smtp" and server.role != "incoming":
                offered.setdefault(server.host, None)
        return tuple(offered)[:MAX_CHECKS]

    def _servers_for(self, entry: Entry | None) -> Iterable[Server]:
        """The servers of the provider record `entry` renders, or of the providers it is
        `about` (SendGrid's login entry offers SendGrid's SMTP servers)."""
        if entry is None:
            return ()
        record = self._records_by_entry.get(entry.id)
        if record is not None:
            return record.servers
        records = [self.kb.providers[s] for s in entry.about if s in self.kb.providers]
        return [server for record in records for server in record.servers]

    def port_card(self, port: int) -> PortCard:
        """The port-table row, the entry about the port, and a one-line note."""
        info = self.kb.ports.get(port)
        return PortCard(
            port=port, info=info, entry=self.kb.entry_for_port(port), note=self.kb.port_note(port)
        )


def _names_a_server(question: str, provider: Provider) -> bool:
    """The question names one of the provider's servers and asks about settings in its own
    words: a port beside that server asks its settings."""
    hosts = {server.host.lower() for server in provider.servers}
    named = {host for host, _ in _MAIL_HOST.findall(question.lower())}
    outside_hosts = _MAIL_HOST.sub(" ", question)  # "imap" in imap.fastmail.com asks nothing
    return bool(named & hosts) and bool(_SETTINGS_WORDS.search(outside_hosts))


def _asks_servers(question: str, provider: Provider) -> bool:
    """The question asks for the provider's servers: in so many words, by naming one, or
    by naming nothing but the provider and a protocol ("yahoo smtp pls")."""
    text = question.lower()
    if _SERVER_WORDS.search(_MAIL_HOST.sub(" ", question)):
        return True
    if any(server.host in text for server in provider.servers):
        return True
    named = {word for name in provider.names for word in _WORD.findall(name)}
    left = set(_WORD.findall(text)) - named - _PROTOCOL_WORDS - STOPWORDS
    return not left


def _declares(matched: Answer, pairs: list[tuple[Code, str]]) -> bool:
    """`matched` answers with an entry that declares one of the codes found ("454 4.7.1 Relay
    access denied" is Postfix's relay entry, not X.7.1's reading)."""
    entry = matched.entry
    if matched.status != "answered" or entry is None:
        return False
    declared = {general_key(c) for c in entry.codes}
    return any(general_key(written) in declared for _, written in pairs)
