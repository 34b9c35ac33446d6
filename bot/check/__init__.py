"""The live port check: `Checker(settings, store).check(host, ports, mx, user)` returns a
`CheckReport`. `guard` is the only module that opens sockets to user-supplied hosts."""

from bot.check.errors import CheckError, CheckInputError, CheckLimited, CheckRefused
from bot.check.report import CheckReport, Level
from bot.check.runner import Checker, CheckRequest

__all__ = [
    "CheckError",
    "CheckInputError",
    "CheckLimited",
    "CheckRefused",
    "CheckReport",
    "CheckRequest",
    "Checker",
    "Level",
]
