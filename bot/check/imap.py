"""The IMAP dialogue (RFC 9051/3501, STARTTLS RFC 2595): greeting, CAPABILITY, STARTTLS,
CAPABILITY, LOGOUT. Tagged commands one at a time; never LOGIN or AUTHENTICATE."""

from __future__ import annotations

from bot.check.report import FailureCode
from bot.check.session import Session
from bot.check.stream import ProbeFailure


class ImapDialogue:
    """IMAP on 143 (STARTTLS) and 993 (implicit TLS)."""

    greeting_step = "greeting"

    def __init__(self, session: Session) -> None:
        self.s = session
        self._tags = 0

    async def _command(self, command: str) -> tuple[list[str], str]:
        """Send a tagged command; the untagged lines and the tagged status (OK, NO, BAD)."""
        self._tags += 1
        tag = f"m{self._tags}"
        await self.s.stream.send(f"{tag} {command}")
        lines = await self.s.stream.read_reply(lambda line: line.startswith(f"{tag} "))
        status = lines[-1][len(tag) + 1 :]
        return lines[:-1], status

    async def greet(self) -> str:
        """The `* OK` (or `* PREAUTH`) greeting; `* BYE` means the server turned us away."""
        async with self.s.step(self.greeting_step, self.s.limits.greeting) as step:
            line = await self.s.stream.read_line()
            step.detail = line
            word = line[2:].split(" ", 1)[0].upper() if line.startswith("* ") else ""
            if word == "BYE":
                raise ProbeFailure(FailureCode.REJECTED, line)
            if word not in ("OK", "PREAUTH"):
                raise ProbeFailure(FailureCode.PROTOCOL, f"not an IMAP greeting: {line[:80]!r}")
        return line[2:]

    async def capabilities(self) -> list[str]:
        """The words of the `* CAPABILITY` response."""
        async with self.s.step("CAPABILITY") as step:
            untagged, status = await self._command("CAPABILITY")
            step.detail = status
            if not status.upper().startswith("OK"):
                raise ProbeFailure(FailureCode.PROTOCOL, f"CAPABILITY failed: {status}")
        caps: list[str] = []
        for line in untagged:
            words = line.split()
            if len(words) > 1 and words[0] == "*" and words[1].upper() == "CAPABILITY":
                caps.extend(words[2:])
        return caps

    async def starttls(self) -> None:
        """Ask to start TLS; only a tagged OK lets the handshake begin."""
        async with self.s.step("STARTTLS") as step:
            _, status = await self._command("STARTTLS")
            step.detail = status
            if not status.upper().startswith("OK"):
                raise ProbeFailure(FailureCode.STARTTLS_REFUSED, status)

    async def quit(self) -> None:
        """LOGOUT."""
        async with self.s.step("LOGOUT"):
            await self._command("LOGOUT")

    @staticmethod
    def offers_starttls(caps: list[str]) -> bool:
        """STARTTLS is a capability."""
        return any(cap.upper() == "STARTTLS" for cap in caps)

    @staticmethod
    def auth_mechanisms(caps: list[str]) -> list[str]:
        """SASL mechanisms from `AUTH=` capabilities."""
        return [cap[5:].upper() for cap in caps if cap.upper().startswith("AUTH=")]

    @classmethod
    def cleartext_login(cls, caps: list[str]) -> bool:
        """A password could be sent before TLS: AUTH= offered, or LOGIN not disabled."""
        upper = {cap.upper() for cap in caps}
        return bool(cls.auth_mechanisms(caps)) or "LOGINDISABLED" not in upper
