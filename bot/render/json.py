"""Engine results as JSON-ready dicts: the stable contract of `mailport ask --json`."""

from __future__ import annotations

from typing import Any

from bot.check.report import CheckReport
from bot.kb.knowledge import Entry, PortInfo
from bot.match.answers import Answer, PortCard


def port_row(info: PortInfo) -> dict[str, Any]:
    """One port-table row."""
    return {
        "port": info.port,
        "service": info.service,
        "name": info.name,
        "transport": info.transport,
        "tls": info.tls,
        "use": info.use,
        "status": info.status,
        "email": info.email,
        "rfcs": list(info.rfcs),
        "note": info.note,
    }


def entry(item: Entry) -> dict[str, Any]:
    """The public fields of an entry."""
    return {
        "id": item.id,
        "question": item.question,
        "short": item.short,
        "detail": item.detail,
        "ports": list(item.ports),
        "sources": [{"title": s.title, "url": s.url} for s in item.sources],
    }


def answer(result: Answer) -> dict[str, Any]:
    """`{"status", "score", "entry", "suggestions", "ports", "note", "network"}`; `network`
    is the id of the network record whose blocking policy the note gives, else null."""
    return {
        "status": result.status,
        "score": result.score,
        "entry": entry(result.entry) if result.entry else None,
        "suggestions": [
            {"id": s.entry.id, "question": s.entry.question, "score": s.score}
            for s in result.suggestions
        ],
        "ports": [port_row(info) for info in result.ports],
        "note": result.note,
        "network": result.network or None,
    }


def port_card(card: PortCard) -> dict[str, Any]:
    """`{"port", "rows", "entry_id", "note"}`."""
    return {
        "port": card.port,
        "rows": [port_row(card.info)] if card.info else [],
        "entry_id": card.entry.id if card.entry else None,
        "note": card.note,
    }


def check_report(report: CheckReport) -> dict[str, Any]:
    """`mailport check --json`: `CheckReport.to_dict()`, schema "mailport.check/1"::

      {schema, query, ports: [int], mx, checked_at (ISO 8601 UTC), ms, cached, ref,
       verdict: {level: OK|WARNING|FAIL, summary, next_step, also: [str]},
       notes: [str],
       policy (with --mx; else null): {domain, sts_id, sts_problem, mode (enforce|testing|none),
               mx_patterns: [str], max_age, unmatched_mx: [str], tlsrpt: [str] (rua),
               tlsrpt_problem, ms, verdict},
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
    """
    return report.to_dict()
