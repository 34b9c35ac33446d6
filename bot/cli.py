"""The `mailport` command line: the same engine as the Slack app, without Slack.

Slack and the live checker are imported inside their subcommands only, so
`mailport ask` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__

if TYPE_CHECKING:
    from bot.engine import Engine

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _engine(args: argparse.Namespace) -> Engine:
    from bot.engine import Engine

    return Engine.load(args.knowledge)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one per line from standard input."""
    from bot.render import json as render_json
    from bot.render import text as render_text

    engine = _engine(args)
    if args.question:
        questions: Sequence[str] = [" ".join(args.question)]
    elif not sys.stdin.isatty():
        questions = (line.rstrip("\n") for line in sys.stdin)  # type: ignore[assignment]
    else:
        print("mailport ask: give a question, or pipe one question per line", file=sys.stderr)
        return EXIT_USAGE
    first = True
    for question in questions:
        result = engine.ask(question)
        if args.json:
            sys.stdout.write(json.dumps(render_json.answer(result), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(
                ("" if first else "\n" + "-" * 40 + "\n") + render_text.answer(result) + "\n"
            )
        sys.stdout.flush()
        first = False
    return EXIT_OK


def cmd_port(args: argparse.Namespace) -> int:
    """Show the port card for one number."""
    from bot.render import json as render_json
    from bot.render import text as render_text

    card = _engine(args).port_card(args.number)
    if args.json:
        print(json.dumps(render_json.port_card(card), ensure_ascii=False))
    else:
        print(render_text.port_card(card))
    return EXIT_OK


def cmd_kb_check(args: argparse.Namespace) -> int:
    """Validate the knowledge base; list every problem with file, entry and field."""
    from bot.kbcheck import check

    problems, summary = check(args.knowledge)
    for problem in problems:
        print(problem)
    print(summary, file=sys.stderr if problems else sys.stdout)
    return EXIT_PROBLEMS if problems else EXIT_OK


def _port_number(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"ports run from 1 to 65535, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """All subcommands; each adapter subcommand calls one engine function."""
    parser = argparse.ArgumentParser(
        prog="mailport", description="Answers email-port questions and checks mail servers."
    )
    parser.add_argument("--version", action="version", version=f"mailport {__version__}")
    parser.add_argument(
        "--knowledge",
        type=Path,
        default=None,
        metavar="DIR",
        help="knowledge directory (default: $MAILPORT_KNOWLEDGE or the bundled one)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer a question from the knowledge base")
    ask.add_argument("question", nargs="*", help="the question (omit to read lines from stdin)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.set_defaults(func=cmd_ask)

    port = sub.add_parser("port", help="show what a port number is for")
    port.add_argument("number", type=_port_number)
    port.add_argument("--json", action="store_true")
    port.set_defaults(func=cmd_port)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="COMMAND")
    kb_check = kb_sub.add_parser("check", help="validate every entry and the port table")
    kb_check.set_defaults(func=cmd_kb_check)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mailport` console script."""
    from bot.knowledge import KnowledgeError
    from bot.settings import Settings, SettingsError

    args = build_parser().parse_args(argv)
    try:
        if args.knowledge is None:
            args.knowledge = Settings.from_env().knowledge_dir
        return args.func(args)
    except SettingsError as exc:
        print(f"mailport: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KnowledgeError as exc:
        print(
            f"mailport: the knowledge base has problems (run `mailport kb check`):\n{exc}",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    except BrokenPipeError:
        return EXIT_OK
