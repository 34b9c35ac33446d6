"""What a live check found, as plain dataclasses. `CheckReport.to_dict()` is the stable JSON
shape (schema "mailport.check/1"); `CheckReport.from_dict()` reads it back (the result cache)."""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

SCHEMA = "mailport.check/1"


class Level(StrEnum):
    """A verdict, from good to bad."""

    OK = "OK"
    WARNING = "WARNING"
    FAIL = "FAIL"

    @property
    def rank(self) -> int:
        """0 for OK, 1 for WARNING, 2 for FAIL."""
        return list(Level).index(self)


class FailureCode(StrEnum):
    """Why a dialogue stopped early; `bot.check.verdict` turns each into words."""

    TIMEOUT = "timeout"  # a step had no answer within its time
    DEADLINE = "deadline"  # the whole check ran out of time
    REFUSED = "refused"  # nothing listens (TCP RST to the SYN)
    RESET = "reset"  # the connection was reset mid-dialogue
    CLOSED = "closed"  # the server closed the connection
    UNREACHABLE = "unreachable"  # no route to the address
    TLS = "tls"  # the TLS handshake failed
    OLD_TLS = "old_tls"  # only TLS 1.0/1.1 work
    PLAINTEXT = "plaintext"  # an implicit-TLS port answered in plain text
    INJECTION = "injection"  # the server sent data before the TLS handshake
    REJECTED = "rejected"  # a 4xx/5xx greeting, or a NO/BYE/-ERR
    EHLO_REFUSED = "ehlo_refused"
    NO_STARTTLS = "no_starttls"  # STARTTLS (STLS) is not offered
    STARTTLS_REFUSED = "starttls_refused"  # offered, but the command failed
    OVERLONG = "overlong"  # a reply line past RFC 5321's 512 octets
    PROTOCOL = "protocol"  # not the protocol the port is for
    ERROR = "error"  # anything else (its text is the detail)


@dataclass(slots=True)
class Verdict:
    """One plain-English sentence, the next thing to do, and any further problems."""

    level: Level
    summary: str
    next_step: str = ""
    also: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Step:
    """One timed step of a dialogue (connect, banner, EHLO, TLS handshake, ...)."""

    name: str
    ok: bool = False
    ms: float = 0.0
    detail: str = ""


@dataclass(slots=True)
class CertInfo:
    """The server's certificate (the leaf), read whether or not it verified. `days_left` counts
    whole days, negative once expired (-3: expired three days ago)."""

    subject: str
    issuer: str
    sans: list[str]
    not_before: str
    not_after: str
    days_left: int
    expired: bool
    self_signed: bool
    sha256: str
    key: str = ""
    """`RSA 2048`, `EC secp256r1`, ..."""
    signature: str = ""
    """The hash the issuer signed with: `SHA-256`, `SHA-1`, ..."""
    dane: list[str] = field(default_factory=list)
    """What a TLSA record names this certificate by: `selector matching-type digest` for the
    whole certificate (0) or its public key (1), by SHA-256 (1) or SHA-512 (2)."""


@dataclass(frozen=True, slots=True)
class ChainCert:
    """One certificate of the chain as the server sent it (`dane` as in CertInfo)."""

    subject: str
    issuer: str
    dane: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TlsInfo:
    """The TLS session and the verification result with its reason."""

    version: str
    cipher: str
    bits: int | None
    checked_name: str
    verified: bool
    verify_code: int | None = None
    verify_reason: str | None = None
    verify_message: str | None = None
    name_matches: bool | None = None
    cert: CertInfo | None = None
    chain: list[ChainCert] = field(default_factory=list)
    """What the server sent, its own certificate first (empty if it could not be read)."""
    issuer_url: str | None = None
    """Where the certificate's issuer says its own certificate can be fetched (AIA
    caIssuers): public CAs publish their intermediates there."""


@dataclass(slots=True)
class Failure:
    """Why a dialogue stopped early: the step and a code."""

    step: str
    code: FailureCode
    detail: str = ""


