"""Environment configuration: ``.env.dev`` / ``.env.prod``.

All of the model lifecycle reads its configuration from environment variables (the standard AWS
names, ``MLFLOW_TRACKING_URI``, ``TD_*``). :func:`load_env` fills them from ``.env.<name>`` — the
name comes from ``--env`` on the command line or ``TD_ENV`` — WITHOUT overriding a variable that is
already set, so ``AWS_ENDPOINT_URL=http://127.0.0.1:5001 taxi-duration versions --env dev`` talks
to that endpoint.

Where ``.env.<name>`` is looked for: ``$TD_ENV_DIR``, else the current directory, else the
checkout this package runs from (an editable install).  The syntax is python-dotenv's
(``KEY=VALUE``, ``#`` comments, ``export``, quotes); a line it cannot parse is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "prod")


def env_file(name: str, environ=None) -> Path:
    """The ``.env.<name>`` file to read (see the module's docstring for where it is looked for)."""
    environ = os.environ if environ is None else environ
    if name not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {name!r} (one of {', '.join(ENVIRONMENTS)})")
    dirs = [Path(environ["TD_ENV_DIR"])] if environ.get("TD_ENV_DIR") else [Path.cwd(), CHECKOUT]
    for d in dirs:
        if (d / f".env.{name}").is_file():
            return d / f".env.{name}"
    raise FileNotFoundError(
        f".env.{name} not found in {' or '.join(str(d) for d in dirs)} (set TD_ENV_DIR)"
    )


def parse_env_file(path: str | os.PathLike) -> dict[str, str]:
    """The variables of a dotenv file; ValueError names the first line that is not KEY=VALUE."""
    from dotenv.parser import parse_stream

    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for binding in parse_stream(f):
            if binding.error:
                raise ValueError(
                    f"{path}:{binding.original.line}: not KEY=VALUE: {binding.original.string!r}"
                )
            if binding.key is not None:
                out[binding.key] = binding.value or ""
    return out


def load_env(name: str | None = None, environ=None) -> dict[str, str]:
    """Load ``.env.<name>`` (``name`` or ``$TD_ENV``; nothing when neither is set) into ``environ``
    (default ``os.environ``) without overriding variables already set. Returns what was set."""
    environ = os.environ if environ is None else environ
    name = name or environ.get("TD_ENV") or None
    if not name:
        return {}
    values = parse_env_file(env_file(name, environ))
    added = {}
    for k, v in values.items():
        if k not in environ:
            environ[k] = v
            added[k] = v
    environ.setdefault("TD_ENV", name)
    return added
