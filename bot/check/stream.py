"""A bounded line stream over one connection: lines of at most MAX_LINE bytes, replies of at
most MAX_REPLY bytes and MAX_REPLY_LINES lines, printable text only, and a capped transcript."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

from bot.check.report import FailureCode

MAX_REPLY = 32 * 1024
MAX_REPLY_LINES = 200
MAX_TRANSCRIPT = 200
MAX_SHOWN = 300
CLOSE_WAIT = 1.0


class ProbeFailure(Exception):
    """The dialogue cannot go on; `code` names what happened."""

    def __init__(self, code: FailureCode, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


def printable(raw: bytes) -> str:
    """Decode server bytes for display: UTF-8 with replacement, control characters as `?`."""
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    return "".join(c if c.isprintable() or c == "\t" else "?" for c in text)


class LineStream:
    """Read and write CRLF lines; every limit breach raises ProbeFailure."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.transcript: list[str] = []

    def note(self, event: str) -> None:
        """Mark an event (connect, handshake) in the transcript."""
        self._add(f"-- {event} --")

    def _add(self, line: str) -> None:
        if len(self.transcript) < MAX_TRANSCRIPT:
            self.transcript.append(line[:MAX_SHOWN])

    async def read_line(self) -> str:
        """One line without its line ending."""
        try:
            raw = await self._reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            start = printable(self.buffered()[:40])
            self._add(f"S: {start}… (a line longer than 8 KiB)")
            raise ProbeFailure(FailureCode.OVERLONG, start) from None
        except asyncio.IncompleteReadError as exc:
            detail = f"after {printable(exc.partial)!r}" if exc.partial else ""
            raise ProbeFailure(FailureCode.CLOSED, detail) from None
        line = printable(raw)
        self._add(f"S: {line}")
        return line

    async def read_reply(self, is_last: Callable[[str], bool]) -> list[str]:
        """Lines up to and including the first for which `is_last` is true, within the caps."""
        lines: list[str] = []
        size = 0
        while True:
            line = await self.read_line()
            lines.append(line)
            size += len(line) + 2
            if is_last(line):
                return lines
            if size > MAX_REPLY or len(lines) >= MAX_REPLY_LINES:
                raise ProbeFailure(FailureCode.PROTOCOL, "the server's reply is too long")

    async def send(self, *lines: str) -> None:
        """Send command lines (CRLF added) in one write and wait until they are written."""
        for line in lines:
            self._add(f"C: {line}")
        self._writer.write(b"".join(line.encode("ascii") + b"\r\n" for line in lines))
        await self._writer.drain()

    def buffered(self) -> bytes:
        """Bytes received but not read yet. Before a STARTTLS handshake this must be empty, or
        they would later read as if they came over TLS (RFC 3207 §4.2). StreamReader has no
        public accessor, hence the private `_buffer`."""
        buffer: bytearray = getattr(self._reader, "_buffer")  # noqa: B009 (no public accessor)
        return bytes(buffer)

    async def start_tls(
        self, context: ssl.SSLContext, server_hostname: str, timeout: float
    ) -> None:
        """TLS handshake on the open connection; raises ssl errors as they come."""
        self.note("TLS handshake")
        await self._writer.start_tls(
            context, server_hostname=server_hostname, ssl_handshake_timeout=timeout
        )

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        """The TLS session, once there is one."""
        tls: ssl.SSLObject | None = self._writer.get_extra_info("ssl_object")
        return tls

    async def close(self) -> None:
        """Close without waiting long for a peer that never answers the close."""
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), CLOSE_WAIT)
