"""Live-check reports as Slack Block Kit messages.

`to_blocks` gives the summary (verdict, a table with one row per address and port, a
"Details" button whose value is `report.ref` and whose action id is `check_details`);
`to_detail_blocks` gives the per-port details. Everything from the server or the user is
escaped or sent as raw text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    RawTextObject,
    SectionBlock,
    TableBlock,
)

from bot.check.report import CheckReport, DomainPolicy, HostResult, Level, PortResult, Verdict
from bot.render.check_facts import duration, facts, policy_facts, ptr, tlsa
from bot.render.kit import SECTION_MAX, Message, clip, escape, header, md

DETAILS_ACTION = "check_details"
TABLE_ROWS = 99
DETAIL_SECTIONS = 45
MARK = {Level.OK: "✅", Level.WARNING: "⚠️", Level.FAIL: "❌"}


def to_blocks(report: CheckReport) -> tuple[list[Block], str]:
    """The summary message: verdict, per-port table, host problems, a Details button."""
    verdict = report.verdict
    level = verdict.level if verdict else Level.FAIL
    blocks: list[Block] = [header(f"Live check: {report.query}")]
    if verdict is not None:
        text = f"{MARK[level]} *{level.value}*: {escape(verdict.summary)}"
        if verdict.next_step:
            text += f"\n*Next:* {escape(verdict.next_step)}"
        blocks.append(SectionBlock(text=md(text)))
    blocks += [SectionBlock(text=md(f"• {escape(n)}")) for n in report.notes[:5]]
    blocks += _host_problems(report.hosts, said=verdict)
    if report.policy is not None and report.policy.verdict is not None:
        blocks.append(SectionBlock(text=md(_policy_mrkdwn(report.policy, report.policy.verdict))))
    results = report.results()
    if results:
        blocks.append(_slack_table(results))
    blocks.append(ContextBlock(elements=[md(_context_line(report))]))
    if report.ref and results:
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(action_id=DETAILS_ACTION, text="Details", value=report.ref)]
            )
        )
    return blocks, _fallback(report)


def checking(target: str) -> str:
    """The placeholder shown while a live check runs (replaced by the report)."""
    return f"Checking {escape(clip(target, 200))}… this takes a few seconds."


def checking_below(target: str) -> str:
    """A slash command's first reply while its check runs: Slack cannot replace that reply,
    so it says where the report will appear."""
    return (
        f"Checking {escape(clip(target, 200))}… the report follows as a new message below, "
        "usually within a few seconds."
    )


def to_message(report: CheckReport) -> Message:
    """`to_blocks` as the Slack app's Message."""
    blocks, text = to_blocks(report)
    return Message(text=text, blocks=tuple(blocks))


def _host_problems(hosts: Iterable[HostResult], said: Verdict | None) -> list[Block]:
    """A section per host that could not be checked, unless the verdict above (`said`) is
    already that host's."""
    problems: list[Block] = [
        SectionBlock(
            text=md(
                f"{MARK[h.verdict.level]} {escape(h.verdict.summary)}\n"
                f"*Next:* {escape(h.verdict.next_step)}"
            )
        )
        for h in hosts
        if h.verdict is not None and h.verdict != said
    ]
    return problems[:10]


def _policy_mrkdwn(policy: DomainPolicy, said: Verdict) -> str:
    """The domain's MTA-STS and TLS-RPT: the verdict, what else was found, the facts."""
    lines = [f"{MARK[said.level]} *{escape(policy.domain)}*: {escape(said.summary)}"]
    lines += [f"Also: {escape(also)}" for also in said.also]
    if said.next_step and said.level is not Level.OK:
        lines.append(f"*Next:* {escape(said.next_step)}")
    lines += [f"*{label}:* `{_code(value)}`" for label, value in policy_facts(policy)]
    return "\n".join(lines)


def _slack_table(results: list[PortResult]) -> TableBlock:
    header = ("Host / address", "Port", "Verdict", "What we found")
    rows = [header] + [
        (
            f"{r.host} {r.address}" if r.host != r.address else r.address,
            str(r.port),
            f"{MARK[r.verdict.level]} {r.verdict.level.value}" if r.verdict else "?",
            r.verdict.summary if r.verdict else "",
        )
        for r in results[:TABLE_ROWS]
    ]
    return TableBlock(rows=[[RawTextObject(text=clip(c, 500)) for c in row] for row in rows])


def _context_line(report: CheckReport) -> str:
    """When and how long (mrkdwn): the time in each reader's own time zone."""
    cached = " (cached result)" if report.cached else ""
    return f"Checked {slack_date(report.checked_at)} in {duration(report.ms)}{cached}"


def slack_date(iso: str) -> str:
    """An ISO 8601 time as Slack's date token (shown in the reader's time zone), with the UTC
    time as its fallback; escaped as it is when it is not a time."""
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return escape(iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    fallback = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _fallback(report: CheckReport) -> str:
    verdict = report.verdict
    head = f"{verdict.level.value}: {verdict.summary}" if verdict else "Live check"
    return clip(escape(f"Live check of {report.query}: {head}"), SECTION_MAX)


def to_detail_blocks(report: CheckReport) -> tuple[list[Block], str]:
    """Per-port details: steps with timings, banner, capabilities, TLS and certificate."""
    blocks: list[Block] = [header(f"Details: {report.query}")]
    for host in report.hosts:
        lines = [f"*{escape(host.name)}*  DNS {host.dns_ms:g} ms"]
        lines += [
            f"• {escape(a.address)}: reverse DNS {escape(ptr(a.ptr, a.ptr_confirmed))}"
            for a in host.addresses
        ]
        dane = tlsa(host)
        if dane:
            lines.append(f"• `{_code(dane)}`")
        blocks.append(SectionBlock(text=md("\n".join(lines))))
    for r in report.results()[:DETAIL_SECTIONS]:
        blocks.append(SectionBlock(text=md(_port_mrkdwn(r))))
    return blocks, clip(escape(f"Details of the live check of {report.query}"), SECTION_MAX)


def _port_mrkdwn(r: PortResult) -> str:
    level = r.verdict.level if r.verdict else Level.FAIL
    lines = [
        f"{MARK[level]} *{escape(r.address)} port {r.port}* ({r.protocol}, "
        f"{r.tls_mode}, {r.ms:g} ms)"
    ]
    if r.verdict is not None:
        lines.append(escape(r.verdict.summary))
        lines += [f"Also: {escape(a)}" for a in r.verdict.also]
    lines.append(
        "Steps: "
        + escape(" · ".join(f"{s.name} {s.ms:g} ms{'' if s.ok else ' ✗'}" for s in r.steps))
    )
    lines += [f"*{label}:* `{_code(value)}`" for label, value in facts(r)]
    return "\n".join(lines)


def _code(text: str) -> str:
    """Server text inside inline code: escaped, clipped, with no backtick to end it early."""
    return escape(clip(text, 400)).replace("`", "'")
