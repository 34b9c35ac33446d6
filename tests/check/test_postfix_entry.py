"""The Postfix entry's main.cf lines are ones the real Postfix knows (no "unused parameter")."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.knowledge import load


def test_the_relayhost_settings_are_real_postfix_parameters(tmp_path: Path) -> None:
    if shutil.which("postconf") is None:
        if os.environ.get("CI"):
            pytest.fail("postconf is missing (.ci/mail-servers.sh installs Postfix)")
        pytest.skip("Postfix is not installed here")
    detail = load().entries["postfix-relayhost-sasl"].detail
    block = detail.split("```")[1]
    settings = [line for line in block.strip().splitlines() if "=" in line]
    extra = re.findall(r"`(smtp_tls_wrappermode = yes)`", detail)
    assert len(settings) == 5 and extra
    (tmp_path / "main.cf").write_text("\n".join([*settings, *extra]) + "\n")
    run = subprocess.run(
        ["postconf", "-c", str(tmp_path), "-n"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "unused parameter" not in run.stderr, run.stderr
    names = {line.split(" =")[0] for line in run.stdout.splitlines()}
    assert {"relayhost", "smtp_sasl_password_maps", "smtp_tls_wrappermode"} <= names
