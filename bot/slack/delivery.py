"""How replies reach Slack: at most once, at Slack's pace, and only to Slack.

- A connection error is retried only when the request certainly did not arrive (the
  connection was never made) or when sending it twice changes nothing (`chat.update`,
  `views.publish`, ...). A post lost after it was sent is logged, never re-sent: a reply
  missing is better than a reply twice.
- A 429 is retried after the `Retry-After` Slack asks for, at most `RATE_RETRIES` times
  and never for longer than `MAX_RETRY_AFTER` seconds at once; then the reply is given up,
  quietly (an apology would be rate-limited too).
- `response_url` is used only on Slack's hook hosts or on the origin of `SLACK_API_URL`.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

RATE_RETRIES = 2
MAX_RETRY_AFTER = 30.0
SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
IDEMPOTENT_METHODS = frozenset(
    {"auth.test", "apps.connections.open", "chat.update", "chat.delete", "views.publish"}
)


class Undeliverable(RuntimeError):
    """A reply that cannot or must not be sent; nothing else should be tried for it."""


def _method(request: HttpRequest) -> str:
    return urlsplit(request.url).path.rsplit("/", 1)[-1]


class ConnectionRetry(AsyncRetryHandler):
    """Retry once when the request never left, or when repeating it is harmless."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if isinstance(error, aiohttp.ClientConnectorError):
            return True
        return isinstance(error, aiohttp.ClientConnectionError) and (
            _method(request) in IDEMPOTENT_METHODS
        )


def retry_after(response: HttpResponse) -> float:
    """Seconds Slack asks us to wait (`Retry-After`), 1 when it does not say."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                break
    return 1.0


class RateLimitRetry(AsyncRetryHandler):
    """Retry a 429 after its `Retry-After`, unless Slack asks for too long a wait."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=RATE_RETRIES)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and retry_after(response) <= MAX_RETRY_AFTER
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        assert response is not None
        state.next_attempt_requested = True
        await asyncio.sleep(retry_after(response) + random.random() * 0.5)
        state.increment_current_attempt()


def retry_handlers() -> list[AsyncRetryHandler]:
    """The handlers every Web API and `response_url` call uses."""
    return [ConnectionRetry(), RateLimitRetry()]


def trusted_response_url(url: str, api_url: str) -> bool:
    """True for `https://hooks.slack.com/...` (or GovSlack's), or `SLACK_API_URL`'s origin."""
    try:
        parts, api = urlsplit(url), urlsplit(api_url)
        port, api_port = parts.port, api.port
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname in SLACK_HOOK_HOSTS and port in (None, 443):
        return not parts.username and not parts.password
    same_origin = (parts.scheme, parts.hostname, port) == (api.scheme, api.hostname, api_port)
    return bool(api.hostname) and same_origin and not parts.username


def why_undelivered(error: BaseException) -> str | None:
    """Why a failure was Slack's side of the delivery (so no apology follows), or None."""
    if isinstance(error, Undeliverable):
        return str(error)
    if isinstance(error, SlackApiError) and error.response.status_code == 429:
        return "still rate-limited after waiting as Slack asked"
    if isinstance(error, aiohttp.ClientConnectionError | asyncio.TimeoutError):
        return f"connection to Slack lost ({type(error).__name__}); not re-sent"
    return None


def describe(body: dict[str, Any]) -> str:
    """A short, bounded description of what a reply was for, for log lines."""
    event = body.get("event") or {}
    kind = body.get("command") or event.get("type") or body.get("type") or "request"
    channel = body.get("channel")
    where = (
        event.get("channel")
        or body.get("channel_id")
        or (channel.get("id") if isinstance(channel, dict) else "")
    )
    return f"{str(kind)[:40]} in {str(where)[:20] or '?'}"
