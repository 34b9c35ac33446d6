"""Engine results as Slack Block Kit messages (`slack_sdk.models.blocks`) with fallback text.

Every string that came from a user is escaped with `escape` and sent in `verbatim` mrkdwn,
so `<!channel>` or `<https://evil|label>` in a question shows as text and never pings or
links. Knowledge-base text is curated mrkdwn (`*bold*`, `code`), escaped for `&`, `<`, `>`.

Action ids are unique per message: `helpful`, `not_helpful`, `share`, `full_answer`,
`suggest_0`..`suggest_2`, `related_0`..`related_4`. Button values carry an entry id or,
for `share`, an opaque reference chosen by the caller.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    RawTextObject,
    SectionBlock,
    TableBlock,
    TableBlockColumnSettings,
)
from slack_sdk.models.views import View

from bot.kb.knowledge import TLS_LABELS, Entry, KnowledgeBase, PortInfo
from bot.match.answers import MAX_SUGGESTIONS, Answer, PortCard, Suggestion
from bot.render.kit import (
    SECTION_MAX,
    Message,
    button,
    clip,
    context,
    escape,
    header,
    md,
    validated,
)
from bot.store import Unanswered, Votes
from bot.verbs import slack_examples

QUOTE_MAX = 300
MAX_RELATED = 5
MAX_CHECKS = 3
TABLE_HEADER = ("Port", "Service", "TLS", "Use", "Status")
RUN_CHECK_ACTION = "run_check"
CAPABILITIES = (
    "I answer questions about email ports (SMTP relay and submission, IMAP, POP3, TLS, "
    "blocked ports, provider settings) from a reviewed knowledge base, show what a port "
    "number is for (`/mailport 465`), and check a mail server live "
    "(`/mailport check smtp.example.com 587`)."
)
NOTED = "I've noted the question so a curator can add an answer. `/mailport help` shows examples."
APOLOGY = (
    "Sorry, something went wrong on my side while answering that. Please try again in a moment."
)


def quote(user_text: str) -> str:
    """A user's words, shortened, escaped and in quotes, safe to embed in mrkdwn."""
    return "“" + escape(clip(" ".join(user_text.split()), QUOTE_MAX)) + "”"


def sections(mrkdwn: str) -> list[SectionBlock]:
    """One section per chunk of at most 3000 characters, split at line breaks when possible."""
    chunks: list[str] = []
    rest = mrkdwn.strip()
    while len(rest) > SECTION_MAX:
        cut = rest.rfind("\n", 0, SECTION_MAX)
        cut = cut if cut > 0 else rest.rfind(" ", 0, SECTION_MAX)
        cut = cut if cut > 0 else SECTION_MAX
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    chunks.append(rest)
    return [SectionBlock(text=md(chunk)) for chunk in chunks if chunk]


def _entry_buttons(prefix: str, entries: Iterable[Entry]) -> list[ButtonElement]:
    return [button(f"{prefix}_{i}", e.question, e.id) for i, e in enumerate(entries)]


def _link(title: str, url: str) -> str:
    return f"<{escape(url)}|{escape(title).replace('|', '¦')}>"


# --- the port table --------------------------------------------------------------------------


def _row(info: PortInfo) -> tuple[str, ...]:
    return (str(info.port), info.service, TLS_LABELS.get(info.tls, info.tls), info.use, info.status)


def port_table(rows: Sequence[PortInfo]) -> TableBlock:
    """Slack's `table` block: a header row, then one row per port."""
    cells = [[RawTextObject(text=cell) for cell in row] for row in (TABLE_HEADER, *map(_row, rows))]
    settings = [TableBlockColumnSettings(align="right"), *[None] * (len(TABLE_HEADER) - 1)]
    return TableBlock(rows=cells, column_settings=settings)


