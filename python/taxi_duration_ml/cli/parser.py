"""The argparse parser of ``taxi-duration``: formatting and the options shared by commands.

* help shows every option's default (``(default: ...)``) unless its text already says it;
* a usage error is ONE line on stderr, ``error: <what is wrong> (see 'taxi-duration X --help')``,
  exit status 2 -- no usage dump, no traceback;
* every command takes ``--env`` and ``-q/--quiet``; those that talk to PostgreSQL take ``--dsn``
  (default: empty, so libpq's PG* environment variables apply).

The commands themselves are added by the command modules (``add_commands(sub, common)``).
"""

from __future__ import annotations

import argparse

PROG = "taxi-duration"

DESCRIPTION = """\
taxi-duration: train the NYC taxi trip-duration model, export bundles for the taxi_duration
PostgreSQL extension, manage the MLflow registry (promote, roll back), load real trips into
PostgreSQL and score them in SQL, and run the drift monitors.
"""

EPILOG = """\
Run 'taxi-duration COMMAND --help' for a command's options.

exit status:
  0  done
  1  the command ran and failed: the registry refused (unknown version, not published, nothing
     to roll back), a server or database was unreachable or returned an error, a bundle is
     invalid, a monitor failed
  2  the command line is wrong: a bad argument or value, or a file or data month that it names
     does not exist (also when a month's trips are neither in TAXI_DATA_DIR nor downloadable)
  Errors are one line on stderr starting with 'error:'.

environment:
  TAXI_DATA_DIR    directory of TLC parquet files (green_tripdata_YYYY-MM.parquet); a month
                   that is not there is downloaded from the TLC into TAXI_CACHE_DIR
  TAXI_CACHE_DIR   download cache and local MLflow store (default ~/.cache/taxi_duration)
  TAXI_DATA_URL    base URL of the month files (default: the TLC's CloudFront URL)
  TD_ENV           dev or prod: load .env.<env> as --env does
  PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ...
                   libpq's defaults, used by --dsn (empty by default)
  MLFLOW_TRACKING_URI, TD_MODEL_BUCKET, TD_MODEL_NAME, AWS_*
                   the model lifecycle (docs/model-lifecycle.md)
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; ``(default: X)`` after each option that has a meaningful default
    and whose help does not mention its default already."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or not action.option_strings:
            return text
        d = action.default
        if d is None or isinstance(d, bool) or d in ("", []) or d is argparse.SUPPRESS:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one ``error:`` line (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def add_command(sub, name: str, *, help: str, description: str, parents) -> Parser:
    """A subcommand with a one-line ``help`` (the command list) and a ``description``."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        parents=parents,
        formatter_class=HelpFormatter,
    )


def add_dsn(p: argparse.ArgumentParser, what: str = "the database") -> None:
    p.add_argument(
        "--dsn",
        default="",
        metavar="DSN",
        help=f"libpq connection string or URI of {what} (default: empty, so libpq's PGHOST, "
        "PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ... environment variables apply)",
    )


def common_options() -> argparse.ArgumentParser:
    """The options every command takes."""
    from ..config import ENVIRONMENTS

    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("common options")
    g.add_argument(
        "--env",
        choices=ENVIRONMENTS,
        default=None,
        help="load .env.<env> without overriding variables already set "
        "(default: $TD_ENV; neither: no file)",
    )
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars (they are drawn on stderr, and only when it is a terminal)",
    )
    return common


def build_parser() -> Parser:
    p = Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", required=True, title="commands")
    from . import export, flows, lifecycle, model, monitoring, trips

    common = [common_options()]
    for module in (model, lifecycle, trips, monitoring, export, flows):
        module.add_commands(sub, common)
    return p
