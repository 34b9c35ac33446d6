"""The SMTP dialogue (RFC 5321, STARTTLS RFC 3207): banner, EHLO, STARTTLS, EHLO, QUIT.
One command at a time, each after the previous reply; never MAIL, RCPT, DATA or AUTH."""

from __future__ import annotations

import asyncio
from enum import IntEnum

from bot.check.report import FailureCode
from bot.check.session import Session
from bot.check.stream import ProbeFailure


class Reply(IntEnum):
    """The RFC 5321 §4.2 reply codes the dialogue acts on."""

    READY = 220  # the greeting, and STARTTLS's go-ahead (RFC 3207)
    OK = 250  # EHLO accepted


def _permanent(code: int) -> bool:
    """A permanent negative reply (5yz, RFC 5321 §4.2.1)."""
    return code // 100 == 5


def _is_last(line: str) -> bool:
    return len(line) < 4 or line[3] != "-"


# Sent in the same write as STARTTLS, to learn whether the server runs it inside the TLS
# session (CVE-2011-0411): RFC 3207 §4.2 says it must be discarded. A verb no server knows,
# so a reply to it cannot pass for another.
PIPELINED = "XMAILPORTPROBE"
PROBE_WAIT = 1.0


class SmtpDialogue:
    """SMTP on 25/587/2525 (STARTTLS) and 465 (implicit TLS)."""

    greeting_step = "banner"

    def __init__(self, session: Session) -> None:
        self.s = session
        self._probe_sent = False

    async def _reply(self) -> tuple[int, str]:
        lines = await self.s.stream.read_reply(_is_last)
        if not all(line[:3].isdigit() for line in lines):
            raise ProbeFailure(FailureCode.PROTOCOL, f"not an SMTP reply: {lines[0][:80]!r}")
        return int(lines[-1][:3]), "\n".join(line[4:] for line in lines)

    async def greet(self) -> str:
        """The 220 banner (all its lines); any other code means the server turned us away."""
        async with self.s.step(self.greeting_step, self.s.limits.greeting) as step:
            code, text = await self._reply()
            step.detail = f"{code} {text}"
            if code != Reply.READY:
                raise ProbeFailure(FailureCode.REJECTED, f"{code} {text}")
        return text

    async def capabilities(self) -> list[str]:
        """The EHLO keywords (the lines after the greeting line of the 250 reply). Right
        after STARTTLS, a reply to the command sent with STARTTLS shows the server ran it."""
        async with self.s.step("EHLO") as step:
            await self.s.stream.send(f"EHLO {self.s.helo_name}")
            code, text = await self._reply()
            if self._probe_sent:
                self._probe_sent = False
                code, text = await self._after_probe(code, text)
            step.detail = f"{code}"
            if code != Reply.OK:
                raise ProbeFailure(FailureCode.EHLO_REFUSED, f"{code} {text}")
        return text.split("\n")[1:]

    async def _after_probe(self, code: int, text: str) -> tuple[int, str]:
        """A 5xx first, then EHLO's own 250 within a moment: the 5xx answered the command
        sent before TLS, run inside it. A lone 5xx is EHLO's refusal."""
        self.s.result.runs_pipelined_commands = False
        if not _permanent(code):
            return code, text
        try:
            async with asyncio.timeout(PROBE_WAIT):
                later = await self._reply()
        except TimeoutError:
            return code, text
        self.s.result.runs_pipelined_commands = True
        return later

    async def starttls(self) -> None:
        """Ask to start TLS (with PIPELINED in the same write); only a 220 lets the handshake
        begin."""
        async with self.s.step("STARTTLS") as step:
            await self.s.stream.send("STARTTLS", PIPELINED)
            self._probe_sent = True
            code, text = await self._reply()
            step.detail = f"{code} {text}"
            if code != Reply.READY:
                raise ProbeFailure(FailureCode.STARTTLS_REFUSED, f"{code} {text}")

    async def quit(self) -> None:
        """Say goodbye."""
        async with self.s.step("QUIT"):
            await self.s.stream.send("QUIT")
            await self._reply()

    @staticmethod
    def offers_starttls(caps: list[str]) -> bool:
        """STARTTLS is in the EHLO keywords."""
        return any(cap.split(" ", 1)[0].upper() == "STARTTLS" for cap in caps)

    @staticmethod
    def auth_mechanisms(caps: list[str]) -> list[str]:
        """SASL mechanisms from `AUTH ...` (or the old `AUTH=...`) keywords."""
        mechs: list[str] = []
        for cap in caps:
            if cap[:5].upper() in ("AUTH ", "AUTH="):
                mechs.extend(m.upper() for m in cap[5:].split() if m.upper() not in mechs)
        return mechs

    @classmethod
    def cleartext_login(cls, caps: list[str]) -> bool:
        """A password could be sent before TLS: AUTH is offered."""
        return bool(cls.auth_mechanisms(caps))
