"""Errors of the command line and how known exceptions become one ``error: ...`` line.

Exit statuses (also in ``taxi-duration --help``):

* 0 -- done;
* 1 -- the command ran and failed: the registry refused (unknown version, not published, nothing
  to roll back), a server or database was unreachable or returned an error, a bundle is invalid,
  a monitor failed;
* 2 -- the command line is wrong: bad arguments or values (argparse), or a file or data month it
  names does not exist or cannot be read.

:func:`describe` maps the exceptions users cause to (status, message); anything else is a bug
and keeps its traceback.  Library modules are only consulted when already imported, so this
module imports nothing heavy.
"""

from __future__ import annotations

import sys

OK, FAILED, USAGE = 0, 1, 2


class CliError(Exception):
    """A user-facing error: its message is printed as ``error: <message>``."""

    status = FAILED


class UsageError(CliError):
    """The command line or an input it names is wrong (exit status 2)."""

    status = USAGE


class CommandFailed(CliError):
    """The command ran and could not do its job (exit status 1)."""

    status = FAILED


def one_line(text) -> str:
    """``text`` with its lines and runs of blanks joined by single spaces."""
    return " ".join(str(text).split())


def _loaded(module: str, *names: str) -> tuple[type, ...]:
    """Exception classes of ``module`` if it is already imported (else none can be raised)."""
    mod = sys.modules.get(module)
    return tuple(getattr(mod, n) for n in names if mod is not None and hasattr(mod, n))


def describe(e: BaseException) -> tuple[int, str] | None:
    """(exit status, one-line message) for a known user error; None for anything else."""
    if isinstance(e, CliError):
        return e.status, one_line(e)
    if isinstance(e, _loaded("taxi_duration_ml.data", "MissingDataError")):
        return USAGE, one_line(e)
    if isinstance(e, FileNotFoundError | IsADirectoryError | NotADirectoryError | PermissionError):
        if e.filename is not None:
            return USAGE, one_line(f"{e.filename}: {e.strerror}")
        return USAGE, one_line(e)
    if isinstance(e, _loaded("taxi_duration_ml.bundle", "BundleError")):
        return FAILED, one_line(f"invalid bundle: {e}")
    if isinstance(e, _loaded("taxi_duration_ml.registry", "RegistryError")):
        return FAILED, one_line(e)
    if isinstance(e, _loaded("psycopg", "Error")):
        return FAILED, one_line(e) or type(e).__name__
    if isinstance(e, _loaded("mlflow.exceptions", "MlflowException")):
        return FAILED, one_line(getattr(e, "message", e))
    if isinstance(e, _loaded("botocore.exceptions", "BotoCoreError", "ClientError")):
        return FAILED, one_line(e)
    return None
