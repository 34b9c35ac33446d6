"""Settings are read once and every malformed value names its variable."""

import dataclasses
import ipaddress
import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.port == 3000
    assert settings.db_path == Path("mailport.db")
    assert settings.allow_cidrs == ()
    assert settings.check_deadline == 30.0


def test_values() -> None:
    settings = Settings.from_env(
        {
            "PORT": "8080",
            "MAILPORT_DB": "/tmp/x.db",
            "MAILPORT_ALLOW_CIDRS": "127.0.0.0/8, 10.1.0.0/16",
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "SLACK_BOT_TOKEN": "xoxb-1",
        }
    )
    assert settings.port == 8080
    assert settings.allow_cidrs == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("10.1.0.0/16"),
    )
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("MAILPORT_ALLOW_CIDRS", "10.0.0.0/33"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token"),
        ("SLACK_API_URL", "ftp://x"),
        ("MAILPORT_CHECK_DEADLINE", "-1"),
        ("MAILPORT_CHECK_CONCURRENCY", "0"),
        ("MAILPORT_DB", "postgresql://"),
        ("MAILPORT_DB", "postgresql://u:secret@db.internal"),
        ("MAILPORT_DB", "postgresql://u:secret@db.internal:99999/mailport"),
        ("MAILPORT_DB", "mysql://u:secret@db.internal/mailport"),
        ("MAILPORT_CHECK_TEAM_LIMIT", "0"),
    ],
)
def test_malformed_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name} is malformed") as raised:
        Settings.from_env({name: value})
    assert "secret" not in str(raised.value)


def test_a_postgresql_url_names_the_shared_store() -> None:
    url = "postgresql://mailport:p%40ss@db.internal:5432/mailport?sslmode=require"
    settings = Settings.from_env({"MAILPORT_DB": url})
    assert (settings.db_url, settings.db_path) == (url, Path("mailport.db"))
    assert Settings.from_env({"MAILPORT_DB": "/var/lib/m.db"}).db_url == ""


def test_require_slack_names_missing_variable() -> None:
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN"):
        Settings.from_env({}).require_slack(socket_mode=False)
    with pytest.raises(SettingsError, match=r"^SLACK_SIGNING_SECRET"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).require_slack(socket_mode=False)
    with pytest.raises(SettingsError, match=r"^SLACK_APP_TOKEN"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).require_slack(socket_mode=True)


def test_curators_are_slack_user_and_group_ids() -> None:
    settings = Settings.from_env({"MAILPORT_CURATORS": "U0BOSS, S0DESK W0ENT U0BOSS"})
    assert settings.curators == ("U0BOSS", "S0DESK", "W0ENT")
    with pytest.raises(SettingsError, match=r"MAILPORT_CURATORS is malformed: 'bob@acme\.com'"):
        Settings.from_env({"MAILPORT_CURATORS": "U0BOSS bob@acme.com"})


def _readme_rows() -> dict[str, str]:
    """README's settings tables: variable name to its default cell."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", readme, flags=re.M)
    return {name: default.strip() for name, default in rows}


def _shown(default: object) -> str:
    if default in (None, (), ""):
        return ""
    return f"`{default:g}`" if isinstance(default, float) else f"`{default}`"


def test_readme_lists_every_variable_with_its_default() -> None:
    rows = _readme_rows()
    for f in dataclasses.fields(Settings):
        if "env" not in f.metadata:
            continue
        name = f.metadata["env"]
        assert name in rows, f"README has no row for {name}"
        shown = _shown(f.default)
        if shown:
            assert rows[name] == shown, f"README says {name} is {rows[name]}, the code {shown}"
    for name in ("MAILPORT_DB", "MAILPORT_CACHE_DIR"):
        assert name in rows
