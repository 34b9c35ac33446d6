"""Loading and `mailport kb check`: every problem is reported with file, entry and field."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.kb import knowledge
from bot.match.kbcheck import check

FIXTURE = Path(__file__).parent / "fixtures" / "kb"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE, target)
    return target


def _write(kb_dir: Path, name: str, text: str) -> None:
    (kb_dir / "entries" / name).write_text(text, encoding="utf-8")


def _messages(kb_dir: Path) -> list[str]:
    return [str(p) for p in check(kb_dir)[0]]


def test_fixture_is_valid(kb_dir: Path) -> None:
    problems, summary = check(kb_dir)
    assert problems == []
    assert summary.startswith("OK: 2 entries")


def test_real_knowledge_base_is_valid(fit_cache: Path) -> None:
    problems, summary = check(cache_dir=fit_cache)
    assert [str(p) for p in problems] == []
    assert "entries" in summary


def test_port_lookup(kb_dir: Path) -> None:
    kb = knowledge.load(kb_dir)
    assert kb.entry_for_port(587).id == "port-587"
    assert kb.entry_for_port(22) is None
    assert "not an email port" in kb.port_note(22)
    assert "not in my port table" in kb.port_note(4242)


def test_malformed_yaml_is_a_clear_error(kb_dir: Path) -> None:
    _write(kb_dir, "broken.yaml", "- id: x\n  question: [unclosed\n")
    [message] = _messages(kb_dir)
    assert "broken.yaml" in message
    assert "not valid YAML (line" in message


def test_schema_problems_name_entry_and_field(kb_dir: Path) -> None:
    _write(
        kb_dir,
        "bad.yaml",
        """
- id: Bad_Id
  question: ""
  alternates: "not a list"
  short: ok
  detail: ok
  ports: [25, 70000]
  tags: []
  sources: [{title: x, url: "http://insecure"}]
  related: []
  reviewed: someday
  codes: [554, "5.7"]
  colour: blue
