"""docker-compose.local.yaml's LocalStack, run for real (TD_AWS_BACKEND=localstack, by
tests/localstack/run.sh): LocalStack 4.14.0 as a host process, configured from the compose file's
``localstack`` service (tests/lib/localstack_host.py), ran the READY hook the compose file mounts
(docker/localstack/init/ready.d/10-taxi-duration.sh) itself, and the hook made what the stack's
other services expect, by the names .env.dev gives them:

  * /_localstack/init/ready: completed, every script of the mounted directory ran in stage
    READY and ended SUCCESSFUL (what the compose healthcheck requires);
  * the bucket TD_MODEL_BUCKET in AWS_REGION; the streams TD_TRIPS_STREAM and
    TD_PREDICTIONS_STREAM, ACTIVE, TD_STREAM_SHARDS (default 2) shards each;
  * the gateway is the release the compose file pins, with S3 and Kinesis running (SERVICES);
  * the hook is idempotent: run again against the running gateway (as LocalStack runs it,
    awslocal on PATH), it finds everything and changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
from localstack_host import compose_service

pytestmark = [pytest.mark.servers]

REPO = Path(__file__).resolve().parents[2]
HOOKS = REPO / "docker" / "localstack" / "init" / "ready.d"


@pytest.fixture(scope="module")
def ls(request):
    if os.environ.get("TD_AWS_BACKEND") != "localstack":
        pytest.skip("LocalStack's compose hook: run with TD_AWS_BACKEND=localstack")
    return request.getfixturevalue("aws_servers")


@pytest.fixture(scope="module")
def svc():
    return compose_service()


def test_ready_hooks_of_the_mounted_directory_all_ran_successfully(ls):
    r = ls.init_ready
    scripts = {s["name"]: (s["stage"], s["state"]) for s in r.get("scripts", [])}
    want = {p.name: ("READY", "SUCCESSFUL") for p in HOOKS.iterdir() if p.suffix in (".sh", ".py")}
    assert want and r.get("completed") is True and scripts == want, r


def test_bucket_of_env_dev_exists_in_its_region(ls, aws_client, svc):
    bucket, region = svc["environment"]["TD_MODEL_BUCKET"], svc["environment"]["AWS_REGION"]
    assert bucket == svc["_dotenv"]["TD_MODEL_BUCKET"] and region == svc["_dotenv"]["AWS_REGION"]
    s3 = aws_client("s3")
    s3.head_bucket(Bucket=bucket)
    loc = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] or "us-east-1"
    assert loc == region, (bucket, loc, region)


@pytest.mark.parametrize("var", ["TD_TRIPS_STREAM", "TD_PREDICTIONS_STREAM"])
def test_streams_of_env_dev_exist_active_with_the_hooks_shard_count(ls, aws_client, svc, var):
    name = svc["environment"][var]
    assert name == svc["_dotenv"][var]
    d = aws_client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    shards = int(svc["environment"].get("TD_STREAM_SHARDS", "2"))
    assert (d["StreamStatus"], d["OpenShardCount"]) == ("ACTIVE", shards), d


def test_release_and_services_are_the_compose_files(ls, svc):
    with urllib.request.urlopen(ls.env["AWS_ENDPOINT_URL"] + "/_localstack/health") as r:
        h = json.loads(r.read())
    assert "localstack/localstack:" + h["version"] == svc["image"], (h["version"], svc["image"])
    running = {k for k, v in h["services"].items() if v in ("running", "available")}
    assert set(svc["environment"]["SERVICES"].split(",")) <= running, h["services"]


def test_the_hook_is_idempotent_against_the_running_gateway(ls, aws_client, svc):
    from localstack_host import installation

    root, venv = installation()
    env = {
        **svc["environment"],
        "PATH": f"{venv}/bin:/usr/bin:/bin",
        "LOCALSTACK_HOST": ls.env["AWS_ENDPOINT_URL"].removeprefix("http://"),
        "HOME": os.environ.get("HOME", "/root"),
    }
    cmd = ["bash", str(HOOKS / "10-taxi-duration.sh")]
    if root:  # the virtualenv lives in the trixie root: run the hook there
        cmd = [
            "chroot",
            root,
            "/usr/bin/env",
            "-i",
            *[f"{k}={v}" for k, v in env.items()],
            "bash",
            "-s",
        ]
        r = subprocess.run(
            cmd,
            input=(HOOKS / "10-taxi-duration.sh").read_text(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    else:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    e = svc["environment"]
    for line in (
        f"bucket {e['TD_MODEL_BUCKET']} exists",
        f"stream {e['TD_TRIPS_STREAM']} exists",
        f"stream {e['TD_PREDICTIONS_STREAM']} exists",
    ):
        assert line in r.stdout.splitlines(), r.stdout
