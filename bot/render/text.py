"""Engine results as terminal text."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from bot.kb.knowledge import TLS_LABELS, Entry, PortInfo, Problem
from bot.match.answers import Answer, PortCard
from bot.store import Unanswered, Votes

WIDTH = 88
_BOLD = re.compile(r"(?<![\w*])(\*\*?)([^*\n]+)\1(?![\w*])")  # *bold*, and Markdown's **bold**
# The Slack commands whose command line is the same verb: `/mailport check HOST` is
# `mailport check HOST` in a terminal.
_SLASH_VERB = re.compile(r"(?<![\w/])/mailport (check|settings)\b")


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn as terminal text: *bold* and `code` marks dropped (their words kept),
    `/mailport check ...` written as the command line `mailport check ...`; bullets stay."""
    return _SLASH_VERB.sub(r"mailport \1", _BOLD.sub(r"\2", mrkdwn).replace("`", ""))


def _wrap(text: str, indent: str = "") -> str:
    lines = []
    for line in plain(text).splitlines():
        if not line.strip():
            lines.append("")
            continue
        lead = re.match(r"\s*(?:[•\-*]|\d+\.)\s+", line)
        hang = indent + " " * (len(lead.group(0)) if lead else 0)
        lines.append(
            textwrap.fill(line.strip(), WIDTH, initial_indent=indent, subsequent_indent=hang)
        )
    return "\n".join(lines)


def port_table(rows: Sequence[PortInfo]) -> str:
    """A fixed-width port table."""
    if not rows:
        return ""
    header = ("Port", "Service", "TLS", "Use", "Status", "Email", "RFCs")
    body = [
        (
            str(r.port),
            r.service,
            TLS_LABELS[r.tls],
            r.use,
            r.status,
            "yes" if r.email else "no",
            ", ".join(str(n) for n in r.rfcs) or "-",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row).rstrip() for row in (header, *body))


def _sources(item: Entry) -> str:
    lines = [f"  - {s.title} <{s.url}>" for s in item.sources]
    return "Sources ({}):\n{}".format(item.dated, "\n".join(lines))


def entry(item: Entry, rows: Sequence[PortInfo]) -> str:
    """Short answer, detail, port table and sources."""
    parts = [_wrap(item.short), _wrap(item.detail.strip())]
    if rows:
        parts.append(port_table(rows))
    parts.append(_sources(item))
    return "\n\n".join(parts)


def answer(result: Answer) -> str:
    """The answer, or suggestions, or an honest "no answer"; small talk gets its reply."""
    if result.small_talk:
        return _wrap(result.note)
    parts = [_wrap(result.note)] if result.note else []
    if result.status == "answered" and result.entry:
        parts.append(entry(result.entry, result.ports))
    elif result.status == "ambiguous":
        parts.append("Did you mean:\n" + _suggestions(result))
    else:
        parts.append("I don't have an answer for that.")
        if result.suggestions:
            parts.append("Nearest topics:\n" + _suggestions(result))
        if result.ports and not result.entry:
            parts.append(port_table(result.ports))
    return "\n\n".join(parts)


def _suggestions(result: Answer) -> str:
    return "\n".join(
        f'  - {s.entry.question}  (mailport ask "{s.entry.question}")' for s in result.suggestions
    )


def port_card(card: PortCard) -> str:
    """One port: the note, the table row and the entry's short answer."""
    parts = [plain(card.note)]
    if card.info:
        parts.append(port_table([card.info]))
        parts.append(_wrap(card.info.note))
    if card.entry:
        parts.append(f'{_wrap(card.entry.short)}\n\nMore: mailport ask "{card.entry.question}"')
    return "\n\n".join(parts)


def problems(found: Sequence[Problem]) -> str:
    """`kb check` findings, one per line."""
    return "\n".join(str(p) for p in found)


def curator_report(unanswered: Sequence[Unanswered], downvoted: Sequence[Votes]) -> str:
    """`mailport report`: the most asked unanswered questions, the most down-voted answers."""
    asked = "\n".join(f"{u.count:>6}  {u.question}" for u in unanswered) or "     -  none"
    voted = "\n".join(f"{v.not_helpful:>6} / {v.helpful:<4} {v.entry_id}" for v in downvoted)
    return (
        f"Top unanswered questions (times asked):\n{asked}\n\n"
        f"Most down-voted answers (not helpful / helpful):\n{voted or '     -  none'}"
    )
