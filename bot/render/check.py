"""Live-check reports as terminal text, JSON and Slack Block Kit.

JSON (`to_json`, `mailport check --json`) is `CheckReport.to_dict()`, schema "mailport.check/1":
  {schema, query, ports: [int], mx, checked_at (ISO 8601 UTC), ms, cached, ref,
   verdict: {level: OK|WARNING|FAIL, summary, next_step, also: [str]},
   notes: [str],
   hosts: [{name, ascii_name, mx_preference, dns_ms, error, verdict,
            addresses: [{address, ptr, ptr_confirmed}], refused: [{address, reason}], skipped,
            ports: [{host, address, port, protocol, tls_mode, ms, banner,
                     steps: [{name, ok, ms, detail}],
                     caps_before_tls, caps_after_tls, starttls_offered,
                     auth_before_tls, cleartext_login, tls_versions, runs_pipelined_commands,
                     auth_after_tls,
                     tls: {version, cipher, bits, checked_name, verified, verify_code,
                           verify_reason, verify_message, name_matches,
                           cert: {subject, issuer, sans, not_before, not_after, days_left,
                                  expired, self_signed, sha256, key, signature},
                           chain: [{subject, issuer}] (as the server sent it, its own first),
                           issuer_url (AIA caIssuers) | null} | null,
                     failure: {step, code, detail} | null, verdict, transcript: [str]}]}]}
Fields are only ever added within one schema version.

Slack: `to_blocks` gives the summary (verdict, a table with one row per address and port, a
"Details" button whose value is `report.ref` and whose action id is `check_details`);
`to_detail_blocks` gives the per-port details. Everything from the server or the user is
escaped or sent as raw text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    RawTextObject,
    SectionBlock,
    TableBlock,
)

from bot.check.report import CheckReport, HostResult, Level, PortResult, TlsInfo, Verdict
from bot.render.blocks import Message, clip, escape

DETAILS_ACTION = "check_details"
TABLE_ROWS = 99
DETAIL_SECTIONS = 45
SECTION_MAX = 3000
MARK = {Level.OK: "✅", Level.WARNING: "⚠️", Level.FAIL: "❌"}


# --- JSON ------------------------------------------------------------------------------------


def to_json(report: CheckReport) -> dict[str, Any]:
    """The stable JSON shape (see the module docstring)."""
    return report.to_dict()


# --- terminal text ---------------------------------------------------------------------------


def to_text(report: CheckReport, details: bool = True) -> str:
    """A readable report: the verdict, a table of ports, then each port's details."""
    lines = [_title(report), ""]
    lines += _verdict_lines(report)
    for note in report.notes:
        lines.append(f"Note: {note}")
    for host in report.hosts:
        lines += ["", *_host_text(host, said=report.verdict)]
    if details:
        for result in report.results():
            lines += ["", *_port_details(result)]
    return "\n".join(lines) + "\n"


def _title(report: CheckReport) -> str:
    ports = ", ".join(str(p) for p in report.ports)
    mode = " (MX)" if report.mx else ""
    cached = ", cached" if report.cached else ""
    return (
        f"mailport check {report.query}{mode}: ports {ports}; "
        f"checked {report.checked_at} in {duration(report.ms)}{cached}"
    )


def duration(ms: float) -> str:
    """`25 ms` under a second, `2.4 s` from one second on."""
    return f"{ms:.0f} ms" if ms < 999.5 else f"{ms / 1000:.1f} s"


def _verdict_lines(report: CheckReport) -> list[str]:
    verdict = report.verdict
    if verdict is None:
        return []
    lines = [f"{verdict.level.value}: {verdict.summary}"]
    if verdict.next_step:
        lines.append(f"Next: {verdict.next_step}")
    return lines


def _host_text(host: HostResult, said: Verdict | None = None) -> list[str]:
    """A host's lines; its verdict is left out when it is the report's verdict (`said`)."""
    pref = f" (MX {host.mx_preference})" if host.mx_preference is not None else ""
    lines = [f"{host.name}{pref}  DNS {host.dns_ms:g} ms"]
    if host.verdict is not None and host.verdict != said:
        lines.append(f"  {host.verdict.level.value}: {host.verdict.summary}")
        if host.verdict.next_step:
            lines.append(f"  Next: {host.verdict.next_step}")
    for address in host.addresses:
        lines.append(
            f"  {address.address}  reverse DNS: {_ptr(address.ptr, address.ptr_confirmed)}"
        )
    if host.skipped:
        lines.append(f"  not checked (limit per name): {', '.join(host.skipped)}")
    if host.ports:
        lines += ["", *_table(host.ports)]
    return lines


def _ptr(ptr: str | None, confirmed: bool | None) -> str:
    if ptr is None:
        return "none"
    return f"{ptr} ({'points back' if confirmed else 'does not point back'})"


def _table(results: list[PortResult]) -> list[str]:
    rows = [("ADDRESS", "PORT", "PROTO", "VERDICT", "SUMMARY")]
    rows += [
        (
            r.address,
            str(r.port),
            r.protocol,
            r.verdict.level.value if r.verdict else "?",
            r.verdict.summary if r.verdict else "",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, [*widths, 0], strict=True)).rstrip()
        for row in rows
    ]


