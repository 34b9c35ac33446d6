"""Which mail ports the checker may touch, what each one speaks, and the defaults by host name."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.check.errors import CheckInputError


class Proto(StrEnum):
    """The dialogue spoken on a port."""

    SMTP = "SMTP"
    IMAP = "IMAP"
    POP3 = "POP3"


class TlsMode(StrEnum):
    """How TLS starts on a port."""

    STARTTLS = "starttls"
    IMPLICIT = "implicit"


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One allowed port. `tls_required` is False only where TLS is opportunistic (port 25);
    `counterpart` offers the same service with TLS started the other way (587 for 465)."""

    port: int
    proto: Proto
    tls: TlsMode
    tls_required: bool
    role: str
    counterpart: int | None = None


PORTS: dict[int, PortSpec] = {
    25: PortSpec(25, Proto.SMTP, TlsMode.STARTTLS, False, "SMTP relay (MX)"),
    465: PortSpec(465, Proto.SMTP, TlsMode.IMPLICIT, True, "SMTP submission, implicit TLS", 587),
    587: PortSpec(587, Proto.SMTP, TlsMode.STARTTLS, True, "SMTP submission, STARTTLS", 465),
    2525: PortSpec(2525, Proto.SMTP, TlsMode.STARTTLS, True, "SMTP submission (unofficial)", 465),
    143: PortSpec(143, Proto.IMAP, TlsMode.STARTTLS, True, "IMAP, STARTTLS", 993),
    993: PortSpec(993, Proto.IMAP, TlsMode.IMPLICIT, True, "IMAP, implicit TLS", 143),
    110: PortSpec(110, Proto.POP3, TlsMode.STARTTLS, True, "POP3, STLS", 995),
    995: PortSpec(995, Proto.POP3, TlsMode.IMPLICIT, True, "POP3, implicit TLS", 110),
}

# Checked by `all` but required by nothing: when nothing listens there, that is information.
UNOFFICIAL = (2525,)
ALL_PORTS = tuple(PORTS)
SMTP_PORTS = tuple(p for p, s in PORTS.items() if s.proto is Proto.SMTP and p not in UNOFFICIAL)
IMAP_PORTS = tuple(p for p, s in PORTS.items() if s.proto is Proto.IMAP)
POP3_PORTS = tuple(p for p, s in PORTS.items() if s.proto is Proto.POP3)

_NAMED = {
    "smtp": (25,),
    "submission": (587,),
    "submissions": (465,),
    "smtps": (465,),
    "imap": (143,),
    "imaps": (993,),
    "pop3": (110,),
    "pop": (110,),
    "pop3s": (995,),
    "all": ALL_PORTS,
}
_PREFIXES = (("imap", IMAP_PORTS), ("pop", POP3_PORTS))


def default_ports(host: str) -> tuple[int, ...]:
    """Ports to check when none are given: by the first label (imap*, pop*), else SMTP's three."""
    first = host.split(".", 1)[0].lower()
    for prefix, ports in _PREFIXES:
        if first.startswith(prefix):
            return ports
    return SMTP_PORTS


def parse_ports(words: tuple[str, ...] | list[str], host: str, mx: bool = False) -> tuple[int, ...]:
    """Turn "587", "25,465", "imaps" or "all" into allowed port numbers (sorted, unique)."""
    if not words:
        return (25,) if mx else default_ports(host)
    ports: set[int] = set()
    for word in words:
        for part in filter(None, word.replace(",", " ").split()):
            ports.update(_one_port(part))
    return tuple(p for p in ALL_PORTS if p in ports)


def optional_ports(words: tuple[str, ...] | list[str]) -> tuple[int, ...]:
    """The unofficial ports only `all` asked for (not named on their own)."""
    parts = {p.strip().lower() for w in words for p in w.replace(",", " ").split()}
    if "all" not in parts:
        return ()
    return tuple(p for p in UNOFFICIAL if str(p) not in parts)


def _one_port(part: str) -> tuple[int, ...]:
    text = part.strip().lower()
    if text in _NAMED:
        return _NAMED[text]
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise CheckInputError(
            f"{part[:20]!r} is not a port. Give mail ports as numbers ({_allowed()}) or `all`."
        )
    port = int(text)
    if port not in PORTS:
        raise CheckInputError(
            f"Port {port} is not a mail port; the live check only connects to {_allowed()}."
        )
    return (port,)


def _allowed() -> str:
    return ", ".join(str(p) for p in ALL_PORTS)
