"""The `mailport` command line: the same engine as the Slack app, without Slack.

Slack and the live checker are imported inside their subcommands only, so
`mailport ask` starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

from bot import __version__
from bot.verbs import CLI_VERBS, GROUPS, Arity, Verb

if TYPE_CHECKING:
    from bot.engine.facade import Engine

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _engine(args: argparse.Namespace) -> Engine:
    from bot.engine.facade import Engine

    return Engine.load(args.knowledge, args.settings.cache_dir)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one per line from standard input."""
    from bot.render import json as render_json
    from bot.render import text as render_text

    engine = _engine(args)
    if args.question:
        questions: Iterable[str | None] = [_text(" ".join(args.question))]
    elif sys.stdin is not None and not sys.stdin.isatty():
        questions = _lines(sys.stdin.buffer)
    else:
        print("mailport ask: give a question, or pipe one question per line", file=sys.stderr)
        return EXIT_USAGE
    first, status = True, EXIT_OK
    for number, question in enumerate(questions, 1):
        if question is None:
            print(f"mailport ask: line {number} is not UTF-8 text; skipped", file=sys.stderr)
            status = EXIT_USAGE
            continue
        result = engine.ask(question)
        if args.json:
            sys.stdout.write(json.dumps(render_json.answer(result), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(
                ("" if first else "\n" + "-" * 40 + "\n") + render_text.answer(result) + "\n"
            )
        sys.stdout.flush()
        first = False
    return status


def _text(arg: str) -> str:
    """A command-line argument as printable text (undecodable bytes become U+FFFD)."""
    return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _lines(stream: BinaryIO) -> Iterator[str | None]:
    """Each input line decoded as UTF-8, or None for a line that is not UTF-8."""
    for raw in stream:
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield None


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


def cmd_settings(args: argparse.Namespace) -> int:
    """A provider's server settings by name, email address or domain (a domain that is no
    known provider is looked up by its MX hosts). Exit 0 found, 1 not found, 2 refused."""
    import asyncio

    from bot.check import Checker
    from bot.engine.discovery import discover
    from bot.render import json as render_json
    from bot.render import text as render_text

    engine = _engine(args)
    guard = Checker(args.settings).guard  # the checker's DNS, ranges and CAs
    result = asyncio.run(discover(engine, guard, _text(" ".join(args.query))))
    if args.json:
        print(json.dumps(render_json.answer(result.answer), ensure_ascii=False))
    else:
        print(render_text.answer(result.answer))
    if result.found:
        return EXIT_OK
    return EXIT_USAGE if result.refused else EXIT_PROBLEMS


def cmd_kb_check(args: argparse.Namespace) -> int:
    """Validate the knowledge base; list every problem with file, entry and field."""
    from bot.match.kbcheck import check

    problems, summary = check(args.knowledge, args.settings.cache_dir)
    for problem in problems:
        print(problem)
    print(summary, file=sys.stderr if problems else sys.stdout)
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_kb_fit(args: argparse.Namespace) -> int:
    """Fit the matcher's decision by cross-validation, cache it, and report what it found."""
    from bot.kb import knowledge
    from bot.match import fit
    from bot.match.matcher import unfitted

    kb = knowledge.load(args.knowledge)
    decider, results = fit.refit(kb, args.settings.cache_dir, unfitted)
    for line in fit.report(results, decider):
        print(line)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the Slack app: HTTP on $PORT, or Socket Mode with --socket or SLACK_APP_TOKEN set."""
    import asyncio
    import dataclasses
    import logging

    settings = dataclasses.replace(args.settings, knowledge_dir=args.knowledge)
    socket = args.socket or bool(settings.slack_app_token)
    settings.require_slack(socket)
    from bot.slack.server import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run(settings, socket))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Print the most asked unanswered questions and the most down-voted answers."""
    import asyncio

    from bot.render import text as render_text
    from bot.store import StoreError, open_store

    settings = args.settings
    if not settings.db_url and not settings.db_path.exists():
        print(
            f"No feedback yet: {settings.db_path} does not exist "
            "(set MAILPORT_DB to the bot's database)."
        )
        return EXIT_OK

    async def read() -> str:
        store = await open_store(settings.db_path, settings.db_url, wait=True)
        try:
            unanswered = await store.top_unanswered(args.limit)
            return render_text.curator_report(unanswered, await store.most_downvoted(args.limit))
        except Exception as exc:  # whatever the driver raises mid-read: one line, no trace
            raise StoreError(
                f"MAILPORT_DB: reading it failed ({exc or type(exc).__name__})"
            ) from None
        finally:
            await store.close()

    print(asyncio.run(read()))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Check a mail server live. Exit 0 when every port is OK, 1 on any WARNING or FAIL,
    2 when the host or ports are refused as input (an IP literal the guard refuses is refused
    before any DNS; a name that resolves to refused addresses, once resolved)."""
    import asyncio

    from bot.check import Checker, CheckError, Level
    from bot.render import check_text
    from bot.render import json as render_json
    from bot.render.text import plain

    checker = Checker(args.settings)
    try:
        request = checker.prepare(args.host, args.ports, args.mx)
    except CheckError as exc:
        print(f"mailport check: {plain(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    report = asyncio.run(checker.run(request))
    if args.json:
        print(json.dumps(render_json.check_report(report), ensure_ascii=False))
    else:
        sys.stdout.write(check_text.to_text(report))
    if report.refused:
        return EXIT_USAGE
    return EXIT_OK if report.level is Level.OK else EXIT_PROBLEMS


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, `mailport <verb>: <message>`, and exit 2
    (subcommands' parsers are made by this class too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """All subcommands; each adapter subcommand calls one engine function."""
    parser = _Parser(
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
    groups: dict[str, Any] = {}
    for verb in CLI_VERBS:
        where = sub
        if verb.group:
            if verb.group not in groups:
                group = sub.add_parser(verb.group, help=GROUPS[verb.group])
                groups[verb.group] = group.add_subparsers(
                    dest=f"{verb.group}_command", required=True, metavar="COMMAND"
                )
            where = groups[verb.group]
        _add_verb(where, verb)
    return parser


def _add_verb(sub: Any, verb: Verb) -> None:
    """One verb's subcommand, its arguments from the table and its handler from `HANDLERS`."""
    name = verb.name.rpartition(" ")[2]
    command = sub.add_parser(name, help=verb.summary, description=verb.description or None)
    for param in verb.params:
        if param.arity is Arity.FLAG:
            command.add_argument(f"--{param.name}", action="store_true", help=param.help)
        elif param.arity is Arity.OPTION:
            command.add_argument(
                f"--{param.name}",
                type=param.type,
                default=param.default,
                metavar=param.metavar,
                help=param.help,
            )
        else:
            nargs = {Arity.ONE: None, Arity.ANY: "*", Arity.SOME: "+"}[param.arity]
            extra = {"type": param.type} if param.type else {}
            command.add_argument(param.name, nargs=nargs, help=param.help, **extra)
    if verb.json:
        command.add_argument("--json", action="store_true", help=verb.json)
    command.set_defaults(func=HANDLERS[verb.name], parser=command)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ask": cmd_ask,
    "port": cmd_port,
    "settings": cmd_settings,
    "check": cmd_check,
    "kb check": cmd_kb_check,
    "kb fit": cmd_kb_fit,
    "serve": cmd_serve,
    "report": cmd_report,
}
"""Each command-line verb's handler: `build_parser` fails on a verb missing here."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mailport` console script."""
    from bot.kb.knowledge import KnowledgeError
    from bot.settings import Settings, SettingsError
    from bot.store.base import StoreError

    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # said by the subcommand's parser, so the line names the verb
            getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if sys.stdout is None:
        print("mailport: standard output is closed", file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        args.settings = Settings.from_env()
        if args.knowledge is None:
            args.knowledge = args.settings.knowledge_dir
        if args.knowledge is not None and not args.knowledge.is_dir():
            raise SettingsError(
                f"MAILPORT_KNOWLEDGE (or --knowledge) {args.knowledge} is not a directory"
            )
        status: int = args.func(args)
        sys.stdout.flush()
        return status
    except (SettingsError, StoreError) as exc:
        print(f"mailport: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KnowledgeError as exc:
        first, more = exc.problems[0], len(exc.problems) - 1
        rest = f" (and {more} more)" if more else ""
        print(f"mailport: {first}{rest}; run mailport kb check for details", file=sys.stderr)
        return EXIT_PROBLEMS
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_OK
    except OSError as exc:
        _discard_stdout()
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"mailport: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_PROBLEMS
    except Exception as exc:  # the last resort: one line, never a traceback
        print(
            f"mailport: unexpected error ({type(exc).__name__}: {exc}); please report it",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
