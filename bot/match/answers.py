"""Result types the engine returns; they know nothing about Slack or terminals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.kb.knowledge import Entry, PortInfo

Status = Literal["answered", "ambiguous", "no_match"]
MAX_SUGGESTIONS = 3
"""An answer offers at most this many entries as "did you mean" or nearest topics."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A nearby entry offered as "did you mean"."""

    entry: Entry
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """The matcher's decision for one question."""

    question: str
    status: Status
    score: float
    entry: Entry | None
    suggestions: tuple[Suggestion, ...]
    ports: tuple[PortInfo, ...]
    note: str = ""
    """Extra honest context, e.g. "Port 22 is SSH, not an email port."."""
    small_talk: bool = False
    """No question at all ("thanks!", "hi", "test"): `note` is the whole reply."""
    checks: tuple[str, ...] = ()
    """Live checks worth offering (`host` or `host port`): mail hosts the question named,
    and the servers of the provider record the answer is about."""
    network: str = ""
    """The id of the network record whose blocking policy `note` carries, if any."""


@dataclass(frozen=True, slots=True)
class PortCard:
    """Everything known about one port number."""

    port: int
    info: PortInfo | None
    entry: Entry | None
    note: str

    @property
    def is_port(self) -> bool:
        """False for a number no TCP or UDP port has (0, or above 65535): `note` says so."""
        return 0 < self.port < 65536
