"""The curated knowledge base: typed entries and port rows loaded from YAML.

Loading validates every field and collects *all* problems (file, entry, field, message)
instead of stopping at the first, so `mailport kb check` can report them together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from bot.kb.codes import Code
    from bot.kb.networks import Network
    from bot.kb.records import Provider

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "knowledge"
PACKAGED_DIR = Path(__file__).resolve().parents[1] / "_knowledge"

ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SUBJECT = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
TLS_MODES = ("none", "starttls", "implicit")
ISPDB_TAG = "ispdb"  # the tag of an answer rendered from Thunderbird's ISPDB (bot/kb/ispdb.py)
DNS_TAG = "dns-srv"  # settings read from a domain's SRV records (bot/engine/discovery.py)
AUTOCONFIG_TAG = "autoconfig"  # settings read from a domain's own autoconfig file (likewise)
_DATED = {ISPDB_TAG: "ISPDB snapshot", DNS_TAG: "Looked up in DNS", AUTOCONFIG_TAG: "Fetched"}
TLS_LABELS = {"none": "none", "starttls": "STARTTLS", "implicit": "implicit TLS"}
USES = ("relay", "submission", "retrieval", "delivery", "filtering", "web", "other")
STATUSES = ("standard", "legacy", "unofficial")
TRANSPORTS = ("tcp", "udp", "tcp/udp")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
SHORT_MAX = 300
OUT_OF_SCOPE_FILE = "out-of-scope.yaml"
SUBJECTS_FILE = "subjects.yaml"
DETAIL_MAX = 2500


@dataclass(frozen=True, slots=True)
class Source:
    """A citation: an RFC section or an official document."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One curated question with its answers."""

    id: str
    question: str
    alternates: tuple[str, ...]
    short: str
    detail: str
    ports: tuple[int, ...]
    tags: tuple[str, ...]
    sources: tuple[Source, ...]
    related: tuple[str, ...]
    reviewed: dt.date
    file: str = ""
    about: tuple[str, ...] = ()
    """What the entry depends on (a provider, product, framework or client: `postfix`,
    `laravel`); a question naming another such subject is not answered by it."""
    codes: tuple[str, ...] = ()
    """The reply, status and client error codes the entry explains (`454`, `4.7.1`): a pasted
    line with one of them that the matcher answers with this entry gets it, not the code's
    general reading (`4.7.1` also stands for `5.7.1`)."""

    @property
    def dated(self) -> str:
        """`Reviewed 2026-12-01`, the snapshot date of settings read from the ISPDB, or when
        settings were looked up in the domain's DNS or fetched from its autoconfig file."""
        label = next((_DATED[t] for t in self.tags if t in _DATED), "Reviewed")
        return f"{label} {self.reviewed.isoformat()}"

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The canonical question followed by every alternate."""
        return (self.question, *self.alternates)


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One row of the port table."""

    port: int
    service: str
    name: str
    transport: str
    tls: str
    use: str
    status: str
    email: bool
    rfcs: tuple[int, ...]
    note: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation finding, located as precisely as possible."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = ":".join(part for part in (self.file, self.entry, self.field) if part)
        return f"{where}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base could not be loaded; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(slots=True)
