"""One probe's connection state: the stream, the result being filled in, and timed steps."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.check.guard import Guard
from bot.check.report import FailureCode, PortResult, Step
from bot.check.stream import LineStream, ProbeFailure


class StepTimeout(Exception):
    """A step took longer than its own limit (not the whole check's deadline)."""

    def __init__(self, step: str, seconds: float) -> None:
        super().__init__(f"{step}: no reply within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Limits:
    """Time limits for one probe. The greeting may take as long as the whole check: RFC 5321
    §4.5.3.2.1 gives it 5 minutes, and greet-pause setups (Postfix postscreen) delay it on
    purpose."""

    connect: float
    step: float
    greeting: float


class Session:
    """A connection to one vetted address and port, opened through the guard, whose steps are
    timed and recorded in `result.steps`. `tag` marks steps of a second connection ("again") or
    after STARTTLS ("TLS")."""

    def __init__(
        self, guard: Guard, result: PortResult, server_name: str, limits: Limits, helo_name: str
    ) -> None:
        self.guard = guard
        self.result = result
        self.server_name = server_name
        self.limits = limits
        self.helo_name = helo_name
        self.tag = ""
        self.current = ""
        self._stream: LineStream | None = None
        self._transcript: list[str] = []

    @property
    def stream(self) -> LineStream:
        """The open stream (connect first)."""
        if self._stream is None:
            raise ProbeFailure(FailureCode.CLOSED, "not connected")
        return self._stream

    @asynccontextmanager
    async def step(self, name: str, timeout: float | None = None) -> AsyncIterator[Step]:
        """Time a step under its own timeout; a failure marks the step and propagates."""
        label = f"{name} ({self.tag})" if self.tag else name
        record = Step(label)
        self.result.steps.append(record)
        self.current = label
        seconds = timeout or self.limits.step
        scope = asyncio.timeout(seconds)
        started = time.perf_counter()
        try:
            async with scope:
                yield record
            record.ok = True
        except TimeoutError:
            record.detail = record.detail or f"no answer within {seconds:g} s"
            if scope.expired():
                raise StepTimeout(label, seconds) from None
            raise
        except BaseException as exc:
            record.detail = record.detail or _describe(exc)
            raise
        finally:
            record.ms = round((time.perf_counter() - started) * 1000, 1)

    async def connect(self) -> None:
        """Open (or reopen) the connection through the guard."""
        await self.close()
        async with self.step("connect", self.limits.connect) as record:
            reader, writer = await self.guard.connect(self.result.address, self.result.port)
            self._stream = LineStream(reader, writer)
            record.detail = f"{self.result.address} port {self.result.port}"
            self._stream.note(f"connected to {record.detail}")

    async def start_tls(self, context: ssl.SSLContext) -> None:
        """TLS handshake as a step; the server name is used for SNI and the name check."""
        async with self.step("TLS handshake") as record:
            # asyncio's own handshake timeout is a backstop; the step's timeout fires first.
            await self.stream.start_tls(context, self.server_name, self.limits.step + 1)
            tls = self.stream.ssl_object
            cipher = tls.cipher() if tls else None
            record.detail = f"{tls.version()} {cipher[0]}" if tls and cipher else ""

    async def close(self) -> None:
        """Close the connection, keeping its transcript."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            self._transcript.extend(stream.transcript)
            await stream.close()

    @property
    def transcript(self) -> list[str]:
        """Every line sent and received, across reconnects."""
        live = self._stream.transcript if self._stream else []
        return [*self._transcript, *live]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ProbeFailure):
        return exc.detail or exc.code
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return str(exc) or type(exc).__name__
