"""Checkers of single values, the leaves of ``segstudy.config``'s schema: each is a function
of the value that returns ``None`` when it is fine, else the phrase that completes "expected
..." in the error (``params.yaml: <key>: <phrase>, got <value>``). They know nothing of the
project; the schema says where each applies."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Checker = Callable[[Any], "str | None"]


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def positive_number(v: Any) -> str | None:
    return None if is_number(v) and v > 0 else "expected a positive number"


def non_negative_number(v: Any) -> str | None:
    return None if is_number(v) and v >= 0 else "expected a number ≥ 0"


def fraction(v: Any) -> str | None:
    return None if is_number(v) and 0 <= v <= 1 else "expected a number in [0, 1]"


def positive_int(v: Any) -> str | None:
    return None if is_int(v) and v > 0 else "expected a positive integer"


def non_negative_int(v: Any) -> str | None:
    return None if is_int(v) and v >= 0 else "expected an integer ≥ 0"


def share(v: Any) -> str | None:
    return None if is_number(v) and 0 < v < 1 else "expected a number in (0, 1)"


def integer(v: Any) -> str | None:
    return None if is_int(v) else "expected an integer"


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "expected true or false"


def optional(check: Checker) -> Checker:
    def inner(v: Any) -> str | None:
        return None if v is None else (None if check(v) is None else f"{check(v)} or null")
    return inner


def one_of(*allowed: str) -> Checker:
    def inner(v: Any) -> str | None:
        return None if v in allowed else f"expected one of {', '.join(allowed)}"
    return inner


def list_of(check: Checker, *, unique: bool = True, length: int | None = None) -> Checker:
    def inner(v: Any) -> str | None:
        if not isinstance(v, list) or not v:
            return "expected a non-empty list"
        if length is not None and len(v) != length:
            return f"expected a list of {length} items"
        bad = [x for x in v if check(x) is not None]
        if bad:
            return f"item {bad[0]!r}: {check(bad[0])}"
        if unique and len({repr(x) for x in v}) != len(v):
            return "expected no repeated items"
        return None
    return inner


def anything(v: Any) -> str | None:  # sections another module validates in full (download)
    return None
