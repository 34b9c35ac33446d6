"""The manifest and Procfile match what the app listens for, with the fewest scopes."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.app import COMMAND
from bot.slack.server import EVENTS_PATH
from bot.verbs import usage_hint

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == COMMAND
    assert command["usage_hint"] == usage_hint()
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
        "app_home_opened",
    }
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "app_mentions:read",
        "chat:write",
        "im:history",
    }
    assert "user" not in manifest["oauth_config"]["scopes"]
    home = features["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert not home["messages_tab_read_only_enabled"]
    assert settings["interactivity"]["is_enabled"] is True
    urls = [
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert all(url.startswith("https://") and url.endswith(EVENTS_PATH) for url in urls)
    assert len(manifest["display_information"]["description"]) <= 140


def test_procfile_runs_http_and_socket_mode() -> None:
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    assert lines["web"].split() == ["mailport", "serve"]
    assert lines["worker"].split() == ["mailport", "serve", "--socket"]
