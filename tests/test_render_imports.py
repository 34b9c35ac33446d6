"""`mailport check --json` and the terminal renderers do not load Slack's SDK (one renderer
per format)."""

from __future__ import annotations

import subprocess
import sys


def _loaded(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_check_text_and_json_load_no_slack_sdk() -> None:
    loaded = _loaded(
        "import bot.cli\n"
        "from bot.check import Checker\n"
        "from bot.render import check_text, json, text"
    )
    assert not any(m == "slack_sdk" or m.startswith("slack_sdk.") for m in loaded)


def test_check_blocks_do() -> None:
    assert "slack_sdk.models.blocks" in _loaded("from bot.render import check_blocks")
