"""The one wrapper every DVC stage script runs under: user errors become one line + exit 2."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from segstudy import SegstudyError


def run_stage(main: Callable[[list[str]], None], argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        main(sys.argv[1:] if argv is None else argv)
    except SegstudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted; rerun the same command to continue", file=sys.stderr)
        sys.exit(130)
