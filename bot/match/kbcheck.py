"""`mailport kb check`: schema problems plus phrasings the matcher cannot tell apart."""

from __future__ import annotations

from pathlib import Path

from rapidfuzz import utils

from bot.kb.knowledge import (
    OUT_OF_SCOPE_FILE,
    KnowledgeBase,
    Problem,
    load_with_problems,
    out_of_scope_file,
)
from bot.match.matcher import OUTSIDE_NOTE, Matcher
from bot.match.normalize import strip_slack


def check(
    directory: Path | None = None, cache_dir: Path | None = None
) -> tuple[list[Problem], str]:
    """Every problem found, and a one-line summary (`cache_dir`: where the matcher's fit is
    kept, so a second check does not refit)."""
    kb, problems = load_with_problems(directory)
    if kb.entries:
        problems.extend(duplicate_phrasings(kb, out_of_scope_file(directory)))
        problems.extend(indistinct_phrasings(kb, cache_dir))
    if problems:
        return problems, f"{len(problems)} problem(s) in the knowledge base"
    phrasings = sum(len(e.phrasings) for e in kb.entries.values())
    return [], (
        f"OK: {len(kb.entries)} entries, {phrasings} phrasings, {len(kb.ports)} ports, "
        f"{len(kb.out_of_scope)} out-of-scope examples; records: {len(kb.providers)} providers, "
        f"{len(kb.networks)} networks, {len(kb.codes)} codes"
    )


def duplicate_phrasings(kb: KnowledgeBase, outside: str) -> list[Problem]:
    """The same phrasing (after normalisation) in two places."""
    places = [
        (entry.file, entry.id, field, text)
        for entry in kb.entries.values()
        for field, text in _fields(entry.phrasings)
    ]
    places += [(outside, f"#{i + 1}", "", text) for i, text in enumerate(kb.out_of_scope)]
    first: dict[str, tuple[str, str]] = {}
    problems = []
    for file, label, field, text in places:
        key = utils.default_process(strip_slack(text, for_matching=True))
        owner, owner_field = first.setdefault(key, (label, field))
        if (owner, owner_field) != (label, field):
            where = f"{owner}:{owner_field}" if owner_field else owner
            problems.append(Problem(file, label, field, f"{text!r} repeats {where}"))
    return problems


def indistinct_phrasings(kb: KnowledgeBase, cache_dir: Path | None = None) -> list[Problem]:
    """Phrasings the matcher does not answer with their own entry (or that the out-of-scope
    examples capture)."""
    matcher = Matcher(kb, cache_dir)
    problems = []
    for entry in kb.entries.values():
        for field, text in _fields(entry.phrasings):
            result = matcher.ask(text)
            if result.status == "answered" and result.entry and result.entry.id == entry.id:
                continue
            rival = result.entry or next(
                (s.entry for s in result.suggestions if s.entry.id != entry.id), None
            )
            if rival:
                what = f"is too close to {rival.id}"
            elif result.note == OUTSIDE_NOTE:
                what = f"is too close to the examples in {OUT_OF_SCOPE_FILE}"
            else:
                what = "does not match its own entry"
            problems.append(
                Problem(entry.file, entry.id, field, f"{text!r} {what} ({result.status})")
            )
    return problems


def _fields(phrasings: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("question", phrasings[0])] + [
        (f"alternates[{i}]", text) for i, text in enumerate(phrasings[1:])
    ]
