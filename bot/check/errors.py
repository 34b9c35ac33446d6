"""Why a check does not run. `str(exc)` is a plain message meant for the person who asked."""

from __future__ import annotations


class CheckError(Exception):
    """A check that will not run."""


class CheckInputError(CheckError, ValueError):
    """Input the checker will not act on (a bad name, a port that is not a mail port)."""


class CheckRefused(CheckInputError):
    """A target the guard will not connect to (a private, loopback or reserved IP literal)."""


class CheckLimited(CheckError):
    """A limit was reached: the user's rate limit or the checker's capacity."""
