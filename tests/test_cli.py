"""The CLI contract other tools rely on, run as a real subprocess."""

import json
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.usefixtures("engine")  # the fit is cached before `mailport` starts


ASK = [sys.executable, "-m", "bot", "ask"]
ENTRY_KEYS = {"id", "question", "short", "detail", "ports", "sources"}


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, capture_output=True, text=True, check=False, timeout=60
    )


def test_ask_json_one_object() -> None:
    result = run([*ASK, "--json", "can I use 587 instead of 25?"])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"status", "score", "entry", "suggestions", "ports"}
    assert data["status"] == "answered"
    assert 0 <= data["score"] <= 100
    assert set(data["entry"]) == ENTRY_KEYS
    assert data["entry"]["id"] == "use-587-instead-of-25"
    assert {row["port"] for row in data["ports"]} >= {25, 587}
    assert all(set(s) == {"title", "url"} for s in data["entry"]["sources"])


def test_ask_json_batch_in_order() -> None:
    questions = ["465", "hello", "", "what is port 22", "imap vs pop3", "does azure block 25"]
    result = run([*ASK, "--json"], stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(questions)
    answers = [json.loads(line) for line in lines]
    assert answers[0]["entry"]["id"] == "port-465"
    assert answers[1]["status"] == "no_match" and answers[1]["entry"] is None
    assert answers[2]["status"] == "no_match"
    assert "not an email port" in answers[3]["note"]
    assert answers[4]["entry"]["id"] == "imap-vs-pop3"
    assert answers[4]["network"] is None and answers[5]["network"] == "azure"
    for answer in answers:
        for suggestion in answer["suggestions"]:
            assert set(suggestion) == {"id", "question", "score"}


def test_ask_json_batch_flushes_each_line() -> None:
    proc = subprocess.Popen(
        [*ASK, "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        proc.stdin.write("port 993\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert json.loads(line)["entry"]["id"] == "port-993"
        proc.stdin.write("port 995\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["entry"]["id"] == "port-995"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_ask_text() -> None:
    result = run([*ASK, "what", "is", "port", "465"])
    assert result.returncode == 0
    assert "465" in result.stdout and "Sources" in result.stdout and "rfc8314" in result.stdout


def test_ask_with_empty_stdin_is_an_empty_batch() -> None:
    result = subprocess.run(
        [*ASK, "--json"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_port_json() -> None:
    result = run([sys.executable, "-m", "bot", "port", "465", "--json"])
    data = json.loads(result.stdout)
    assert data["entry_id"] == "port-465"
    assert data["rows"][0]["tls"] == "implicit"
    other = json.loads(run([sys.executable, "-m", "bot", "port", "22", "--json"]).stdout)
    assert other["entry_id"] is None and "not an email port" in other["note"]


def test_port_rejects_bad_numbers() -> None:
    for bad in ("0", "70000", "smtp"):
        result = run([sys.executable, "-m", "bot", "port", bad])
        assert result.returncode == 2
        assert "Traceback" not in result.stderr


def test_kb_check_passes_on_real_base() -> None:
    result = run([sys.executable, "-m", "bot", "kb", "check"])
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK:")


def test_ask_does_not_import_slack() -> None:
    code = (
        "import sys, bot.cli; bot.cli.main(['ask', '--json', '25']);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'aiohttp')))"
    )
    result = run([sys.executable, "-c", code])
    assert result.stdout.splitlines()[-1] == "[]"


def test_malformed_setting_is_one_line_exit_2() -> None:
    env = {**os.environ, "MAILPORT_CHECK_DEADLINE": "soon"}
    result = subprocess.run([*ASK, "25"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mailport: MAILPORT_CHECK_DEADLINE is malformed: expected a number of seconds, got 'soon'"
    ]


def test_ask_skips_a_line_that_is_not_utf8_under_strict_io() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C"}
    result = subprocess.run(
        [*ASK, "--json"],
        input=b"port 25\n\xff\xfe not text\nwhat is imap\n",
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["entry"]["id"] == "port-25"
    assert result.stderr.decode().strip() == "mailport ask: line 2 is not UTF-8 text; skipped"
    assert result.returncode == 2


def test_output_that_cannot_be_written_is_one_line() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*ASK, "port 25"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert result.returncode == 1
    assert result.stderr.strip() == "mailport: No space left on device"
    closed = subprocess.run(
        [*ASK, "port 25"],
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == 1
    assert closed.stderr.strip() == "mailport: standard output is closed"


def test_report_limit_must_be_positive(tmp_path) -> None:
    env = {**os.environ, "MAILPORT_DB": str(tmp_path / "none.db")}
    for bad in ("0", "-3", "ten"):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "report", "--limit", bad],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        assert result.returncode == 2, bad
        assert "--limit" in result.stderr and bad in result.stderr and result.stdout == ""


def test_usage_errors_are_one_line_naming_the_verb() -> None:
    for argv, verb in (
        ([], "mailport"),
        (["frob"], "mailport"),
        (["port"], "mailport port"),
        (["port", "70000"], "mailport port"),
        (["report", "--limit", "0"], "mailport report"),
        (["check"], "mailport check"),
        (["ask", "--jsn", "port 25"], "mailport ask"),
        (["kb", "check", "--all"], "mailport kb check"),
    ):
        result = run([sys.executable, "-m", "bot", *argv])
        assert result.returncode == 2, argv
        [line] = result.stderr.splitlines()
        assert line.startswith(f"{verb}: ") and "usage:" not in line, line
        assert result.stdout == ""


def test_usage_errors_are_returned_in_process(capsys) -> None:
    from bot import cli

    assert cli.main(["report", "--limit", "-3"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.startswith("mailport report: argument --limit: ")
    assert cli.main(["--version"]) == cli.EXIT_OK


def test_terminal_text_carries_no_slack_markup(engine) -> None:
    from bot.render import text as render_text

    kb = engine.kb
    for entry in [*kb.entries.values(), *kb.record_entries.values()]:
        shown = render_text.entry(entry, ())
        assert "`" not in shown and "/mailport" not in shown, entry.id
        assert not re.search(r"(?<!\w)\*\w[^*\n]*\*(?!\w)", shown), entry.id


def test_cli_messages_are_plain() -> None:
    for argv in (
        ["check", ""],
        ["check", "smtp.example.com:587"],
        ["check", "jane@example.com"],
        ["check", "smtp.example.com", "80"],
        ["check", "mail.test"],
        ["settings", "jane@printer.local"],
    ):
        result = run([sys.executable, "-m", "bot", *argv])
        said = result.stdout + result.stderr
        assert result.returncode == 2, argv
        assert "`" not in said and "/mailport" not in said, said
    result = run([sys.executable, "-m", "bot", "check", "smtp.example.com:587"])
    assert "e.g. mailport check smtp.example.com 587" in result.stderr
    assert "`" not in run([sys.executable, "-m", "bot", "check", "--help"]).stdout
