"""Networks that block mail ports, as records: which ports, for whom, how to get the block
lifted, what the network recommends instead, with sources. A question naming the network
and a block gets the network's policy beside the general answer about blocked ports.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.kb.knowledge import (
    ENTRY_ID,
    PortInfo,
    Problem,
    Source,
    _date,
    _Fields,
    _sources,
    _text,
    _text_list,
    record_fields,
)

NETWORKS_FILE = "records/networks.yaml"
NETWORK_FIELDS = (
    "id",
    "name",
    "aliases",
    "blocked",
    "who",
    "lift",
    "instead",
    "notes",
    "sources",
    "reviewed",
)
_BLOCK_WORDS = re.compile(
    r"\b(block\w*|unblock\w*|throttl\w*|restrict\w*|lift\w*|closed|can'?t send|cannot send|"
    r"can'?t reach|cannot reach|time[ds]? ?out|timing out|dead|goes nowhere|allow\w*|open|"
    r"doesn'?t work|does not work|not working|off by default|disabled by default|remov\w*)\b",
    re.IGNORECASE,
)
# Words that ask about a block even of a question about a provider's servers.
_BLOCKED = re.compile(r"\b(block\w*|unblock\w*|throttl\w*|restrict\w*|lift\w*)\b", re.IGNORECASE)
_MAIL_PORT_USE = re.compile(
    r"(?=.*\b(25|465|587|smtp)\b)(?=.*\b(send\w*|reach\w*|connect\w*|outbound)\b)",
    re.IGNORECASE | re.DOTALL,
)
_WORD = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]|[a-z0-9]")


@dataclass(frozen=True, slots=True)
class Network:
    """One network's policy on outbound mail ports."""

    id: str
    name: str
    aliases: tuple[str, ...]
    blocked: tuple[int, ...]
    who: str
    lift: str
    instead: str
    notes: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed: dt.date
    file: str = ""

    def policy(self) -> str:
        """The policy in a few plain sentences, with the first source."""
        ports = ", ".join(str(p) for p in self.blocked)
        parts = [
            f"{self.name} blocks outbound port{'s' if len(self.blocked) > 1 else ''} "
            f"{ports}: {self.who}."
        ]
        parts.append(
            f"To get it lifted: {self.lift}."
            if self.lift
            else f"I found no way to lift it in {self.name}'s documentation."
        )
        if self.instead:
            parts.append(f"Instead: {self.instead}.")
        parts.extend(note.rstrip(".") + "." for note in self.notes)
        parts.append(f"Source: {self.sources[0].url}")
        return " ".join(parts)


def load_networks(root: Path, ports: dict[int, PortInfo], problems: list[Problem]) -> list[Network]:
    """The network records of a knowledge directory (none when the file is absent)."""
    found = (_network(f, ports) for f in record_fields(root / NETWORKS_FILE, "id", problems))
    return [record for record in found if record]


def _network(f: _Fields, ports: dict[int, PortInfo]) -> Network | None:
    f.unknown(NETWORK_FIELDS)
    blocked = f.get(
        "blocked",
        lambda v: (
            None
            if isinstance(v, list) and v and all(p in ports for p in v)
            else "must be a list of ports from ports.yaml"
        ),
    )
    values = dict(
        id=f.get(
            "id", lambda v: None if isinstance(v, str) and ENTRY_ID.match(v) else "kebab-case"
        ),
        name=f.get("name", _text(60)),
        aliases=tuple(a.lower() for a in f.get("aliases", _text_list, [])),
        blocked=tuple(blocked or ()),
        who=f.get("who", _text(300)),
        lift=f.get("lift", _text(500), ""),
        instead=f.get("instead", _text(300), ""),
        notes=tuple(f.get("notes", _text_list, [])),
        sources=tuple(
            Source(str(s["title"]), str(s["url"])) for s in f.get("sources", _sources, [])
        ),
        reviewed=f.get("reviewed", _date),
        file=f.file,
    )
    return Network(**values) if f.ok else None


class NetworkIndex:
    """Finds the network a question names, when it asks about a block."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = {n.id: n for n in networks}
        self._names = {
            " ".join(_WORD.findall(alias)): n.id
            for n in self.networks.values()
            for alias in (n.name.lower(), *n.aliases)
        }
        self._longest = max((len(name.split()) for name in self._names), default=1)

    def blocking_question(self, text: str, servers: bool = False) -> Network | None:
        """The network named in a question about a block, else None. `servers`: the question
        asks a provider's server settings, so only words of blocking make it one ("BigPond's
        servers seem dead" asks for servers)."""
        if servers and not _BLOCKED.search(text):
            return None
        if not (_BLOCK_WORDS.search(text) or _MAIL_PORT_USE.match(text)):
            return None
        named = self._named(_WORD.findall(text.lower()))
        if not named:
            return None
        return self.networks[max(named, key=named.count)]  # the most named; ties: the first

    def _named(self, words: list[str]) -> list[str]:
        """The ids of the networks `words` name, in order, each name counted once where it
        stands (the longest name at each position: "amazon lightsail", not "amazon")."""
        found: list[str] = []
        start = 0
        while start < len(words):
            for size in range(min(self._longest, len(words) - start), 0, -1):
                owner = self._names.get(" ".join(words[start : start + size]))
                if owner:
                    found.append(owner)
                    start += size
                    break
            else:
                start += 1
        return found
