"""One settings object, read from the environment once at start-up and validated there."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _default_cache(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "mailport"


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def __call__(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{name} is malformed: {exc}") from None


def _prefixed(prefix: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not raw.startswith(prefix):
            raise ValueError(f"expected a token starting with {prefix}")
        return raw

    return parse


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return raw if raw.endswith("/") else raw + "/"


POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_DB = Path("mailport.db")


def _database(raw: str) -> Path | str:
    """A SQLite file's path, or a PostgreSQL URL with a host and a database name."""
    scheme = raw.partition("://")[0].lower()
    if scheme not in POSTGRES_SCHEMES:
        if "://" in raw:
            raise ValueError(f"expected a file path or a postgresql:// URL, got {scheme}://")
        return Path(raw)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid postgresql:// URL ({exc})") from None
    if not parts.hostname or not parts.path.strip("/"):
        raise ValueError("expected postgresql://user:password@host:port/database")
    if port == 0:
        raise ValueError("the port must be 1-65535")
    return raw


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"expected {low}-{high}, got {value}")
        return value

    return parse


MAX_SECONDS = 7 * 24 * 3600.0


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value > MAX_SECONDS:
        raise ValueError(f"expected a number of seconds up to {MAX_SECONDS:.0f}, got {raw!r}")
    return value


def _positive(raw: str) -> float:
    value = _number(raw)
    if value <= 0:
        raise ValueError(f"expected a positive number, got {raw!r}")
    return value


def _non_negative(raw: str) -> float:
    value = _number(raw)
    if value < 0:
        raise ValueError(f"expected zero or more, got {raw!r}")
    return value


def _ca_file(raw: str) -> Path:
    import ssl

    path = Path(raw)
    if not path.is_file():
        raise ValueError(f"no such file: {raw}")
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise ValueError(f"{raw} is not a PEM bundle of CA certificates ({reason})") from None
    return path


def _ip_address(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise ValueError(f"expected an IP address to listen on, got {raw!r}") from None


_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,20}$")


def _slack_ids(raw: str) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(raw.replace(",", " ").split()))
    bad = [i for i in ids if not _SLACK_ID.match(i)]
    if bad:
        raise ValueError(f"{bad[0][:30]!r} is no Slack user ID (U…, W…) or user group ID (S…)")
    return ids


def _cidrs(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"expected comma-separated CIDRs like 127.0.0.0/8 ({exc})") from None


def _env(name: str, parse: Callable[[str], Any]) -> dict[str, Any]:
    """A field's environment variable and its parser (the default is the field's own)."""
    return {"env": name, "parse": parse}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with sane defaults. A field with a variable is read from it by
    `from_env`; its default is written once, here (README's tables are tested against it)."""

    knowledge_dir: Path | None = field(default=None, metadata=_env("MAILPORT_KNOWLEDGE", Path))
    cache_dir: Path | None = None
    """`MAILPORT_CACHE_DIR`, by default `$XDG_CACHE_HOME/mailport` or `~/.cache/mailport`."""
    db_path: Path = DEFAULT_DB
    db_url: str = ""
    """`MAILPORT_DB` is a file (`db_path`) or a `postgresql://` URL: the store shared by several
    instances, in place of `db_path`."""
    slack_bot_token: str = field(default="", metadata=_env("SLACK_BOT_TOKEN", _prefixed("xoxb-")))
    slack_signing_secret: str = field(default="", metadata=_env("SLACK_SIGNING_SECRET", str))
    slack_app_token: str = field(default="", metadata=_env("SLACK_APP_TOKEN", _prefixed("xapp-")))
    slack_api_url: str = field(default="", metadata=_env("SLACK_API_URL", _url))
    host: str = field(default="0.0.0.0", metadata=_env("MAILPORT_HOST", _ip_address))
    port: int = field(default=3000, metadata=_env("PORT", _bounded_int(1, 65535)))
    max_pending: int = field(
        default=500, metadata=_env("MAILPORT_MAX_PENDING", _bounded_int(1, 100_000))
    )
    answer_lease: float = field(default=30.0, metadata=_env("MAILPORT_ANSWER_LEASE", _positive))
    """Seconds an instance holds a message while answering it (renewed as it works); if it
    dies, another instance answers once the lease lapses."""
    allow_cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        default=(), metadata=_env("MAILPORT_ALLOW_CIDRS", _cidrs)
    )
    check_connect_timeout: float = field(
        default=10.0, metadata=_env("MAILPORT_CHECK_CONNECT_TIMEOUT", _positive)
    )
    check_step_timeout: float = field(
        default=15.0, metadata=_env("MAILPORT_CHECK_STEP_TIMEOUT", _positive)
    )
    check_deadline: float = field(default=30.0, metadata=_env("MAILPORT_CHECK_DEADLINE", _positive))
    check_concurrency: int = field(
        default=10, metadata=_env("MAILPORT_CHECK_CONCURRENCY", _bounded_int(1, 1000))
    )
    check_user_limit: int = field(
        default=5, metadata=_env("MAILPORT_CHECK_USER_LIMIT", _bounded_int(1, 10000))
    )
    check_user_window: float = field(
        default=600.0, metadata=_env("MAILPORT_CHECK_USER_WINDOW", _positive)
    )
    check_team_limit: int = field(
        default=60, metadata=_env("MAILPORT_CHECK_TEAM_LIMIT", _bounded_int(1, 100_000))
    )
    """Live checks one workspace may run per `check_user_window`, all its users together."""
    check_cache_ttl: float = field(
        default=300.0, metadata=_env("MAILPORT_CHECK_CACHE_TTL", _non_negative)
    )
    helo_name: str = field(default="mailport.invalid", metadata=_env("MAILPORT_HELO_NAME", str))
    check_ca_file: Path | None = field(
        default=None, metadata=_env("MAILPORT_CHECK_CA_FILE", _ca_file)
    )
    curators: tuple[str, ...] = field(default=(), metadata=_env("MAILPORT_CURATORS", _slack_ids))
    """Slack user IDs (U…, W…) and user group IDs (S…) who see the curators' Home tab."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate `MAILPORT_*`, `SLACK_*` and `PORT` from `env` (default os.environ)."""
        env = os.environ if env is None else env
        read = _Reader(env)
        values: dict[str, Any] = {
            f.name: read(f.metadata["env"], f.metadata["parse"], f.default)
            for f in dataclasses.fields(cls)
            if "env" in f.metadata
        }
        fallback: Path | str = DEFAULT_DB
        db = read("MAILPORT_DB", _database, fallback)
        return cls(
            **values,
            cache_dir=read("MAILPORT_CACHE_DIR", Path, _default_cache(env)),
            db_path=db if isinstance(db, Path) else DEFAULT_DB,
            db_url=db if isinstance(db, str) else "",
        )

    def require_slack(self, socket_mode: bool) -> None:
        """Raise SettingsError naming the first Slack variable a server cannot run without."""
        if not self.slack_bot_token:
            raise SettingsError("SLACK_BOT_TOKEN is not set (a bot token starting with xoxb-)")
        if socket_mode and not self.slack_app_token:
            raise SettingsError(
                "SLACK_APP_TOKEN is not set (an app-level token starting with xapp-)"
            )
        if not socket_mode and not self.slack_signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set (Basic Information > App Credentials)"
            )
