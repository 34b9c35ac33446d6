"""Event dedupe at any table size: `first_time` calls per second on the SQLite store with 0,
100,000 and 500,000 unexpired keys already stored (the ratio against the empty table is the
figure; each size runs in the same process, one after the other).

Run: python bench/bench_store.py [--calls 5000]
Goal: the rate at 500,000 keys >= 0.8x the rate on an empty table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bot.store import SQLiteDB

SIZES = (0, 100_000, 500_000)
GOAL = 0.8


def rate(size: int, calls: int, folder: str) -> float:
    """`first_time` calls per second with `size` keys stored."""
    db = SQLiteDB(Path(folder) / f"seen-{size}.db")
    expires = time.time() + 3600
    with db._db:
        db._db.executemany(
            "INSERT INTO seen (key, expires) VALUES (?, ?)",
            ((f"event:old{i}", expires) for i in range(size)),
        )
    db._pruned = 0.0
    started = time.perf_counter()
    for i in range(calls):
        db.first_time(f"event:new{i}", 3600)
    elapsed = time.perf_counter() - started
    db.close()
    return calls / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rates = {size: rate(size, args.calls, folder) for size in SIZES}
    for size, per_second in rates.items():
        print(f"{size:>8} keys stored: {per_second:>8.0f} first_time/s")
    ratio = rates[SIZES[-1]] / rates[0]
    ok = ratio >= GOAL
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}  rate at {SIZES[-1]:,} keys / empty = {ratio:.2f} (goal >= {GOAL})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
