"""Live-check reports as terminal text (`mailport check`)."""

from __future__ import annotations

from bot.check.report import CheckReport, DomainPolicy, HostResult, PortResult, Verdict
from bot.render.check_facts import duration, facts, policy_facts, ptr, tlsa


def to_text(report: CheckReport, details: bool = True) -> str:
    """A readable report: the verdict, a table of ports, then each port's details."""
    lines = [_title(report), ""]
    lines += _verdict_lines(report)
    for note in report.notes:
        lines.append(f"Note: {note}")
    if report.policy is not None:
        lines += ["", *_policy_text(report.policy)]
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
        lines.append(f"  {address.address}  reverse DNS: {ptr(address.ptr, address.ptr_confirmed)}")
    if host.skipped:
        lines.append(f"  not checked (limit per name): {', '.join(host.skipped)}")
    dane = tlsa(host)
    if dane:
        lines.append(f"  {dane}")
    if host.ports:
        lines += ["", *_table(host.ports)]
    return lines


def _policy_text(policy: DomainPolicy) -> list[str]:
    lines = [f"{policy.domain}  MTA-STS and TLS-RPT, {duration(policy.ms)}"]
    if policy.verdict is not None:
        lines += _said(policy.verdict, f"{policy.verdict.level.value}: ")
    return lines + [f"  {label}: {value}" for label, value in policy_facts(policy)]


def _said(verdict: Verdict, lead: str = "") -> list[str]:
    """A verdict's sentence, what else was found and the next step, indented."""
    lines = [f"  {lead}{verdict.summary}", *(f"  Also: {also}" for also in verdict.also)]
    return lines + ([f"  Next: {verdict.next_step}"] if verdict.next_step else [])


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
        lines += _said(r.verdict)
    lines.append(
        "  Steps: " + " · ".join(f"{s.name} {s.ms:g} ms{'' if s.ok else ' ✗'}" for s in r.steps)
    )
    lines += [f"  {label}: {value}" for label, value in facts(r)]
    return lines
