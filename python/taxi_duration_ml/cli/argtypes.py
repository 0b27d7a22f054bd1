"""Argument types for argparse: each checks a value at parse time and says what is wrong, so a
bad value ends as one ``error: argument --x: ...`` line with exit status 2 (see :mod:`.parser`)."""

from __future__ import annotations

import argparse
import os
import re

_TABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


def month(value: str) -> str:
    """A TLC month ``YYYY-MM`` with a month from 01 to 12."""
    from ..data import check_month

    try:
        return check_month(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid month {value!r}: expected YYYY-MM with a month from 01 to 12"
        ) from None


def existing_file(value: str) -> str:
    """A path to a readable regular file."""
    if not os.path.exists(value):
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    if not os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"{value}: not a regular file")
    if not os.access(value, os.R_OK):
        raise argparse.ArgumentTypeError(f"{value}: not readable")
    return value


def output_file(value: str) -> str:
    """A path whose directory exists (the file itself is created or replaced)."""
    parent = os.path.dirname(value) or "."
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"{value}: directory {parent} does not exist")
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value}: is a directory")
    return value


def _int(value: str, minimum: int, maximum: int | None = None) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {value!r}") from None
    if n < minimum or (maximum is not None and n > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise argparse.ArgumentTypeError(f"{n} out of range: must be at least {minimum}{upper}")
    return n


def positive_int(value: str) -> int:
    """An integer ≥ 1."""
    return _int(value, 1)


def non_negative_int(value: str) -> int:
    """An integer ≥ 0."""
    return _int(value, 0)


def max_depth(value: str) -> int:
    """A tree depth from 1 to MAX_DEPTH_LIMIT (what the C evaluator accepts)."""
    from ..defaults import MAX_DEPTH_LIMIT

    return _int(value, 1, MAX_DEPTH_LIMIT)


def positive_float(value: str) -> float:
    """A finite number > 0."""
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {value!r}") from None
    if not (x > 0 and x != float("inf")):
        raise argparse.ArgumentTypeError(f"{value} out of range: must be a finite number > 0")
    return x


def table_name(value: str) -> str:
    """A plain table name, optionally schema-qualified (``trips``, ``public.trips``); it is
    written into SQL unquoted, so PostgreSQL folds it to lower case as usual."""
    if not _TABLE_RE.match(value):
        raise argparse.ArgumentTypeError(
            f"invalid table name {value!r}: a plain name, optionally schema-qualified "
            "(letters, digits, _; not starting with a digit)"
        )
    return value
