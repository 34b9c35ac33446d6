"""`settings QUERY`: a provider's settings by name, email address or domain, or, for a domain
that is no known provider, by where its MX hosts point (a Google or Microsoft 365 domain).

Names and known domains are answered from the records at once; only an unknown domain costs
a DNS query, made through the live check's guard (name hygiene, no search list, a deadline).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers import Answer
from bot.check.errors import CheckError
from bot.check.guard import Guard
from bot.engine import Engine
from bot.records import Found

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
    lookup = await guard.mx(host)
    if lookup.error:
        return _missing(engine, query, f"I have no settings for {host.display}: {lookup.error}.")
    names = [mx.name for mx in lookup.hosts]
    found = engine.settings_by_mx(names)
    shown = ", ".join(names[:3]) or "none"
    if found is None:
        return _missing(
            engine,
            query,
            f"I have no settings for {host.display}: its MX hosts ({shown}) belong to no "
            "provider I know. Its mail host or IT team has the client settings.",
        )
    note = f"{host.display} receives its mail at {shown}, so it is hosted by {found.provider.name}."
    return _result(engine, query, found, note)


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
