"""One port on one vetted address: connect, speak the port's protocol up to and through TLS,
verify the certificate (reconnecting without verification to read a certificate that failed),
then read the capabilities again and quit. Every outcome ends as a PortResult with a verdict."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.check.dialogue import Dialogue
from bot.check.guard import Guard
from bot.check.imap import ImapDialogue
from bot.check.pop3 import Pop3Dialogue
from bot.check.ports import PortSpec, Proto, TlsMode
from bot.check.report import Failure, FailureCode, PortResult
from bot.check.session import Limits, Session, StepTimeout
from bot.check.smtp import SmtpDialogue
from bot.check.stream import ProbeFailure, printable
from bot.check.tls import VERSIONS, Contexts, describe
from bot.check.verdict import judge

VERSIONS_SECONDS = 5.0
QUICK_GREETING_MS = 2000.0
PLAIN_GREETING_SECONDS = 3.0
DIALOGUES: dict[Proto, type[Dialogue]] = {
    Proto.SMTP: SmtpDialogue,
    Proto.IMAP: ImapDialogue,
    Proto.POP3: Pop3Dialogue,
}
_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    """What every probe of one checker shares."""

    guard: Guard
    contexts: Contexts
    limits: Limits
    helo_name: str


async def probe(
    config: ProbeConfig, server_name: str, address: str, spec: PortSpec, deadline: float
) -> PortResult:
    """Check `spec.port` on `address`, stopping at the loop-clock `deadline`."""
    result = PortResult(server_name, address, spec.port, spec.proto.value, spec.tls.value)
    session = Session(config.guard, result, server_name, config.limits, config.helo_name)
    started = time.perf_counter()
    versions: asyncio.Task[set[str] | None] | None = None

    def tls_ahead() -> None:
        """TLS is on its way: try the other versions meanwhile (not after a slow greeting,
        which each extra connection would wait for again)."""
        nonlocal versions
        if _quick_greeting(result):
            versions = asyncio.create_task(_versions(config, server_name, address, spec))

    try:
        async with asyncio.timeout_at(deadline):
            await _converse(
                session, DIALOGUES[spec.proto](session), spec, config.contexts, tls_ahead
            )
            if result.tls is not None and versions is not None:
                got = await versions
                if got is not None:
                    found = {result.tls.version, *got}
                    result.tls_versions = [v for v in VERSIONS if v in found]
    except Exception as exc:  # every failure becomes part of the report
        result.failure = _failure(session, exc)
    finally:
        if versions is not None:
            versions.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await versions
        await session.close()
        result.transcript = session.transcript
        result.ms = round((time.perf_counter() - started) * 1000, 1)
    result.verdict = judge(result, spec)
    return result


async def _versions(
    config: ProbeConfig, server_name: str, address: str, spec: PortSpec
) -> set[str] | None:
    """The versions two more connections get, at once, while the check's own goes on: one
    offering only TLS 1.0/1.1, one only TLS 1.2 (beside a TLS 1.3 handshake, whether 1.2 is
    still taken). None when that takes longer than VERSIONS_SECONDS: it never fails the
    check."""
    tries = (config.contexts.legacy, config.contexts.tls12)
    scope = asyncio.timeout(VERSIONS_SECONDS)
    try:
        async with scope:
            got = await asyncio.gather(
                *(_accepts(config, server_name, address, spec, c) for c in tries)
            )
    except TimeoutError:
        if scope.expired():
            return None
        raise
    return {v for v in got if v}


def _quick_greeting(result: PortResult) -> bool:
    """Whether the greeting came fast enough to try the versions too (a greet-pause server
    would make each extra connection wait again)."""
    return all(s.ms <= QUICK_GREETING_MS for s in result.steps if s.name in ("banner", "greeting"))


async def _accepts(
    config: ProbeConfig, server_name: str, address: str, spec: PortSpec, context: ssl.SSLContext
) -> str:
    """The version a handshake with `context` gets, or "" (up to the handshake, then close)."""
    result = PortResult(server_name, address, spec.port, spec.proto.value, spec.tls.value)
    s = Session(config.guard, result, server_name, config.limits, config.helo_name)
    try:
        return await _version_with(s, DIALOGUES[spec.proto](s), spec, context)
    finally:
        await s.close()


async def _converse(
    s: Session,
    dialogue: Dialogue,
    spec: PortSpec,
    contexts: Contexts,
    tls_ahead: Callable[[], None],
) -> None:
    """The port's dialogue; `tls_ahead` is called once TLS is known to be on its way (the
    implicit handshake worked, or STARTTLS is offered)."""
    await s.connect()
    if spec.tls is TlsMode.IMPLICIT:
        await _handshake(s, dialogue, spec, contexts)
        tls_ahead()
        s.result.banner = await dialogue.greet()
        _record_after_tls(s, dialogue, await dialogue.capabilities())
    else:
        s.result.banner = await dialogue.greet()
        caps = await dialogue.capabilities()
        _record_before_tls(s, dialogue, caps)
        if not s.result.starttls_offered:
            await _quit(dialogue)
            raise ProbeFailure(FailureCode.NO_STARTTLS)
        tls_ahead()
        await _ask_starttls(s, dialogue)
        await _handshake(s, dialogue, spec, contexts)
        s.tag = "TLS"
        _record_after_tls(s, dialogue, await dialogue.capabilities())
    await _quit(dialogue)


async def _ask_starttls(s: Session, dialogue: Dialogue) -> None:
    """Send STARTTLS; anything already received past the go-ahead is an injection."""
    await dialogue.starttls()
    early = s.stream.buffered()
    if early:
        shown = printable(early[:80])
        detail = f"{len(early)} bytes before the handshake: {shown!r}"
        raise ProbeFailure(FailureCode.INJECTION, detail)


async def _handshake(s: Session, dialogue: Dialogue, spec: PortSpec, contexts: Contexts) -> None:
    """Verifying handshake; if the certificate fails, record why and fetch it without checks.
    If the handshake itself fails, learn on a new connection whether the server speaks only
    TLS 1.0/1.1 (then that, not the first error, is the finding)."""
    try:
        await s.start_tls(contexts.verifying)
    except ssl.SSLCertVerificationError as error:
        await _reconnect_unverified(s, dialogue, spec, contexts)
        s.result.tls = describe(_session_of(s), s.server_name, error)
    except (ssl.SSLError, ConnectionResetError, asyncio.IncompleteReadError) as error:
        failed = s.current
        if spec.tls is TlsMode.IMPLICIT and "WRONG_VERSION_NUMBER" in str(error).upper():
            said = await _plain_greeting(s)
            if said:
                s.current = failed
                raise ProbeFailure(FailureCode.PLAINTEXT, said) from None
        version = await _legacy_version(s, dialogue, spec, contexts)
        s.current = failed  # the finding belongs to the first handshake, not the retry
        if version is None:
            raise error
        raise ProbeFailure(FailureCode.OLD_TLS, version) from None
    else:
        s.result.tls = describe(_session_of(s), s.server_name)


async def _plain_greeting(s: Session) -> str:
    """The first line a server that answered a TLS handshake in plain text sends on a new
    connection, to quote it ("" if it says nothing in time)."""
    s.tag = "plain text"
    try:
        await s.connect()
        async with s.step("greeting", PLAIN_GREETING_SECONDS):
            return await s.stream.read_line()
    except (ProbeFailure, StepTimeout, TimeoutError, OSError):
        return ""
    finally:
        s.tag = ""


async def _legacy_version(
    s: Session, dialogue: Dialogue, spec: PortSpec, contexts: Contexts
) -> str | None:
    """The TLS version a TLS 1.0/1.1-only handshake gets on a new connection, or None."""
    s.tag = "TLS 1.0/1.1 only"
    try:
        return await _version_with(s, dialogue, spec, contexts.legacy) or None
    finally:
        s.tag = ""


def _session_of(s: Session) -> ssl.SSLObject:
    """The TLS session a finished handshake leaves (the stream always has one then)."""
    tls = s.stream.ssl_object
    if tls is None:
        raise ssl.SSLError("no TLS session after the handshake")
    return tls


async def _reconnect_unverified(
    s: Session, dialogue: Dialogue, spec: PortSpec, contexts: Contexts
) -> None:
    s.tag = "again"
    await _reopen(s, dialogue, spec, contexts.insecure)
    s.tag = ""


async def _reopen(s: Session, dialogue: Dialogue, spec: PortSpec, context: ssl.SSLContext) -> None:
    """A new connection, as far as a finished handshake with `context`."""
    await s.connect()
    if spec.tls is TlsMode.STARTTLS:
        await dialogue.greet()
        await dialogue.capabilities()
        await _ask_starttls(s, dialogue)
    await s.start_tls(context)


async def _version_with(
    s: Session, dialogue: Dialogue, spec: PortSpec, context: ssl.SSLContext
) -> str:
    """The TLS version a new handshake with `context` gets, or "" when there is none."""
    try:
        await _reopen(s, dialogue, spec, context)
    except (ProbeFailure, StepTimeout, ssl.SSLError, OSError, asyncio.IncompleteReadError):
        return ""
    tls = s.stream.ssl_object
    return (tls.version() or "") if tls is not None else ""


def _record_before_tls(s: Session, dialogue: Dialogue, caps: list[str]) -> None:
    s.result.caps_before_tls = caps
    s.result.starttls_offered = dialogue.offers_starttls(caps)
    s.result.auth_before_tls = dialogue.auth_mechanisms(caps)
    s.result.cleartext_login = dialogue.cleartext_login(caps)


def _record_after_tls(s: Session, dialogue: Dialogue, caps: list[str]) -> None:
    s.result.caps_after_tls = caps
    s.result.auth_after_tls = dialogue.auth_mechanisms(caps)


async def _quit(dialogue: Dialogue) -> None:
    """Say goodbye; a server that hangs up instead is not a finding."""
    with contextlib.suppress(ProbeFailure, StepTimeout, OSError):
        await dialogue.quit()


def _failure(s: Session, exc: Exception) -> Failure:
    step = s.current or "connect"
    if isinstance(exc, ProbeFailure):
        return Failure(step, exc.code, exc.detail)
    if isinstance(exc, StepTimeout):
        return Failure(step, FailureCode.TIMEOUT, f"no answer within {exc.seconds:g} s")
    if isinstance(exc, TimeoutError):
        if s.result.steps and not s.result.steps[-1].ok:
            s.result.steps[-1].detail = "stopped at the check's time limit"
        return Failure(step, FailureCode.DEADLINE)
    if isinstance(exc, ssl.SSLError):
        return Failure(step, FailureCode.TLS, exc.reason or str(exc))
    if isinstance(exc, ConnectionRefusedError):
        return Failure(step, FailureCode.REFUSED)
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return Failure(step, FailureCode.RESET)
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return Failure(step, FailureCode.UNREACHABLE, exc.strerror or str(exc))
    return Failure(step, FailureCode.ERROR, str(exc) or type(exc).__name__)