def port_table_text(rows: Sequence[PortInfo]) -> str:
    """The same table as fixed-width text, for notifications and clients without tables."""
    table = [TABLE_HEADER, *map(_row, rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(TABLE_HEADER))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    return "```\n" + escape("\n".join(lines)) + "\n```"


def _with_table(text: str, rows: Sequence[PortInfo]) -> str:
    return f"{text}\n{port_table_text(rows)}" if rows else text


# --- answers ---------------------------------------------------------------------------------


def _sources_line(entry: Entry) -> str:
    links = " · ".join(_link(s.title, s.url) for s in entry.sources)
    return f"Sources: {links}  |  {entry.dated}"


def _feedback(entry: Entry, share_ref: str | None, more: bool = False) -> ActionsBlock:
    buttons = [
        button("helpful", "👍 Helpful", entry.id),
        button("not_helpful", "👎 Not helpful", entry.id),
    ]
    if more:
        buttons.append(button("full_answer", "Full answer", entry.id))
    if share_ref is not None:
        buttons.append(button("share", "Share in channel", share_ref, style="primary"))
    return ActionsBlock(elements=buttons)


def _shared_by(user_id: str | None, asked: str | None) -> list[Block]:
    if not user_id:
        return []
    line = f"Shared by <@{escape(user_id)}>" + (f", who asked {quote(asked)}" if asked else "")
    return [context(line)]


def entry_message(
    entry: Entry,
    rows: Sequence[PortInfo],
    kb: KnowledgeBase,
    *,
    note: str = "",
    share_ref: str | None = None,
    shared_by: str | None = None,
    asked: str | None = None,
    checks: Sequence[str] = (),
) -> Message:
    """A full answer: short answer first, detail, port table, sources, feedback, the live
    checks the engine offers (`checks`), related questions."""
    related = tuple(kb.entries[r] for r in entry.related if r in kb.entries)[:MAX_RELATED]
    head, body, tail = _entry_parts(entry, tuple(rows), related)
    blocks: list[Block | dict[str, Any]] = [*_shared_by(shared_by, asked), *head]
    if note:
        blocks.append(context(escape(note)))
    blocks += [*body, _feedback(entry, share_ref)]
    if checks:
        blocks.append(run_check_actions(checks))
    blocks += tail
    return Message(text=_with_table(escape(entry.short), rows), blocks=tuple(blocks))


@functools.lru_cache(maxsize=4096)
def _entry_parts(
    entry: Entry, rows: tuple[PortInfo, ...], related: tuple[Entry, ...]
) -> tuple[tuple[dict[str, Any], ...], ...]:
    """The blocks that depend only on the entry, built and validated once per entry: the
    head (question, short answer), the body (detail, port table, sources), the tail
    (related questions)."""
    head: list[Block] = [header(entry.question), *sections(f"*{escape(entry.short)}*")]
    body: list[Block] = [*sections(escape(entry.detail))]
    if rows:
        body.append(port_table(rows))
    body.append(context(_sources_line(entry)))
    tail: list[Block] = []
    if related:
        tail = [
            context("*Related questions*"),
            ActionsBlock(elements=_entry_buttons("related", related)),
        ]
    return validated(head), validated(body), validated(tail)


def run_check_actions(targets: Sequence[str]) -> ActionsBlock:
    """ "Run live check" buttons for up to three targets (`host` or `host port`); each value
    is command text for `bot.slack.commands.parse`."""
    buttons = [
        button(f"{RUN_CHECK_ACTION}_{i}", f"Run live check: {target}", f"check {target}")
        for i, target in enumerate(targets[:MAX_CHECKS])
    ]
    return ActionsBlock(elements=buttons)


def _suggestion_buttons(suggestions: Sequence[Suggestion]) -> ActionsBlock:
    entries = [s.entry for s in suggestions[:MAX_SUGGESTIONS]]
    return ActionsBlock(elements=_entry_buttons("suggest", entries))


def ambiguous_message(answer: Answer) -> Message:
    """Did you mean ...: each close answer's question and short answer, so the reply is
    useful without a click, then up to three buttons for the full answers."""
    options = answer.suggestions[:MAX_SUGGESTIONS]
    asked = f"I'm not sure which question you mean by {quote(answer.question)}. Did you mean:"
    listed = "\n".join(f"• *{escape(s.entry.question)}* {escape(s.entry.short)}" for s in options)
    blocks: list[Block] = [
        *sections(asked),
        *sections(listed),
        _suggestion_buttons(options),
    ]
    if answer.checks:  # a host the question names can be checked whichever answer it wants
        blocks.append(run_check_actions(answer.checks))
    if answer.note:
        blocks.append(context(escape(answer.note)))
    text = "Did you mean one of these? " + " | ".join(
        f"{escape(s.entry.question)} {escape(s.entry.short)}" for s in options
    )
    return Message(text=text, blocks=tuple(blocks))


def no_match_message(answer: Answer) -> Message:
    """An honest "no answer", the nearest topics, and what the bot can do."""
    opening = f"I don't have a reviewed answer for {quote(answer.question)}."
    blocks: list[Block] = [*sections(opening)]
    if answer.note:
        blocks += sections(escape(answer.note))
    if answer.ports:
        blocks.append(port_table(answer.ports))
    if answer.suggestions:
        blocks += [*sections("Nearest topics I do know:"), _suggestion_buttons(answer.suggestions)]
    if answer.checks:
        blocks.append(run_check_actions(answer.checks))
    blocks += sections(CAPABILITIES)
    blocks.append(context(NOTED))
    text = _with_table(opening + (f" {escape(answer.note)}" if answer.note else ""), answer.ports)
    return Message(text=text, blocks=tuple(blocks))


def answer_message(
    answer: Answer,
    kb: KnowledgeBase,
    *,
    share_ref: str | None = None,
    shared_by: str | None = None,
) -> Message:
    """The reply for any `Answer` status; `share_ref` adds a "Share in channel" button."""
    if answer.status == "answered" and answer.entry is not None:
        return entry_message(
            answer.entry,
            answer.ports,
            kb,
            note=answer.note,
            share_ref=share_ref,
            shared_by=shared_by,
            asked=answer.question,
            checks=answer.checks,
        )
    if answer.status == "ambiguous" and answer.suggestions:
        return ambiguous_message(answer)
    if answer.small_talk:
        return notice(answer.note)
    return no_match_message(answer)


def port_card_message(
    card: PortCard, *, share_ref: str | None = None, shared_by: str | None = None
) -> Message:
    """The port card: what the port is, its table row, the entry's short answer; for a number
    that is no port, a plain message saying so."""
    if not card.is_port:
        return notice(escape(card.note))
    title = f"Port {card.port}" + (f": {card.info.name}" if card.info else "")
    blocks: list[Block] = [*_shared_by(shared_by, None), header(title)]
    summary = f"*{escape(card.note)}*"
    if card.entry:
        summary += f"\n{escape(card.entry.short)}"
    blocks += sections(summary)
    rows = (card.info,) if card.info else ()
    if card.info:
        blocks += [port_table(rows), context(escape(card.info.note))]
    if card.entry:
        blocks += [context(_sources_line(card.entry)), _feedback(card.entry, share_ref, more=True)]
    else:
        blocks.append(context("`/mailport help` shows what else I can do."))
    text = _with_table(escape(card.note), rows)
    return Message(text=text, blocks=tuple(blocks))


# --- help, notices and App Home -------------------------------------------------------------


def _examples() -> str:
    return "\n".join(f"• `{example}`  {escape(what)}" for example, what in slack_examples())


def help_blocks() -> list[Block]:
    """Usage with examples (shared by the help reply and the App Home tab)."""
    return [
        header("mailport: email ports, answered"),
        *sections(CAPABILITIES),
        *sections(_examples()),
        context(
            "In a channel, mention me: `@mailport which port for IMAP?` and I reply in a thread. "
            "In a DM, just ask. Replies to `/mailport` are private until you press "
            "*Share in channel*."
        ),
    ]


def help_message() -> Message:
    """`/mailport` or `/mailport help`."""
    return Message(text="mailport: " + CAPABILITIES, blocks=tuple(help_blocks()))


def notice(text: str) -> Message:
    """A one-line message (already-escaped mrkdwn)."""
    return Message(text=text, blocks=tuple(sections(text)))


def apology() -> Message:
    """What a user sees instead of silence when a handler fails."""
    return notice(APOLOGY)


def feedback_thanks(helpful: bool) -> Message:
    """The private reply to a vote."""
    if helpful:
        return notice("Thanks for the feedback. Glad it helped!")
    return notice("Thanks for telling me. A curator will review this answer.")


def _unanswered_lines(items: Sequence[Unanswered]) -> str:
    if not items:
        return "_Nothing yet._"
    return "\n".join(f"• {quote(i.question)}  {_times(i.count)}" for i in items)


def _times(count: int) -> str:
    return "asked once" if count == 1 else f"asked {count} times"


def _downvoted_lines(items: Sequence[Votes], kb: KnowledgeBase) -> str:
    if not items:
        return "_Nothing yet._"
    lines = []
    for v in items:
        entry = kb.answer_entry(v.entry_id)
        name = escape(entry.question) if entry else f"`{escape(v.entry_id)}` (entry removed)"
        lines.append(f"• {name}  👎 {v.not_helpful} · 👍 {v.helpful}")
    return "\n".join(lines)


def home_view(
    unanswered: Sequence[Unanswered], downvoted: Sequence[Votes], kb: KnowledgeBase
) -> View:
    """A curator's App Home tab: usage, then what curators should look at next (questions
    others asked privately, so only curators see it)."""
    blocks = [
        *help_blocks(),
        DividerBlock(),
        header("For curators: top unanswered questions"),
        *sections(_unanswered_lines(unanswered)),
        header("For curators: most down-voted answers"),
        *sections(_downvoted_lines(downvoted, kb)),
        context("`mailport report` prints the same lists in a terminal."),
    ]
    return View(type="home", blocks=blocks)


def personal_home_view(curators_set: bool) -> View:
    """Everyone else's App Home tab: usage, examples and what the bot covers; never other
    people's questions."""
    where = (
        "Curators see the questions I could not answer here."
        if curators_set
        else "Curators: set `MAILPORT_CURATORS` to your Slack user or user group IDs to see "
        "the questions I could not answer here (`mailport report` prints them meanwhile)."
    )
    return View(type="home", blocks=[*help_blocks(), DividerBlock(), context(where)])
