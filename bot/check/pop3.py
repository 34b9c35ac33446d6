"""The POP3 dialogue (RFC 1939, CAPA RFC 2449, STLS RFC 2595): greeting, CAPA, STLS, CAPA,
QUIT. One command at a time; never USER, PASS, APOP or AUTH."""

from __future__ import annotations

from bot.check.report import FailureCode
from bot.check.session import Session
from bot.check.stream import ProbeFailure


class Pop3Dialogue:
    """POP3 on 110 (STLS) and 995 (implicit TLS)."""

    greeting_step = "greeting"

    def __init__(self, session: Session) -> None:
        self.s = session

    async def _status(self) -> str:
        line = await self.s.stream.read_line()
        if not line.startswith(("+OK", "-ERR")):
            raise ProbeFailure(FailureCode.PROTOCOL, f"not a POP3 reply: {line[:80]!r}")
        return line

    async def greet(self) -> str:
        """The `+OK` greeting; `-ERR` means the server turned us away."""
        async with self.s.step(self.greeting_step, self.s.limits.greeting) as step:
            line = await self._status()
            step.detail = line
            if line.startswith("-ERR"):
                raise ProbeFailure(FailureCode.REJECTED, line)
        return line[4:]

    async def capabilities(self) -> list[str]:
        """The CAPA list (empty when the server does not support CAPA)."""
        async with self.s.step("CAPA") as step:
            await self.s.stream.send("CAPA")
            status = await self._status()
            step.detail = status
            if status.startswith("-ERR"):
                return []
            lines = await self.s.stream.read_reply(lambda line: line == ".")
        return [line[1:] if line.startswith("..") else line for line in lines[:-1]]

    async def starttls(self) -> None:
        """STLS; only +OK lets the handshake begin."""
        async with self.s.step("STLS") as step:
            await self.s.stream.send("STLS")
            status = await self._status()
            step.detail = status
            if not status.startswith("+OK"):
                raise ProbeFailure(FailureCode.STARTTLS_REFUSED, status)

    async def quit(self) -> None:
        """QUIT."""
        async with self.s.step("QUIT"):
            await self.s.stream.send("QUIT")
            await self._status()

    @staticmethod
    def offers_starttls(caps: list[str]) -> bool:
        """STLS is in CAPA."""
        return any(cap.split(" ", 1)[0].upper() == "STLS" for cap in caps)

    @staticmethod
    def auth_mechanisms(caps: list[str]) -> list[str]:
        """SASL mechanisms from the `SASL ...` capability."""
        for cap in caps:
            words = cap.split()
            if words and words[0].upper() == "SASL":
                return [w.upper() for w in words[1:]]
        return []

    @classmethod
    def cleartext_login(cls, caps: list[str]) -> bool:
        """A password could be sent before TLS: SASL mechanisms or USER offered."""
        user = any(cap.split(" ", 1)[0].upper() == "USER" for cap in caps)
        return user or bool(cls.auth_mechanisms(caps))
