"""Coverage of the breadth question set (bench/questions-breadth.yaml): 420 in-scope support
questions over the nine areas of the breadth issue and 100 off-topic ones, written blind to
the knowledge base, then labelled against it (`expect`: acceptable ids, `network:ID` for an
answer carrying that network record's policy, `uncovered` for an in-scope question nothing
answers, `none` for off-topic).

Prints, overall and per area: coverage (in-scope questions some entry or record answers),
useful answers (answered with an acceptable id), wrong or off-target answers (answered with
another id, or answered at all when nothing covers the question), and off-topic questions
answered.

Run: python bench/score_breadth.py [--set bench/questions-breadth2.yaml]
     [--cmd ".venv/bin/mailport ask --json"] [--show-wrong]
Goals (breadth issue): coverage >= 90%, useful >= 85%, wrong or off-target <= 3%.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

QUESTIONS = Path(__file__).with_name("questions-breadth.yaml")


def _record_id(answer_id: str | None) -> str | None:
    """The record an answer id comes from: `code-5-7-1` is the general X.7.1 record read in
    class 5, which the labels name as `code-x-7-1`."""
    if answer_id is None:
        return None
    return re.sub(r"^code-[245](-\d{1,3}-\d{1,3})$", r"code-x\1", answer_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cmd", default=f"{sys.executable} -m bot ask --json")
    parser.add_argument("--show-wrong", action="store_true")
    parser.add_argument("--set", type=Path, default=QUESTIONS, help="a labelled breadth set")
    args = parser.parse_args()
    cases = yaml.safe_load(args.set.read_text(encoding="utf-8"))
    lines = [" ".join(str(c["q"]).split()) for c in cases]
    run = subprocess.run(
        shlex.split(args.cmd), input="\n".join(lines) + "\n", capture_output=True, text=True
    )
    answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    if len(answers) != len(cases):
        print(f"BROKEN: {len(answers)} answers for {len(cases)} questions", file=sys.stderr)
        return 2
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for case, answer in zip(cases, answers, strict=True):
        area, expect = str(case["area"]), case["expect"]
        answered = answer["status"] == "answered"
        got = _record_id((answer.get("entry") or {}).get("id"))
        network = answer.get("network")
        accepted = isinstance(expect, list) and (
            got in expect or (network is not None and f"network:{network}" in expect)
        )
        for key in ("off",) if area == "off" else (area, "all"):
            count = tally[key]
            count["n"] += 1
            if area == "off":
                count["answered"] += answered
                continue
            count["covered"] += isinstance(expect, list)
            if answered and accepted:
                count["useful"] += 1
            elif answered:
                count["wrong"] += 1
                if args.show_wrong and key == "all":
                    print(f"wrong  [{area}] {case['q'][:110]!r} expect={expect} got={got}")
    for key in [*sorted(k for k in tally if k not in ("all", "off")), "all"]:
        c = tally[key]
        print(
            f"area {key:>3}: {c['n']:>3} questions, coverage {100 * c['covered'] / c['n']:5.1f}%, "
            f"useful {100 * c['useful'] / c['n']:5.1f}%, wrong or off-target "
            f"{100 * c['wrong'] / c['n']:5.1f}%"
        )
    off = tally["off"]
    print(f"off-topic: {off['n']} questions, answered {100 * off['answered'] / off['n']:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