def _port_details(r: PortResult) -> list[str]:
    level = r.verdict.level.value if r.verdict else "?"
    lines = [f"{r.where} ({r.protocol}, {r.tls_mode}): {level}, {r.ms:g} ms"]
    if r.verdict is not None:
        lines.append(f"  {r.verdict.summary}")
        lines += [f"  Also: {also}" for also in r.verdict.also]
        if r.verdict.next_step:
            lines.append(f"  Next: {r.verdict.next_step}")
    lines.append(
        "  Steps: " + " · ".join(f"{s.name} {s.ms:g} ms{'' if s.ok else ' ✗'}" for s in r.steps)
    )
    lines += [f"  {label}: {value}" for label, value in _facts(r)]
    return lines


def _facts(r: PortResult) -> list[tuple[str, str]]:
    """Label/value pairs shared by the terminal and Slack details."""
    facts: list[tuple[str, str]] = []
    if r.failure is not None:
        detail = f": {r.failure.detail}" if r.failure.detail else ""
        facts.append(("Stopped", f"{r.failure.step}, {r.failure.code}{detail}"))
    if r.banner is not None:
        facts.append(("Banner", r.banner.replace("\n", " | ")))
    if r.caps_before_tls:
        facts.append(("Before TLS", " ".join(r.caps_before_tls)))
        facts.append(("AUTH before TLS", " ".join(r.auth_before_tls) or "none"))
    if r.caps_after_tls:
        facts.append(("After TLS", " ".join(r.caps_after_tls)))
        facts.append(("AUTH after TLS", " ".join(r.auth_after_tls) or "none"))
    if r.tls is not None:
        facts += _tls_facts(r.tls)
    return facts


def _tls_facts(tls: TlsInfo) -> list[tuple[str, str]]:
    bits = f" ({tls.bits} bits)" if tls.bits else ""
    facts = [("TLS", f"{tls.version} {tls.cipher}{bits}")]
    if tls.verified:
        facts.append(("Verification", f"OK for {tls.checked_name}"))
    else:
        facts.append(
            (
                "Verification",
                f"FAILED: {tls.verify_reason} (OpenSSL {tls.verify_code}: {tls.verify_message})",
            )
        )
    cert = tls.cert
    if cert is not None:
        facts += [
            ("Certificate", cert.subject),
            ("Names (SAN)", ", ".join(cert.sans) or "none"),
            ("Issuer", cert.issuer + (" (self-signed)" if cert.self_signed else "")),
            (
                "Valid",
                f"{cert.not_before[:10]} to {cert.not_after[:10]} ({_days(cert.days_left)})",
            ),
        ]
    if tls.chain:
        sent = " → ".join(c.subject for c in tls.chain)
        facts.append(("Chain sent", f"{len(tls.chain)}: {sent}, issued by {tls.chain[-1].issuer}"))
    return facts


def _days(days_left: int) -> str:
    if days_left < 0:
        return f"expired {-days_left} days ago"
    return f"{days_left} days left"


# --- Slack -----------------------------------------------------------------------------------


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, SECTION_MAX), verbatim=True)


def to_blocks(report: CheckReport) -> tuple[list[Block], str]:
    """The summary message: verdict, per-port table, host problems, a Details button."""
    verdict = report.verdict
    level = verdict.level if verdict else Level.FAIL
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"Live check: {report.query}", 150)))
    ]
    if verdict is not None:
        text = f"{MARK[level]} *{level.value}*: {escape(verdict.summary)}"
        if verdict.next_step:
            text += f"\n*Next:* {escape(verdict.next_step)}"
        blocks.append(SectionBlock(text=_md(text)))
    blocks += [SectionBlock(text=_md(f"• {escape(n)}")) for n in report.notes[:5]]
    blocks += _host_problems(report.hosts, said=verdict)
    results = report.results()
    if results:
        blocks.append(_slack_table(results))
    blocks.append(ContextBlock(elements=[_md(_context_line(report))]))
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
            text=_md(
                f"{MARK[h.verdict.level]} {escape(h.verdict.summary)}\n"
                f"*Next:* {escape(h.verdict.next_step)}"
            )
        )
        for h in hosts
        if h.verdict is not None and h.verdict != said
    ]
    return problems[:10]


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
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"Details: {report.query}", 150)))
    ]
    for host in report.hosts:
        lines = [f"*{escape(host.name)}*  DNS {host.dns_ms:g} ms"]
        lines += [
            f"• {escape(a.address)}: reverse DNS {escape(_ptr(a.ptr, a.ptr_confirmed))}"
            for a in host.addresses
        ]
        blocks.append(SectionBlock(text=_md("\n".join(lines))))
    for r in report.results()[:DETAIL_SECTIONS]:
        blocks.append(SectionBlock(text=_md(_port_mrkdwn(r))))
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
    lines += [f"*{label}:* `{_code(value)}`" for label, value in _facts(r)]
    return "\n".join(lines)


def _code(text: str) -> str:
    """Server text inside inline code: escaped, clipped, with no backtick to end it early."""
    return escape(clip(text, 400)).replace("`", "'")
