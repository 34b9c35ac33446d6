"""Where the public question set and its scorer are: ../shared/eval beside the clone, or
MAILPORT_EVAL_DIR."""

import os
from pathlib import Path

SHARED = Path(
    os.environ.get("MAILPORT_EVAL_DIR") or Path(__file__).resolve().parents[2] / "shared" / "eval"
)
