"""The matcher's quality gate on the public question set, scored by the shared script
through the real `mailport ask --json` batch contract.

The goals are enforced as set: in-scope correct >= 95%, wrong answers <= 2%, out-of-scope
false answers <= 5%.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval"


@pytest.fixture(scope="module")
def summary() -> str:
    if not (SHARED / "dev.yaml").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the shared question set is missing: {SHARED / 'dev.yaml'}")
        pytest.skip(f"no shared question set at {SHARED}")
    result = subprocess.run(
        [
            sys.executable,
            str(SHARED / "score.py"),
            str(SHARED / "dev.yaml"),
            "--cmd",
            f"{sys.executable} -m bot ask --json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _percent(summary: str, label: str) -> float:
    match = re.search(re.escape(label) + r" (\d+\.\d)%", summary)
    assert match, f"{label!r} not in {summary!r}"
    return float(match.group(1))


def test_in_scope_correct(summary: str) -> None:
    assert _percent(summary, "correct") >= 95.0, summary


def test_wrong_answers(summary: str) -> None:
    assert _percent(summary, "wrong") <= 2.0, summary


def test_out_of_scope_false_answers(summary: str) -> None:
    assert _percent(summary, "false answers") <= 5.0, summary