@dataclass(slots=True)
class PortResult:
    """One port on one address."""

    host: str
    address: str
    port: int
    protocol: str
    tls_mode: str
    ms: float = 0.0
    steps: list[Step] = field(default_factory=list)
    banner: str | None = None
    caps_before_tls: list[str] = field(default_factory=list)
    caps_after_tls: list[str] = field(default_factory=list)
    starttls_offered: bool | None = None
    auth_before_tls: list[str] = field(default_factory=list)
    cleartext_login: bool | None = None
    tls_versions: list[str] = field(default_factory=list)
    """The TLS versions the server accepts, each tried alone (`TLSv1.2`, `TLSv1.3`, ...)."""
    runs_pipelined_commands: bool | None = None
    """SMTP: whether a command sent with STARTTLS was run inside TLS (CVE-2011-0411)."""
    auth_after_tls: list[str] = field(default_factory=list)
    tls: TlsInfo | None = None
    failure: Failure | None = None
    verdict: Verdict | None = None
    transcript: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """`smtp.example.com 192.0.2.1 port 25`, or `192.0.2.1 port 25` for an IP target."""
        host = "" if self.host == self.address else f"{self.host} "
        return f"{host}{self.address} port {self.port}"


@dataclass(slots=True)
class AddressInfo:
    """An address that was checked, with its reverse DNS and whether that name points back."""

    address: str
    ptr: str | None = None
    ptr_confirmed: bool | None = None


@dataclass(slots=True)
class RefusedAddress:
    """An address the bot would not connect to."""

    address: str
    reason: str


@dataclass(slots=True)
class HostResult:
    """One host (the one asked about, or one MX) and the ports checked on each address."""

    name: str
    ascii_name: str
    mx_preference: int | None = None
    dns_ms: float = 0.0
    addresses: list[AddressInfo] = field(default_factory=list)
    refused: list[RefusedAddress] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    verdict: Verdict | None = None
    ports: list[PortResult] = field(default_factory=list)
    tlsa: list[str] = field(default_factory=list)
    """With --mx: the `_25._tcp.<host>` TLSA records (DANE, RFC 7672)."""
    tlsa_dnssec: bool | None = None
    """Whether the resolver vouched for them with DNSSEC (the AD flag); None without any."""


@dataclass(slots=True)
class DomainPolicy:
    """What a domain publishes about TLS for mail it receives: MTA-STS (RFC 8461: the
    `_mta-sts` TXT record's id, the policy fetched from `mta-sts.<domain>`, the MX hosts its
    `mx:` patterns leave out) and TLS-RPT (RFC 8460: where failure reports go)."""

    domain: str
    sts_id: str | None = None
    sts_problem: str | None = None
    mode: str | None = None
    mx_patterns: list[str] = field(default_factory=list)
    max_age: int | None = None
    unmatched_mx: list[str] = field(default_factory=list)
    tlsrpt: list[str] = field(default_factory=list)
    tlsrpt_problem: str | None = None
    ms: float = 0.0
    verdict: Verdict | None = None

    @property
    def published(self) -> bool:
        """The domain has an `_mta-sts` record (usable or not)."""
        return self.sts_id is not None or self.sts_problem is not None

    @property
    def enforced(self) -> bool:
        """Senders that honour MTA-STS require valid TLS to the matching MX hosts."""
        return self.mode == "enforce" and self.sts_problem is None


@dataclass(slots=True)
class CheckReport:
    """A whole check: what was asked, every host, port and address, and the overall verdict.
    `ref` fetches the report again while it is cached (`Checker.report_for`)."""

    query: str
    ports: list[int]
    mx: bool
    checked_at: str
    ms: float = 0.0
    hosts: list[HostResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    policy: DomainPolicy | None = None
    verdict: Verdict | None = None
    cached: bool = False
    ref: str | None = None
    schema: str = SCHEMA

    def results(self) -> list[PortResult]:
        """Every port result, host by host."""
        return [port for host in self.hosts for port in host.ports]

    @property
    def refused(self) -> bool:
        """True when the guard refused every host, so nothing was connected to."""
        return bool(self.hosts) and all(host.refused for host in self.hosts)

    @property
    def level(self) -> Level:
        """The overall level (FAIL when no verdict was computed)."""
        return self.verdict.level if self.verdict else Level.FAIL

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: field names as above, enums as their string values."""
        plain: dict[str, Any] = _plain(dataclasses.asdict(self))
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        """Read back what `to_dict` wrote."""
        report: CheckReport = _load(cls, data)
        return report


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _load(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(tp) if a is not type(None)]
        return _load(inner, value)
    if origin is list:
        (inner,) = get_args(tp)
        return [_load(inner, v) for v in value]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        return tp(**{k: _load(hints[k], v) for k, v in value.items() if k in names})
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    return value
