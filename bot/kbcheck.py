"""`mailport kb check`: schema problems plus phrasings the matcher cannot tell apart."""

from __future__ import annotations

from pathlib import Path

from rapidfuzz import utils

from bot.knowledge import KnowledgeBase, Problem, load_with_problems
from bot.matcher import Matcher
from bot.normalize import strip_slack


def check(directory: Path | None = None) -> tuple[list[Problem], str]:
    """Every problem found, and a one-line summary."""
    kb, problems = load_with_problems(directory)
    if kb.entries:
        problems.extend(duplicate_phrasings(kb))
        problems.extend(indistinct_phrasings(kb))
    if problems:
        return problems, f"{len(problems)} problem(s) in the knowledge base"
    phrasings = sum(len(e.phrasings) for e in kb.entries.values())
    return [], (f"OK: {len(kb.entries)} entries, {phrasings} phrasings, {len(kb.ports)} ports")


def duplicate_phrasings(kb: KnowledgeBase) -> list[Problem]:
    """The same phrasing (after normalisation) in two places."""
    first: dict[str, tuple[str, str]] = {}
    problems = []
    for entry in kb.entries.values():
        for field, text in _fields(entry.phrasings):
            key = utils.default_process(strip_slack(text))
            owner, owner_field = first.setdefault(key, (entry.id, field))
            if (owner, owner_field) != (entry.id, field):
                problems.append(
                    Problem(entry.file, entry.id, field, f"{text!r} repeats {owner}:{owner_field}")
                )
    return problems


def indistinct_phrasings(kb: KnowledgeBase) -> list[Problem]:
    """Phrasings the matcher does not answer with their own entry."""
    matcher = Matcher(kb)
    problems = []
    for entry in kb.entries.values():
        for field, text in _fields(entry.phrasings):
            result = matcher.ask(text)
            if result.status == "answered" and result.entry and result.entry.id == entry.id:
                continue
            rival = result.entry or next(
                (s.entry for s in result.suggestions if s.entry.id != entry.id), None
            )
            what = f"is too close to {rival.id}" if rival else "does not match its own entry"
            problems.append(
                Problem(entry.file, entry.id, field, f"{text!r} {what} ({result.status})")
            )
    return problems


def _fields(phrasings: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("question", phrasings[0])] + [
        (f"alternates[{i}]", text) for i, text in enumerate(phrasings[1:])
    ]
