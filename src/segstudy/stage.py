"""The one wrapper every DVC stage script and the CLI run under: a user error is one line on
stderr and exit 2; Ctrl-C or SIGTERM is one line and exit 130 (outputs are written atomically,
so an interrupted run leaves the previous complete result)."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from segstudy import SegstudyError


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so ``finally`` blocks remove temporary outputs."""
    signal.signal(signal.SIGTERM, _interrupt)


def run_stage(main: Callable[[list[str]], None], argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    interrupt_on_sigterm()
    try:
        main(sys.argv[1:] if argv is None else argv)
    except SegstudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted; rerun the same command to continue", file=sys.stderr)
        sys.exit(130)
