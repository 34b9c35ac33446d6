"""Refresh the vendored ISPDB (knowledge/ispdb) from a checkout of thunderbird/autoconfig.

    git clone https://github.com/thunderbird/autoconfig /tmp/autoconfig
    python tools/refresh_ispdb.py /tmp/autoconfig

Copies `ispdb/*.xml` (files gone upstream are removed), records the checkout's commit and date
in knowledge/ispdb/README.md and bot/kb/ispdb.py, then prints what changed. Run `mailport kb
check` and the tests afterwards: a reviewed record still wins for its domains.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "knowledge" / "ispdb"
MODULE = ROOT / "bot" / "ispdb.py"
NOTE = TARGET / "README.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a clone of thunderbird/autoconfig")
    args = parser.parse_args()
    source = args.checkout / "ispdb"
    if not source.is_dir():
        print(f"refresh_ispdb: no ispdb/ folder in {args.checkout}", file=sys.stderr)
        return 2
    commit, date = _commit(args.checkout)
    old = {p.name for p in TARGET.glob("*.xml")}
    new = {p.name for p in source.glob("*.xml")}
    for name in old - new:
        (TARGET / name).unlink()
    for name in new:
        shutil.copyfile(source / name, TARGET / name)
    shutil.copyfile(args.checkout / "LICENSE", TARGET / "LICENSE")
    _stamp(commit, date)
    print(
        f"ISPDB at {commit[:12]} ({date}): {len(new)} files, {len(new - old)} new, "
        f"{len(old - new)} removed"
    )
    return 0


def _commit(checkout: Path) -> tuple[str, str]:
    show = ["git", "-C", str(checkout), "log", "-1", "--format=%H %cs"]
    commit, date = subprocess.run(show, capture_output=True, text=True, check=True).stdout.split()
    return commit, date


def _stamp(commit: str, date: str) -> None:
    when = dt.date.fromisoformat(date)
    module = MODULE.read_text()
    module = re.sub(r'COMMIT = "[0-9a-f]{40}"', f'COMMIT = "{commit}"', module)
    module = re.sub(
        r"SNAPSHOT = dt\.date\(\d+, \d+, \d+\)",
        f"SNAPSHOT = dt.date({when.year}, {when.month}, {when.day})",
        module,
    )
    MODULE.write_text(module)
    note = re.sub(r"`[0-9a-f]{40}` \(\d{4}-\d{2}-\d{2}\)", f"`{commit}` ({date})", NOTE.read_text())
    NOTE.write_text(note)


if __name__ == "__main__":
    sys.exit(main())
