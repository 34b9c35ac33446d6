"""The SMTP dialogue (RFC 5321, STARTTLS RFC 3207): banner, EHLO, STARTTLS, EHLO, QUIT.
One command at a time, each after the previous reply; never MAIL, RCPT, DATA or AUTH."""

from __future__ import annotations

from bot.check.session import Session
from bot.check.stream import ProbeFailure


def _is_last(line: str) -> bool:
    return len(line) < 4 or line[3] != "-"


class SmtpDialogue:
    """SMTP on 25/587/2525 (STARTTLS) and 465 (implicit TLS)."""

    greeting_step = "banner"

    def __init__(self, session: Session) -> None:
        self.s = session

    async def _reply(self) -> tuple[int, str]:
        lines = await self.s.stream.read_reply(_is_last)
        if not all(line[:3].isdigit() for line in lines):
            raise ProbeFailure("protocol", f"not an SMTP reply: {lines[0][:80]!r}")
        return int(lines[-1][:3]), "\n".join(line[4:] for line in lines)

    async def greet(self) -> str:
        """The 220 banner (all its lines); any other code means the server turned us away."""
        async with self.s.step(self.greeting_step, self.s.limits.greeting) as step:
            code, text = await self._reply()
            step.detail = f"{code} {text}"
            if code != 220:
                raise ProbeFailure("rejected", f"{code} {text}")
        return text

    async def capabilities(self) -> list[str]:
        """The EHLO keywords (the lines after the greeting line of the 250 reply)."""
        async with self.s.step("EHLO") as step:
            await self.s.stream.send(f"EHLO {self.s.helo_name}")
            code, text = await self._reply()
            step.detail = f"{code}"
            if code != 250:
                raise ProbeFailure("ehlo_refused", f"{code} {text}")
        return text.split("\n")[1:]

    async def starttls(self) -> None:
        """Ask to start TLS; only a 220 lets the handshake begin."""
        async with self.s.step("STARTTLS") as step:
            await self.s.stream.send("STARTTLS")
            code, text = await self._reply()
            step.detail = f"{code} {text}"
            if code != 220:
                raise ProbeFailure("starttls_refused", f"{code} {text}")

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
