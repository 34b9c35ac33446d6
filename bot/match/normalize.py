"""Turn messy Slack text into plain lower-case words the matcher can score."""

from __future__ import annotations

import html
import re

MAX_CHARS = 600

_USER_OR_SPECIAL = re.compile(r"<[@!][^>]*>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]*)(?:\|([^>]*))?>")
# An emoji shortcode (`:thumbsup:`, `:+1:`, `:skin-tone-2:`), but never a group of hex digits
# between colons that touch a letter or digit: that is part of an IPv6 address
# (`2001:db8:1::25`, `::ffff:10.0.0.1`) or a clock time (`10:30:45`), not an emoji.
_EMOJI = re.compile(
    r"(?<![0-9a-z]):[0-9a-f]+:(?![0-9a-z])"  # all hex (`:100:`, `:a:`): only standing alone
    r"|:(?=[0-9a-z_+\-']*[g-z_+\-'])[0-9a-z_+\-']+:",  # any other name, wherever it is
    re.IGNORECASE,
)
# What the matcher drops: every `:word:`, hex groups of codes and addresses included (they
# name no topic), exactly as its index and its learned fit were built.
_COLON_WORD = re.compile(r":[a-z0-9_+\-']+:", re.IGNORECASE)
_MARKUP = re.compile(r"[*_~`]+")
_URL_SCHEME = re.compile(r"^(?:https?://|mailto:|tel:)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def _link_text(match: re.Match[str]) -> str:
    label = match.group(2)
    return f" {label} " if label else " " + _URL_SCHEME.sub("", match.group(1)) + " "


def strip_slack(text: str, *, for_matching: bool = False) -> str:
    """Remove mentions, channel refs, emoji and formatting; keep link labels and words.

    IPv6 addresses and clock times survive (`check 2001:db8::1`, `10:30:45`); with
    `for_matching` every `:word:` goes, as the matcher expects."""
    text = _USER_OR_SPECIAL.sub(" ", text[: MAX_CHARS * 4])
    text = _CHANNEL.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _LINK.sub(_link_text, text)
    text = html.unescape(text)
    text = (_COLON_WORD if for_matching else _EMOJI).sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]