class KnowledgeBase:
    """Entries by id, port rows by number, the entry that answers each port, and example
    questions near the topic that no entry answers (the matcher learns to decline them)."""

    entries: dict[str, Entry]
    ports: dict[int, PortInfo]
    port_entries: dict[int, str] = field(default_factory=dict)
    out_of_scope: tuple[str, ...] = ()
    out_of_scope_topics: dict[str, str] = field(default_factory=dict)
    """Each out-of-scope example's topic (`mailbox administration`), when the file groups
    them: the matcher indexes each topic as its own class."""
    providers: dict[str, Provider] = field(default_factory=dict)
    codes: tuple[Code, ...] = ()
    networks: tuple[Network, ...] = ()
    record_entries: dict[str, Entry] = field(default_factory=dict)
    """Each provider record rendered as an entry (answers, not matcher phrasings)."""
    ranked_records: dict[str, Entry] = field(default_factory=dict)
    """The rendered entries of records that curated entries are about, with phrasings made
    from the provider's name: the matcher ranks them with the entries, so a settings question
    gets the record and a question on the provider's app passwords gets the entry."""
    subjects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """What entries can be `about` (postfix, laravel...), each with the names people type."""
    subject_titles: dict[str, str] = field(default_factory=dict)
    """Each subject's first name as written (`eM Client`), for saying it back."""
    subject_kinds: dict[str, str] = field(default_factory=dict)
    """The kind a subject declares (`client`, `tool`), where it declares one."""

    def answer_entry(self, entry_id: str) -> Entry | None:
        """A curated entry or a record's rendered entry, by id."""
        return self.entries.get(entry_id) or self.record_entries.get(entry_id)

    def __post_init__(self) -> None:
        if not self.port_entries:
            self.port_entries = _port_entries(self.entries.values())

    def entry_for_port(self, port: int) -> Entry | None:
        """The entry dedicated to `port` (`port-465`), or the narrowest entry about it."""
        entry_id = self.port_entries.get(port)
        return self.entries[entry_id] if entry_id else None

    def port_note(self, port: int) -> str:
        """One honest line about a port number, whether or not it is a mail port."""
        info = self.ports.get(port)
        if not 0 < port < 65536:
            return f"{port} is not a valid TCP port number (ports run from 1 to 65535)."
        if info is None:
            return f"Port {port} is not in my port table; it is not a standard email port."
        what = info.name
        if info.service.lower() not in info.name.lower():
            what += f" ({info.service})"
        if not info.email:
            return f"Port {port} is {what}, not an email port."
        if port not in self.port_entries:
            return f"Port {port} is {what}; I have no separate entry for it."
        return f"Port {port} is {what}."

    def port_rows(self, ports: Iterable[int]) -> tuple[PortInfo, ...]:
        """Port-table rows for `ports`, in the given order, skipping unknown ports."""
        return tuple(self.ports[p] for p in dict.fromkeys(ports) if p in self.ports)


def _port_entries(entries: Iterable[Entry]) -> dict[int, str]:
    chosen: dict[int, Entry] = {}
    for entry in entries:
        for port in entry.ports:
            best = chosen.get(port)
            if best is None or _port_rank(entry, port) < _port_rank(best, port):
                chosen[port] = entry
    return {port: entry.id for port, entry in chosen.items()}


def _port_rank(entry: Entry, port: int) -> tuple[int, int, str]:
    return (0 if entry.id == f"port-{port}" else 1, len(entry.ports), entry.id)


def default_dir() -> Path:
    """The knowledge directory: the source checkout's, else the one packaged with the wheel."""
    return DEFAULT_DIR if DEFAULT_DIR.is_dir() else PACKAGED_DIR


def load(directory: Path | None = None) -> KnowledgeBase:
    """Load and validate `directory` (ports.yaml, entries/*.yaml, optional out-of-scope.yaml);
    raise KnowledgeError."""
    kb, problems = load_with_problems(directory)
    if problems:
        raise KnowledgeError(problems)
    return kb


