"""Reply and error codes as records: SMTP reply codes (RFC 5321), enhanced status codes
(RFC 3463 and the IANA registry), providers' own codes, mail clients' error numbers.

`CodeIndex.pairs` finds the codes in a question or a pasted bounce line ("550 5.7.1
Unable to relay", "0x800CCC0E") and `explain` renders one answer from every record that applies,
the most specific first: a provider's own meaning of a code, then the enhanced code, then
the reply code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from bot.kb.knowledge import (
    Entry,
    Problem,
    Source,
    _choice,
    _date,
    _Fields,
    _sources,
    _text,
    record_fields,
)

CODES_FILE = "records/codes.yaml"
QUOTED = 70
"""rapidfuzz partial_ratio (0-100) of a record's title within a pasted line that counts as
quoting it: Exchange Online's "Client not authenticated to send mail" quotes "Client was not
authenticated to send anonymous mail" (70); one 5.7.139 text against another's title scores
under 60."""
PROVIDER_NAMES = {"microsoft-365": "Microsoft 365", "gmail": "Gmail", "yahoo": "Yahoo"}
KINDS = ("reply", "enhanced", "client")
CODE_FIELDS = (
    "code",
    "kind",
    "provider",
    "title",
    "meaning",
    "cause",
    "next",
    "entry",
    "sources",
    "reviewed",
)
_SHAPES = {
    "reply": re.compile(r"[2-5][0-5][0-9]"),
    "enhanced": re.compile(r"[245X]\.[0-9]{1,3}\.[0-9]{1,3}"),
    "client": re.compile(r"0x[0-9A-F]{8}"),
}
_CLIENT = re.compile(r"\b0x[0-9a-fA-F]{8}\b")
_ENHANCED = re.compile(
    r"(?<![\d.])([45]\.\d{1,3}\.\d{1,3}|(?<=2\d\d[ -])2\.\d{1,3}\.\d{1,3})(?![\d.])"
)
_REPLY_BEFORE_ENHANCED = re.compile(r"(?<![\d.:])([2-5][0-5]\d)[ -](?=[245]\.\d{1,3}\.\d)")
_REPLY_ALONE = re.compile(r"(?<![\d./#])(?<!\w:)([2-5][0-5]\d)(?![\d.:])")
_CODE_WORDS = re.compile(
    r"\b(error|code|reply|response|bounce[ds]?|ndr|rejected|refused|deferred|mean|means|"
    r"invalid|failed|failure|denied|unable|"
    r"meaning|says|said|got|getting|returns?|returned)\b",
    re.IGNORECASE,
)
_PORT_WORDS = re.compile(r"\b(port|ports|tcp|udp|firewall|open|listen)\b", re.IGNORECASE)
# What only one provider's bounces carry, for a pasted line that does not name the provider:
# Exchange Online's status texts (RESOLVER.ADR.RecipNotFound, QUEUE.Expired, AS(201806281))
# and hosts, Gmail's "gsmtp" tag and help links, Yahoo's bracketed [TSS04] codes, and the
# reply texts each documents as its own (Exchange Online's NDR list, Gmail's SMTP errors page).
SENDER_MARKS = {
    "microsoft-365": re.compile(
        r"\b(?:RESOLVER|QUEUE|ROUTING|STOREDRV|SMTPSEND)\.[A-Z][A-Za-z]+|\bTenantAttribution\b|"
        r"\bSendAsDenied\b|\bAS\(\d{4,}\)|\.protection\.outlook\.com\b|\.prod\.outlook\.com\b|"
        r"\bbad outbound sender\b|\bdoes not allow external forwarding\b"
    ),
    "gmail": re.compile(
        r"\bgsmtp\b|\b(?:support|accounts)\.google\.com\b|\baspmx\.l\.google\.com\b|"
        r"\bemail account that you tried to reach does not exist\b|"
        r"\breceiving e?mail at a rate that prevents\b",
        re.IGNORECASE,
    ),
    "yahoo": re.compile(r"\[TS[SM]\d\d\]|\bsenders\.yahooinc\.com\b|\byahoodns\.net\b"),
}


@dataclass(frozen=True, slots=True)
class Code:
    """One code's meaning, from its RFC or the provider that sends it."""

    code: str
    kind: str
    provider: str
    title: str
    meaning: str
    cause: str
    next: str
    entry: str
    sources: tuple[Source, ...]
    reviewed: dt.date
    file: str = ""

    @property
    def id(self) -> str:
        """`code-5-7-1`, or `code-microsoft-365-5-7-708` for a provider's own meaning."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.code.lower()).strip("-")
        return f"code-{self.provider}-{slug}" if self.provider else f"code-{slug}"

    def as_entries(self) -> list[Entry]:
        """This code alone, as answers (for buttons and links): a general enhanced record
        once per class it is used in (`5.7.1` and `4.7.1`)."""
        if self.code.startswith("X") and not self.provider:
            return [_entry([self], c + self.code[1:]) for c in "245"]
        return [_entry([self])]

    def quoted_in(self, text: str) -> bool:
        """A provider's reading whose own words the text quotes ("5.7.64 TenantAttribution;
        Relay Access Denied"): that reading, not a general one, explains the line."""
        said = text.lower()
        texts = self.title.lower().split(" / ")  # "Authentication required / relay denied"
        return bool(self.provider) and any(fuzz.partial_ratio(t, said) >= QUOTED for t in texts)

    def paragraph(self) -> str:
        """The code's meaning, cause and next step, in mrkdwn."""
        where = f" ({PROVIDER_NAMES.get(self.provider, self.provider)})" if self.provider else ""
        lines = [f"*{self.code}{where}: {_plain(self.title)}*", _plain(self.meaning)]
        if self.cause:
            lines.append(f"Likely cause: {_plain(self.cause)}")
        if self.next:
            lines.append(f"Next step: {_plain(self.next)}")
        return "\n".join(lines)


