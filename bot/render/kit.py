"""What every Slack renderer shares: Block Kit's limits, escaping, clipping, the message type.

Slack rejects a message whose section text passes 3,000 characters, a header 150, a button
label 75, a context element 2,000: every block built here is clipped to its limit, so a long
server banner or question shortens instead of failing the whole message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
)

SECTION_MAX = 3000
HEADER_MAX = 150
BUTTON_MAX = 75
CONTEXT_MAX = 2000


@dataclass(frozen=True, slots=True)
class Message:
    """Blocks plus the top-level `text` Slack shows in notifications and block-less clients."""

    text: str
    blocks: tuple[Block | dict[str, Any], ...]

    def payload(self) -> dict[str, Any]:
        """`text` and validated `blocks` as dicts, ready for any Slack API call (dicts are
        blocks validated earlier, see `validated`)."""
        blocks = [b if isinstance(b, dict) else b.to_dict() for b in self.blocks]
        return {"text": self.text, "blocks": blocks}


def validated(blocks: Iterable[Block]) -> tuple[dict[str, Any], ...]:
    """The blocks as dicts, validated by slack_sdk once (for messages built once and reused)."""
    return tuple(block.to_dict() for block in blocks)


def escape(text: str) -> str:
    """Escape Slack's control characters (`&`, `<`, `>`) and nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def md(text: str) -> MarkdownTextObject:
    """Verbatim mrkdwn (Slack links nothing by itself), clipped to a section's limit."""
    return MarkdownTextObject(text=clip(text, SECTION_MAX), verbatim=True)


def header(text: str) -> HeaderBlock:
    """A header, clipped to Slack's limit."""
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_MAX)))


def context(mrkdwn: str) -> ContextBlock:
    """One line of context mrkdwn, clipped to Slack's limit."""
    return ContextBlock(elements=[md(clip(mrkdwn, CONTEXT_MAX))])


def button(action_id: str, label: str, value: str, style: str | None = None) -> ButtonElement:
    """A button whose label is clipped to Slack's limit."""
    return ButtonElement(
        action_id=action_id, text=clip(label, BUTTON_MAX), value=value, style=style
    )
