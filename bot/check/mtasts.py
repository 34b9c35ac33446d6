"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) for a domain: its DNS records, the policy
fetched over HTTPS through the guard, and which MX hosts the policy's `mx:` patterns cover."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.check.errors import CheckInputError
from bot.check.guard import FetchFailed, Guard, Host, LookupFailed
from bot.check.report import DomainPolicy

POLICY_PATH = "/.well-known/mta-sts.txt"
MAX_POLICY = 64 * 1024  # RFC 8461 §3.3: senders may limit the policy's size (64 KiB suggested)
MAX_AGE = 31_557_600  # RFC 8461 §3.2: max_age is at most one year, in seconds
MODES = ("enforce", "testing", "none")
_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


class PolicyError(ValueError):
    """A record or policy that a sender would ignore, and why."""


@dataclass(frozen=True, slots=True)
class StsPolicy:
    """A parsed policy file."""

    mode: str
    mx: tuple[str, ...]
    max_age: int


def txt_text(rdata: str) -> str:
    """A TXT record as DNS presents it (`"v=STSv1; " "id=1"`) as one string."""
    parts = _QUOTED.findall(rdata)
    return "".join(parts) if parts else rdata


def _tags(record: str) -> dict[str, str]:
    """`v=STSv1; id=20240101` as {"v": "STSv1", "id": "20240101"}."""
    tags: dict[str, str] = {}
    for field in record.split(";"):
        key, sep, value = field.strip().partition("=")
        if sep:
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


def _one(records: Sequence[str], version: str, name: str) -> dict[str, str] | None:
    """The one record starting with `v=<version>` (others are not this protocol's); None when
    there is none; PolicyError when there are several."""
    mine = [t for t in (txt_text(r) for r in records) if re.match(rf"v={version}\s*(;|$)", t)]
    if len(mine) > 1:
        raise PolicyError(f"{name} has {len(mine)} v={version} records; senders ignore them all")
    return _tags(mine[0]) if mine else None


def sts_record(records: Sequence[str], domain: str) -> str | None:
    """The `id` of `_mta-sts.<domain>`'s record, or None when the domain has none."""
    tags = _one(records, "STSv1", f"_mta-sts.{domain}")
    if tags is None:
        return None
    record_id = tags.get("id", "")
    if not _ID.match(record_id):
        raise PolicyError(
            f"_mta-sts.{domain} has no valid id= (1 to 32 letters and digits): {record_id!r}"
        )
    return record_id


def tlsrpt_record(records: Sequence[str], domain: str) -> list[str]:
    """The report addresses (`rua`) of `_smtp._tls.<domain>`; [] when it has no record."""
    tags = _one(records, "TLSRPTv1", f"_smtp._tls.{domain}")
    if tags is None:
        return []
    uris = [u.strip() for u in tags.get("rua", "").split(",") if u.strip()]
    bad = [u for u in uris if not u.lower().startswith(("mailto:", "https:"))]
    if not uris or bad:
        raise PolicyError(
            f"_smtp._tls.{domain} needs rua=mailto:... or https:... report addresses"
            + (f", not {bad[0]!r}" if bad else "")
        )
    return uris


def parse_policy(text: str) -> StsPolicy:
    """The policy file (`version: STSv1`, `mode:`, `mx:` lines, `max_age:`); PolicyError names
    what makes senders ignore it."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    if fields.get("version") != ["STSv1"]:
        raise PolicyError("the policy does not start with version: STSv1")
    mode = (fields.get("mode") or [""])[0]
    if mode not in MODES:
        raise PolicyError(f"mode is {mode!r}, not enforce, testing or none")
    age = (fields.get("max_age") or [""])[0]
    if not age.isdigit() or int(age) > MAX_AGE:
        raise PolicyError(f"max_age is {age!r}, not a number of seconds up to {MAX_AGE}")
    mx = tuple(p.lower().rstrip(".") for p in fields.get("mx", []))
    if mode != "none" and not mx:
        raise PolicyError(f"mode {mode} needs at least one mx: line")
    return StsPolicy(mode, mx, int(age))


def mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 §4.1: `mail.example.com` matches itself; `*.example.com` matches one more
    label on the left (`mx1.example.com`, not `example.com` or `a.b.example.com`)."""
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return host == pattern


async def lookup(guard: Guard, domain: Host, mx_hosts: Sequence[str]) -> DomainPolicy:
    """The domain's MTA-STS and TLS-RPT as a sender would find them, and the MX hosts (by
    name) that its policy does not cover."""
    started = time.perf_counter()
    policy = DomainPolicy(domain.display)
    sts, rpt = await asyncio.gather(
        _records(guard, f"_mta-sts.{domain.name}"), _records(guard, f"_smtp._tls.{domain.name}")
    )
    try:
        policy.tlsrpt = tlsrpt_record(rpt, domain.display)
    except PolicyError as exc:
        policy.tlsrpt_problem = str(exc)
    try:
        policy.sts_id = sts_record(sts, domain.display)
        if policy.sts_id is not None:
            _apply(policy, await _fetch(guard, domain), mx_hosts)
    except PolicyError as exc:
        policy.sts_problem = str(exc)
    policy.ms = round((time.perf_counter() - started) * 1000, 1)
    return policy


async def _records(guard: Guard, name: str) -> list[str]:
    try:
        return await guard.txt(name)
    except LookupFailed:
        return []


def _apply(policy: DomainPolicy, parsed: StsPolicy, mx_hosts: Sequence[str]) -> None:
    policy.mode, policy.max_age, policy.mx_patterns = parsed.mode, parsed.max_age, list(parsed.mx)
    if parsed.mode != "none":
        policy.unmatched_mx = [h for h in mx_hosts if not any(mx_matches(p, h) for p in parsed.mx)]


async def _fetch(guard: Guard, domain: Host) -> StsPolicy:
    """GET the policy from `mta-sts.<domain>` (valid certificate, no redirect, text/plain)."""
    try:
        host = guard.clean(f"mta-sts.{domain.name}")
    except CheckInputError as exc:
        raise PolicyError(f"mta-sts.{domain.display} is not a usable name: {exc}") from None
    url = f"https://{host.display}{POLICY_PATH}"
    try:
        reply = await guard.fetch(host, POLICY_PATH, MAX_POLICY)
    except FetchFailed as exc:
        raise PolicyError(f"fetching {url} failed: {exc}") from None
    if reply.status != 200:
        moved = " (senders do not follow redirects)" if 300 <= reply.status < 400 else ""
        raise PolicyError(f"{url} answered HTTP {reply.status}{moved}")
    if reply.content_type != "text/plain":
        raise PolicyError(f"{url} is {reply.content_type or 'untyped'}, not text/plain")
    if reply.truncated:
        raise PolicyError(f"{url} is larger than {MAX_POLICY // 1024} KiB")
    try:
        return parse_policy(reply.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{url} is not UTF-8 text") from None