def _plain(text: str) -> str:
    """Record text as mrkdwn that shows `<domain>` as typed, never as a link or mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def is_code(text: str) -> bool:
    """`text` is written as a reply, enhanced status or client error code."""
    return any(shape.fullmatch(text) for shape in _SHAPES.values())


def general_key(code: str) -> str:
    """An enhanced code's general record: `5.7.1` and `4.7.1` are both `X.7.1`."""
    return "X" + code[1:] if _SHAPES["enhanced"].fullmatch(code) else code


def load_codes(root: Path, problems: list[Problem]) -> list[Code]:
    """The code records of a knowledge directory (none when the file is absent)."""
    found = (_code(f) for f in record_fields(root / CODES_FILE, "code", problems))
    return [record for record in found if record]


def _code(f: _Fields) -> Code | None:
    f.unknown(CODE_FIELDS)
    kind = f.get("kind", _choice(KINDS))
    shape = _SHAPES.get(kind or "", _SHAPES["reply"])
    values = dict(
        code=f.get(
            "code",
            lambda v: None if isinstance(v, str) and shape.fullmatch(v) else f"not a {kind} code",
        ),
        kind=kind,
        provider=f.get("provider", _text(40), ""),
        title=f.get("title", _text(120)),
        meaning=f.get("meaning", _text(600)),
        cause=f.get("cause", _text(600), ""),
        next=f.get("next", _text(600), ""),
        entry=f.get("entry", _text(80), ""),
        sources=tuple(
            Source(str(s["title"]), str(s["url"])) for s in f.get("sources", _sources, [])
        ),
        reviewed=f.get("reviewed", _date),
        file=f.file,
    )
    return Code(**values) if f.ok else None


def codes_in(text: str) -> list[str]:
    """The codes a text names, most specific first: client errors, enhanced codes, then
    reply codes (a bare three-digit number counts only beside words like "error" or
    "bounce", and never beside "port")."""
    client = [m.upper().replace("0X", "0x") for m in _CLIENT.findall(text)]
    enhanced = _ENHANCED.findall(text)
    replies = _REPLY_BEFORE_ENHANCED.findall(text)
    if not replies and _CODE_WORDS.search(text) and not _PORT_WORDS.search(text):
        replies = _REPLY_ALONE.findall(text)
    replies = sorted(replies, key=lambda code: -int(code[0]))  # the failure before the greeting
    return list(dict.fromkeys([*client, *enhanced, *replies]))


