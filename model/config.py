"""Environment configuration: ``.env.dev`` / ``.env.prod`` at the repository root.

All of the model lifecycle reads its configuration from environment variables (the standard AWS
names, ``MLFLOW_TRACKING_URI``, ``TD_*``). :func:`load_env` fills them from ``.env.<name>`` — the
name comes from ``--env`` on the command line or ``TD_ENV`` — WITHOUT overriding a variable that is
already set, so ``AWS_ENDPOINT_URL=http://127.0.0.1:5001 python -m model versions --env dev`` talks
to that endpoint.

File syntax: ``KEY=VALUE`` lines, ``#`` comments and blank lines ignored, an optional leading
``export``, values optionally in single or double quotes (no interpolation).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "prod")
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def env_file(name: str) -> Path:
    if name not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {name!r} (one of {', '.join(ENVIRONMENTS)})")
    return REPO / f".env.{name}"


def parse_env_file(path: str | os.PathLike) -> dict[str, str]:
    out: dict[str, str] = {}
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise ValueError(f"{path}:{n}: not KEY=VALUE: {raw!r}")
        key, val = m.group(1), m.group(2)
        if len(val) >= 2 and val[0] == val[-1] and val[0] in "'\"":
            val = val[1:-1]
        elif " #" in val:  # trailing comment after an unquoted value
            val = val.split(" #", 1)[0].rstrip()
        out[key] = val
    return out


def load_env(name: str | None = None, environ=None) -> dict[str, str]:
    """Load ``.env.<name>`` (``name`` or ``$TD_ENV``; nothing when neither is set) into ``environ``
    (default ``os.environ``) without overriding variables already set. Returns what was set."""
    environ = os.environ if environ is None else environ
    name = name or environ.get("TD_ENV") or None
    if not name:
        return {}
    values = parse_env_file(env_file(name))
    added = {}
    for k, v in values.items():
        if k not in environ:
            environ[k] = v
            added[k] = v
    environ.setdefault("TD_ENV", name)
    return added