def load_with_problems(directory: Path | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Load what is valid and return it with every problem found on the way."""
    root = directory or default_dir()
    problems: list[Problem] = []
    if not root.is_dir():
        why = "not a directory" if root.exists() else "no such directory"
        problems.append(Problem(_rel(root), "", "", f"{why} (the knowledge base is a folder)"))
        return KnowledgeBase(entries={}, ports={}), problems
    ports = _load_ports(root / "ports.yaml", problems)
    entries: dict[str, Entry] = {}
    entry_files = sorted((root / "entries").glob("*.yaml")) if (root / "entries").is_dir() else []
    if not entry_files:
        problems.append(Problem(_rel(root / "entries"), "", "", "no entry files (*.yaml) found"))
    for path in entry_files:
        for entry in _load_entries(path, problems):
            if entry.id in entries:
                problems.append(
                    Problem(
                        _rel(path),
                        entry.id,
                        "id",
                        f"duplicate id, first in {entries[entry.id].file}",
                    )
                )
                continue
            entries[entry.id] = entry
    problems.extend(_cross_check(entries, ports))
    outside, topics = _load_out_of_scope(root / OUT_OF_SCOPE_FILE, problems)
    table = _load_subjects(root / SUBJECTS_FILE, problems)
    subjects = table.names
    problems.extend(_unknown_subjects(entries.values(), subjects))
    providers = _load_records(root, entries, ports, problems)
    codes = _load_codes(root, entries, providers, problems)
    networks = _load_networks(root, ports, problems)
    kb = KnowledgeBase(
        entries=entries,
        ports=ports,
        out_of_scope=outside,
        out_of_scope_topics=topics,
        subjects=subjects,
        subject_titles=table.titles,
        subject_kinds=table.kinds,
        providers=providers,
        codes=codes,
        networks=networks,
    )
    rendered = [p.as_entry() for p in providers.values() if p.known]
    kb.record_entries.update((entry.id, entry) for entry in rendered)
    kb.record_entries.update((e.id, e) for c in codes for e in c.as_entries())
    kb.ranked_records.update((e.id, e) for e in _ranked_records(kb))
    return kb, problems


def _ranked_records(kb: KnowledgeBase) -> Iterator[Entry]:
    """The rendered entries of records with servers and no curated settings entry that some
    entry is about, phrased with the first name people type for the provider."""
    contested = {subject for entry in kb.entries.values() for subject in entry.about}
    for provider in kb.providers.values():
        if provider.known and not provider.entry and provider.id in contested:
            names = kb.subjects.get(provider.id) or (provider.name.lower(),)
            yield provider.ranked_entry(names[0])


def _load_networks(
    root: Path, ports: dict[int, PortInfo], problems: list[Problem]
) -> tuple[Network, ...]:
    """Network records, one per id."""
    from bot.kb.networks import load_networks

    kept: dict[str, Network] = {}
    for network in load_networks(root, ports, problems):
        if network.id in kept:
            problems.append(Problem(network.file, network.id, "id", "duplicate id"))
        else:
            kept[network.id] = network
    return tuple(kept.values())


def _load_codes(
    root: Path, entries: dict[str, Entry], providers: dict[str, Provider], problems: list[Problem]
) -> tuple[Code, ...]:
    """Code records, checked: one per code and provider, links to entries and providers."""
    from bot.kb.codes import load_codes

    kept: dict[str, Code] = {}
    for code in load_codes(root, problems):
        if code.id in kept or code.id in entries:
            problems.append(Problem(code.file, code.code, "code", "duplicate code"))
        elif code.entry and code.entry not in entries:
            problems.append(
                Problem(code.file, code.code, "entry", f"unknown entry id {code.entry!r}")
            )
        elif code.provider and code.provider not in providers:
            message = f"unknown provider record {code.provider!r}"
            problems.append(Problem(code.file, code.code, "provider", message))
        else:
            kept[code.id] = code
    return tuple(kept.values())


def _load_records(
    root: Path, entries: dict[str, Entry], ports: dict[int, PortInfo], problems: list[Problem]
) -> dict[str, Provider]:
    """Provider records by id (the reviewed ones, then the ISPDB's for other domains), checked
    against the entries (ids, `entry` links)."""
    from bot.kb import ispdb
    from bot.kb.records import load_providers

    providers: dict[str, Provider] = {}
    reviewed = load_providers(root, ports, problems)
    for record in ispdb.merge(reviewed, ispdb.load(root, ports, problems)):
        clash = record.id in providers or f"settings-{record.id}" in entries
        if clash:
            problems.append(Problem(record.file, record.id, "id", "duplicate id"))
        elif record.entry and record.entry not in entries:
            problems.append(
                Problem(record.file, record.id, "entry", f"unknown entry id {record.entry!r}")
            )
        else:
            providers[record.id] = record
    return providers


def out_of_scope_file(directory: Path | None = None) -> str:
    """Where the out-of-scope examples of `directory` live, as problems name files."""
    return _rel((directory or default_dir()) / OUT_OF_SCOPE_FILE)


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except FileNotFoundError:
        problems.append(Problem(_rel(path), "", "", "file not found"))
    except OSError as exc:
        problems.append(Problem(_rel(path), "", "", f"cannot read: {exc.strerror or exc}"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(_rel(path), "", "", f"not valid YAML{where}: {reason}"))
    return None


def _as_list(data: Any, path: Path, problems: list[Problem]) -> list[Any]:
    if data is None:
        return []
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    problems.append(Problem(_rel(path), "", "", "expected a list of mappings"))
    return []


def record_fields(path: Path, key: str, problems: list[Problem]) -> Iterator[_Fields]:
    """Each mapping of a record file (none when the file is absent), labelled by its `key`
    field, ready to be read; anything else in the list is reported."""
    if not path.exists():
        return
    file = _rel(path)
    for index, data in enumerate(_as_list(_read_yaml(path, problems), path, problems)):
        if not isinstance(data, dict):
            problems.append(Problem(file, f"#{index + 1}", "", "record must be a mapping"))
            continue
        yield _Fields(data, file, str(data.get(key, f"#{index + 1}")), problems)


class _Fields:
    """Reads typed fields out of one YAML mapping, recording problems instead of raising."""

    def __init__(self, data: dict[str, Any], file: str, label: str, problems: list[Problem]):
        self.data, self.file, self.label, self.problems = data, file, label, problems
        self.ok = True

    def fail(self, name: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.file, self.label, name, message))

    def unknown(self, allowed: Iterable[str]) -> None:
        for name in sorted(set(self.data) - set(allowed), key=str):
            self.fail(str(name), "unknown field")

    def get(self, name: str, check: Callable[[Any], str | None], default: Any = None) -> Any:
        if name not in self.data:
            if default is None:
                self.fail(name, "missing")
            return default
        value = self.data[name]
        error = check(value)
        if error:
            self.fail(name, error)
            return default
        return value


def _text(limit: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return "must be non-empty text"
        if limit and len(value) > limit:
            return f"is {len(value)} characters, limit {limit}"
        return None

    return check


def _choice(options: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda v: None if v in options else f"must be one of {', '.join(options)}"


def _port_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _int_list(value: Any) -> str | None:
    if not isinstance(value, list) or not all(_port_number(v) for v in value):
        return "must be a list of numbers 1-65535"
    return None


def _text_list(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return "must be a list of non-empty strings"
    return None


def _subjects(value: Any) -> str | None:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and SUBJECT.match(v) for v in value
    ):
        return "must be a list of lower-case subject names (a-z, 0-9, . + -)"
    return None


def _date(value: Any) -> str | None:
    return None if isinstance(value, dt.date) else "must be a date (YYYY-MM-DD)"


def _sources(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of {title, url}"
    for item in value:
        if not isinstance(item, dict) or set(item) != {"title", "url"}:
            return "each source needs exactly title and url"
        if not str(item["url"]).startswith("https://"):
            return f"source url must start with https:// ({item['url']})"
    return None


def _codes(value: Any) -> str | None:
    from bot.kb.codes import is_code

    if not isinstance(value, list) or not all(isinstance(v, str) and is_code(v) for v in value):
        return 'must be a list of quoted codes ("454", "4.7.1", "0x800CCC0E")'
    return None


ENTRY_FIELDS = (
    "id",
    "question",
    "alternates",
    "short",
    "detail",
    "ports",
    "tags",
    "sources",
    "related",
    "reviewed",
    "about",
    "codes",
)
PORT_FIELDS = (
    "port",
    "service",
    "name",
    "transport",
    "tls",
    "use",
    "status",
    "email",
    "rfcs",
    "note",
)


def _load_entries(path: Path, problems: list[Problem]) -> list[Entry]:
    file = _rel(path)
    out = []
    for index, data in enumerate(_as_list(_read_yaml(path, problems), path, problems)):
        label = f"#{index + 1}"
        if not isinstance(data, dict):
            problems.append(Problem(file, label, "", "entry must be a mapping"))
            continue
        if isinstance(data.get("id"), str):
            label = data["id"]
        entry = _entry(_Fields(data, file, label, problems))
        if entry:
            out.append(entry)
    return out


def _entry(f: _Fields) -> Entry | None:
    f.unknown(ENTRY_FIELDS)
    entry_id = f.get(
        "id",
        lambda v: (
            None if isinstance(v, str) and ENTRY_ID.match(v) else "must be kebab-case (a-z, 0-9, -)"
        ),
    )
    values = dict(
        question=f.get("question", _text(200)),
        alternates=tuple(f.get("alternates", _text_list, [])),
        short=f.get("short", _text(SHORT_MAX)),
        detail=f.get("detail", _text(DETAIL_MAX)),
        ports=tuple(f.get("ports", _int_list, [])),
        tags=tuple(f.get("tags", _text_list, [])),
        sources=tuple(
            Source(str(s["title"]), str(s["url"])) for s in f.get("sources", _sources, [])
        ),
        related=tuple(f.get("related", _text_list, [])),
        reviewed=f.get("reviewed", _date),
        about=tuple(f.get("about", _subjects, [])),
        codes=tuple(f.get("codes", _codes, [])),
    )
    if not f.ok:
        return None
    return Entry(id=entry_id, file=f.file, **values)


@dataclass(frozen=True)
class Subjects:
    """The table of subjects: each one's names in lower case, its first name as written
    (`eM Client`, for saying it back), and its kind where declared (`client`)."""

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


SUBJECT_KINDS = frozenset({"client", "tool"})
"""The kinds a subject may declare: mail clients and tools speak the standard protocols, so a
general entry answers a question about them."""


def _load_subjects(path: Path, problems: list[Problem]) -> Subjects:
    """The optional table of subjects: `postfix: [Postfix, main.cf]`, or with a kind,
    `em-client: {kind: client, names: [eM Client, emclient]}`."""
    table = Subjects()
    if not path.exists():
        return table
    data = _read_yaml(path, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.append(Problem(_rel(path), "", "", "expected a mapping of subject: [names]"))
        return table
    for name, value in data.items():
        problem = _add_subject(table, name, value)
        if problem is not None:
            problems.append(Problem(_rel(path), str(name), *problem))
    return table


def _add_subject(table: Subjects, name: object, value: object) -> tuple[str, str] | None:
    """Add one subject to `table`, or say (field, problem) why it cannot be added."""
    if not isinstance(name, str) or not SUBJECT.match(name):
        return "", "subject must be lower-case"
    entry: dict[Any, Any] = value if isinstance(value, dict) else {"names": value}
    names, kind = entry.get("names"), entry.get("kind")
    if _text_list(names) or not names:
        return "", "must be a list of names"
    if kind is not None and kind not in SUBJECT_KINDS:
        return "kind", f"kind must be one of {', '.join(sorted(SUBJECT_KINDS))}"
    table.names[name] = tuple(dict.fromkeys(n.lower() for n in names))
    table.titles[name] = names[0]
    if kind is not None:
        table.kinds[name] = kind
    return None


def _unknown_subjects(
    entries: Iterable[Entry], subjects: dict[str, tuple[str, ...]]
) -> Iterator[Problem]:
    for entry in entries:
        for subject in entry.about:
            if subject not in subjects:
                message = f"unknown subject {subject!r} (add it to {SUBJECTS_FILE})"
                yield Problem(entry.file, entry.id, "about", message)


def _load_out_of_scope(
    path: Path, problems: list[Problem]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The optional questions no entry answers: a list, or lists by topic; and each
    question's topic."""
    if not path.exists():
        return (), {}
    data = _read_yaml(path, problems)
    if data is None:
        return (), {}
    groups = data if isinstance(data, dict) else {"": data}
    questions: dict[str, str] = {}
    for topic, items in groups.items():
        if not isinstance(items, list) or not isinstance(topic, str):
            message = "expected a list of questions, or lists of questions by topic"
            problems.append(Problem(_rel(path), str(topic), "", message))
            continue
        for index, item in enumerate(items):
            label = f"{topic}#{index + 1}".lstrip()
            if isinstance(item, str) and item in questions:
                problems.append(Problem(_rel(path), label, "", f"{item!r} is listed twice"))
            elif isinstance(item, str) and item.strip() and len(item) <= 200:
                questions[item] = topic
            else:
                message = "must be a question of 1 to 200 characters"
                problems.append(Problem(_rel(path), label, "", message))
    return tuple(questions), {q: t for q, t in questions.items() if t}


def _load_ports(path: Path, problems: list[Problem]) -> dict[int, PortInfo]:
    file = _rel(path)
    ports: dict[int, PortInfo] = {}
    for index, data in enumerate(_as_list(_read_yaml(path, problems), path, problems)):
        if not isinstance(data, dict):
            problems.append(Problem(file, f"#{index + 1}", "", "row must be a mapping"))
            continue
        f = _Fields(data, file, f"port {data.get('port', f'#{index + 1}')}", problems)
        row = _port(f)
        if row and row.port in ports:
            f.fail("port", "duplicate port")
        elif row:
            ports[row.port] = row
    return ports


def _port(f: _Fields) -> PortInfo | None:
    f.unknown(PORT_FIELDS)
    values = dict(
        port=f.get("port", lambda v: None if _port_number(v) else "must be a number 1-65535"),
        service=f.get("service", _text(40)),
        name=f.get("name", _text(80)),
        transport=f.get("transport", _choice(TRANSPORTS)),
        tls=f.get("tls", _choice(TLS_MODES)),
        use=f.get("use", _choice(USES)),
        status=f.get("status", _choice(STATUSES)),
        email=f.get("email", lambda v: None if isinstance(v, bool) else "must be true or false"),
        rfcs=tuple(f.get("rfcs", _int_list, [])),
        note=f.get("note", _text(300)),
    )
    return PortInfo(**values) if f.ok else None


def _cross_check(entries: dict[str, Entry], ports: dict[int, PortInfo]) -> list[Problem]:
    problems = []
    for entry in entries.values():
        for ref in entry.related:
            if ref not in entries:
                problems.append(
                    Problem(entry.file, entry.id, "related", f"unknown entry id {ref!r}")
                )
            elif ref == entry.id:
                problems.append(Problem(entry.file, entry.id, "related", "refers to itself"))
        for port in entry.ports:
            if port not in ports:
                problems.append(
                    Problem(entry.file, entry.id, "ports", f"port {port} is not in ports.yaml")
                )
    return problems
