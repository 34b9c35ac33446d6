"""What a protocol module gives the probe: the contract SMTP, IMAP and POP3 each meet.

A new protocol is one module with a class that meets `Dialogue` and one line in
`bot.check.probe.DIALOGUES`; the probe does the connecting, the TLS and the timing.
"""

from __future__ import annotations

from typing import Protocol

from bot.check.session import Session


class Dialogue(Protocol):
    """One conversation over a `Session`: every step raises `ProbeFailure` when the server
    refuses or says something that is not the protocol, and records what it read on the
    session's result."""

    greeting_step: str
    """The name of the first step in the report ("banner" for SMTP, "greeting" otherwise)."""

    def __init__(self, session: Session) -> None: ...

    async def greet(self) -> str:
        """Read the greeting; return its text."""
        ...

    async def capabilities(self) -> list[str]:
        """Ask for the capabilities (EHLO, CAPABILITY, CAPA) and return them."""
        ...

    async def starttls(self) -> None:
        """Ask to start TLS (STARTTLS, STLS); return when the handshake may begin."""
        ...

    async def quit(self) -> None:
        """End the conversation politely."""
        ...

    @staticmethod
    def offers_starttls(caps: list[str]) -> bool:
        """The capabilities offer the upgrade to TLS."""
        ...

    @staticmethod
    def auth_mechanisms(caps: list[str]) -> list[str]:
        """The SASL mechanisms the capabilities offer."""
        ...

    @classmethod
    def cleartext_login(cls, caps: list[str]) -> bool:
        """A password could be sent with these capabilities (before TLS)."""
        ...
