"""boto3 clients for the test servers (tests/lib/servers.py), in one place.

    from aws_clients import aws_client
    kinesis = aws_client("kinesis", servers.env)   # the env dict Servers.start() returns
    s3 = aws_client("s3")                          # or the process environment

The endpoint, region and keys come from ``env`` (``Servers.env``, the KEY=VALUE file written
by ``servers.py start``, or ``os.environ`` by default): AWS_ENDPOINT_URL, AWS_REGION (default
eu-north-1, the servers' region) and, when present, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
(moto started with ``--auth`` checks their signatures).  Used by tests/conftest.py's
``aws_client`` fixture, the test modules and the bench scripts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_REGION = "eu-north-1"


def aws_client(service: str, env: Mapping[str, str] | None = None, **kw):
    """A boto3 client for `service` against the endpoint and keys in `env` (default os.environ).

    Extra keyword arguments (e.g. ``config=``) go to ``boto3.client``."""
    import boto3

    env = os.environ if env is None else env
    args = {
        "endpoint_url": env.get("AWS_ENDPOINT_URL") or None,
        "region_name": env.get("AWS_REGION") or DEFAULT_REGION,
    }
    if env.get("AWS_ACCESS_KEY_ID"):
        args["aws_access_key_id"] = env["AWS_ACCESS_KEY_ID"]
        args["aws_secret_access_key"] = env.get("AWS_SECRET_ACCESS_KEY", "")
    args.update(kw)
    return boto3.client(service, **args)


def load_env_file(path: str | os.PathLike) -> dict[str, str]:
    """The KEY=VALUE lines of a ``servers.py start`` state file (DIR/env) as a dict."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
    return env
