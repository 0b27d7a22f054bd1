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


def ready_streams(kinesis, servers, shards: Mapping[str, int]) -> None:
    """Make the Kinesis streams ``shards`` names ({name: shard count}) ready on ``servers``
    (conftest's ``aws_servers``): created on moto; on LocalStack, the compose file's READY hook
    (docker/localstack/init/ready.d/10-taxi-duration.sh) created them, so they are only checked:
    named as the hook names them (TD_TRIPS_STREAM, TD_PREDICTIONS_STREAM of .env.dev) and ACTIVE,
    with the hook's shard count.  Raises AssertionError when they are not."""
    if getattr(servers, "backend", "moto") == "localstack":
        hooked = {servers.env["TD_TRIPS_STREAM"], servers.env["TD_PREDICTIONS_STREAM"]}
        assert set(shards) <= hooked, f"streams {sorted(shards)}: the READY hook creates {hooked}"
        for name in shards:
            d = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
            assert d["StreamStatus"] == "ACTIVE", f"{name}: {d['StreamStatus']}"
        return
    for name, n in shards.items():
        kinesis.create_stream(StreamName=name, ShardCount=n)
    for name in shards:
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