""",
    )
    messages = "\n".join(_messages(kb_dir))
    for field, text in [
        ("id", "kebab-case"),
        ("question", "non-empty"),
        ("alternates", "list of non-empty strings"),
        ("ports", "1-65535"),
        ("sources", "https://"),
        ("reviewed", "date"),
        ("codes", "quoted codes"),
        ("colour", "unknown field"),
    ]:
        assert f"bad.yaml:Bad_Id:{field}: " in messages and text in messages, field


def test_cross_references(kb_dir: Path) -> None:
    text = (FIXTURE / "entries" / "ports.yaml").read_text()
    text = text.replace("related: [port-587]", "related: [no-such-entry, port-25]")
    text = text.replace("ports: [587]", "ports: [587, 2525]")
    (kb_dir / "entries" / "ports.yaml").write_text(text)
    _write(kb_dir, "zz-dupe.yaml", text.split("- id: port-587")[0])
    messages = "\n".join(_messages(kb_dir))
    assert "port-25:related: unknown entry id 'no-such-entry'" in messages
    assert "port-25:related: refers to itself" in messages
    assert "port-587:ports: port 2525 is not in ports.yaml" in messages
    assert "zz-dupe.yaml:port-25:id: duplicate id" in messages


def test_indistinct_phrasings(kb_dir: Path) -> None:
    text = (FIXTURE / "entries" / "ports.yaml").read_text()
    text = text.replace('"what is the submission port"', '"what does smtp port 25 do"')
    (kb_dir / "entries" / "ports.yaml").write_text(text)
    messages = "\n".join(_messages(kb_dir))
    assert "port-587:alternates[1]: 'what does smtp port 25 do' repeats port-25:alternates[1]" in (
        messages
    )


def test_bad_port_table(kb_dir: Path) -> None:
    (kb_dir / "ports.yaml").write_text("- port: 25\n  service: smtp\n- just text\n")
    messages = "\n".join(_messages(kb_dir))
    assert "ports.yaml:port 25:name: missing" in messages
    assert "ports.yaml:#2: row must be a mapping" in messages


def _mailport(kb_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "--knowledge", str(kb_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cli_exit_status_and_no_traceback(kb_dir: Path) -> None:
    _write(kb_dir, "broken.yaml", "{{{")
    run = _mailport(kb_dir, "kb", "check")
    assert run.returncode == 1
    assert "broken.yaml" in run.stdout
    assert "Traceback" not in run.stderr
    ask = _mailport(kb_dir, "ask", "port 25")
    assert ask.returncode == 1
    assert "mailport kb check" in ask.stderr
    assert "Traceback" not in ask.stderr


def test_out_of_scope_examples(kb_dir: Path) -> None:
    (kb_dir / "out-of-scope.yaml").write_text(
        '- "how do I publish a DMARC record"\n- "what does smtp port 25 do"\n- 42\n',
        encoding="utf-8",
    )
    kb, _ = knowledge.load_with_problems(kb_dir)
    assert kb.out_of_scope[0] == "how do I publish a DMARC record"
    messages = "\n".join(_messages(kb_dir))
    assert "out-of-scope.yaml:#3: must be a question of 1 to 200 characters" in messages
    assert "out-of-scope.yaml:#2: 'what does smtp port 25 do' repeats port-25:alternates[1]" in (
        messages
    )
    assert "port-25:alternates[1]: 'what does smtp port 25 do' is too close to the examples in" in (
        messages
    )


def test_out_of_scope_file_is_optional_and_must_be_a_list(kb_dir: Path) -> None:
    assert knowledge.load(kb_dir).out_of_scope == ()
    (kb_dir / "out-of-scope.yaml").write_text("question: not a list\n", encoding="utf-8")
    assert any("expected a list of questions" in m for m in _messages(kb_dir))


def test_out_of_scope_examples_by_topic(kb_dir: Path) -> None:
    (kb_dir / "out-of-scope.yaml").write_text(
        'dns:\n  - "how do I publish a DMARC record"\n  - "spf for two senders"\n'
        'chat:\n  - "lunch plans?"\n  - "spf for two senders"\nbad: "not a list"\n',
        encoding="utf-8",
    )
    kb, problems = knowledge.load_with_problems(kb_dir)
    assert kb.out_of_scope == (
        "how do I publish a DMARC record",
        "spf for two senders",
        "lunch plans?",
    )
    assert kb.out_of_scope_topics["lunch plans?"] == "chat"
    assert kb.out_of_scope_topics["spf for two senders"] == "dns"
    messages = "\n".join(str(p) for p in problems)
    assert "out-of-scope.yaml:chat#2: 'spf for two senders' is listed twice" in messages
    assert "out-of-scope.yaml:bad: expected a list of questions" in messages


def test_subjects_with_and_without_a_kind(kb_dir: Path) -> None:
    (kb_dir / "subjects.yaml").write_text(
        "zimbra: [Zimbra, zmprov]\nem-client: {kind: client, names: [eM Client, emclient]}\n",
        encoding="utf-8",
    )
    kb = knowledge.load(kb_dir)
    assert kb.subjects == {"zimbra": ("zimbra", "zmprov"), "em-client": ("em client", "emclient")}
    assert kb.subject_titles == {"zimbra": "Zimbra", "em-client": "eM Client"}
    assert kb.subject_kinds == {"em-client": "client"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "x: {kind: server, names: [x]}\n",
            "subjects.yaml:x:kind: kind must be one of client, tool",
        ),
        ("x: []\n", "subjects.yaml:x: must be a list of names"),
        ("x: {kind: client}\n", "subjects.yaml:x: must be a list of names"),
        ("X: [x]\n", "subjects.yaml:X: subject must be lower-case"),
    ],
)
def test_bad_subjects_are_named(kb_dir: Path, text: str, problem: str) -> None:
    (kb_dir / "subjects.yaml").write_text(text, encoding="utf-8")
    assert [m.rsplit("/", 1)[-1] for m in _messages(kb_dir)] == [problem]
