"""``main()`` of ``taxi-duration``: parse the command line, load ``.env.<env>``, set up progress
bars, run the command, and turn the errors users cause into one ``error: ...`` line on stderr
with exit status 1 or 2 (:mod:`.errors`).  Anything else is a bug and keeps its traceback."""

from __future__ import annotations

import sys

from .. import progress
from .errors import UsageError, describe
from .parser import build_parser


def _load_env(name: str | None) -> None:
    from .. import config

    try:
        config.load_env(name)
    except ValueError as e:  # a line of .env.<name> that is not KEY=VALUE, an unknown TD_ENV
        raise UsageError(str(e)) from e


def main(argv=None) -> int:
    """Run ``taxi-duration`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.
    Usage errors exit from argparse with status 2 (one ``error:`` line)."""
    a = build_parser().parse_args(argv)
    progress.set_quiet(a.quiet)
    try:
        _load_env(a.env)
        return a.func(a)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        known = describe(e)
        if known is None:
            raise
        status, message = known
        print(f"error: {message}", file=sys.stderr)
        return status