class CodeIndex:
    """Code records by code, each code's provider-specific readings beside the general one."""

    def __init__(self, codes: Iterable[Code]) -> None:
        self.general: dict[str, Code] = {}
        self.by_provider: dict[tuple[str, str], Code] = {}
        for code in codes:
            if code.provider:
                self.by_provider[(code.provider, code.code)] = code
            else:
                self.general[code.code] = code
        readings: dict[str, list[Code]] = {}
        for (_, number), reading in self.by_provider.items():
            readings.setdefault(number, []).append(reading)
        self._only_provider = {n: r[0] for n, r in readings.items() if len(r) == 1}

    def pairs(self, text: str, provider: str = "") -> list[tuple[Code, str]]:
        """Each record found with the code as the text wrote it (`5.7.1` for `X.7.1`): the
        reading of the provider the text names (or whose bounce it is, by `sender`), else the
        general one, else that provider's reading of the code in the other class (4.4.316's
        reads 5.4.316: the class says only whether the failure was temporary), else the reading
        of the one provider that has the code, unless the text names another provider (Gmail's
        5.7.30 is no answer for a Microsoft 365 bounce)."""
        provider = provider or sender(text)
        out: list[tuple[Code, str]] = []
        for code in codes_in(text):
            only = self._only_provider.get(code)
            record = (
                self.by_provider.get((provider, code))
                or self.general.get(general_key(code))
                or self._other_class(provider, code)
                or (only if only is not None and provider in ("", only.provider) else None)
            )
            if record is not None and all(record is not c for c, _ in out):
                out.append((record, code))
        return out

    def _other_class(self, provider: str, code: str) -> Code | None:
        """`provider`'s reading of the same enhanced code in the other failure class."""
        if not provider or code[0] not in "45" or not _SHAPES["enhanced"].fullmatch(code):
            return None
        return self.by_provider.get((provider, ("5" if code[0] == "4" else "4") + code[1:]))


def sender(text: str) -> str:
    """The provider whose bounce `text` quotes, by what only its bounces carry, else ''."""
    return next((p for p, mark in SENDER_MARKS.items() if mark.search(text)), "")


def explain(pairs: list[tuple[Code, str]]) -> Entry | None:
    """One answer from `CodeIndex.pairs`, or None when there are none."""
    return _entry([c for c, _ in pairs], pairs[0][1]) if pairs else None


CLASSES = {
    "2": "success",
    "3": "the server waits for more input",
    "4": "a temporary failure, so the sending server retries",
    "5": "a permanent failure, so retrying the same message fails the same way",
}


def entry_id(record: Code, written: str) -> str:
    """`code-5-7-1` for 5.7.1 read by the general X.7.1 record; the record's id otherwise."""
    if record.code.startswith("X") and not record.provider:
        return "code-" + written.replace(".", "-")
    return record.id


def _entry(found: list[Code], written: str = "") -> Entry:
    """One answer from the records of the codes found, most specific first."""
    first = found[0]
    written = written or first.code
    names = " ".join(c.code for c in found)
    kind = CLASSES.get(written[0], "")
    return Entry(
        id=entry_id(first, written),
        question=f"What does {names} mean?",
        alternates=(),
        short=f"{written}: {_plain(first.title)}" + (f" ({kind})." if kind else "."),
        detail="\n\n".join(c.paragraph() for c in found)[:2500],
        ports=(),
        tags=("code",),
        sources=tuple(dict.fromkeys(s for c in found for s in c.sources)),
        related=tuple(dict.fromkeys(c.entry for c in found if c.entry)),
        reviewed=min(c.reviewed for c in found),
        file=first.file,
    )
