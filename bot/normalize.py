"""Turn messy Slack text into plain lower-case words the matcher can score."""

from __future__ import annotations

import html
import re

MAX_CHARS = 600

_USER_OR_SPECIAL = re.compile(r"<[@!][^>]*>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]*)(?:\|([^>]*))?>")
_EMOJI = re.compile(r":[a-z0-9_+\-']+:", re.IGNORECASE)
_MARKUP = re.compile(r"[*_~`]+")
_URL_SCHEME = re.compile(r"^(?:https?://|mailto:|tel:)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def _link_text(match: re.Match[str]) -> str:
    label = match.group(2)
    return f" {label} " if label else " " + _URL_SCHEME.sub("", match.group(1)) + " "


def strip_slack(text: str) -> str:
    """Remove mentions, channel refs, emoji and formatting; keep link labels and words."""
    text = _USER_OR_SPECIAL.sub(" ", text[: MAX_CHARS * 4])
    text = _CHANNEL.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _LINK.sub(_link_text, text)
    text = html.unescape(text)
    text = _EMOJI.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]
