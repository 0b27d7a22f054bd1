"""A hot standby's loader worker follows a models:/name@alias URI on its own.

    python3 -m pytest tests/ha/test_replica_alias.py      (tests/ha/run.sh [MAJOR])

Real parts: moto (S3, signature checking on) holding two bundles, an MLflow tracking server
whose registry has a version for each (tagged bundle_uri and bundle_sha256, as the pipeline
publishes them), a primary and a hot standby whose taxi_duration.model_uri is
models:/taxi-duration@production.  The standby loads the aliased version, and when the alias
moves it loads the new one within its poll interval, with no write to the (replicated, read-only)
model_loads: its history is recent_model_loads().
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path

import pytest
from td_cluster import wait_until

REPO = Path(__file__).resolve().parents[2]
BUNDLES = {
    "small": REPO / "tests" / "fixtures" / "bundles" / "small_xgb.json",
    "linear": REPO / "tests" / "fixtures" / "bundles" / "linear.json",
}
MODEL = "taxi-duration"


class Registry:
    """The MLflow REST calls the pipeline's publish step makes (model/ uses the MLflow client)."""

    def __init__(self, tracking_uri: str):
        self.base = tracking_uri.rstrip("/") + "/api/2.0/mlflow/"

    def call(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def publish(self, bundle_uri: str, sha256: str) -> str:
        tags = [
            {"key": "bundle_uri", "value": bundle_uri},
            {"key": "bundle_sha256", "value": sha256},
        ]
        mv = self.call("model-versions/create", {"name": MODEL, "source": bundle_uri, "tags": tags})
        return mv["model_version"]["version"]

    def set_alias(self, alias: str, version: str) -> None:
        self.call("registered-models/alias", {"name": MODEL, "alias": alias, "version": version})


@pytest.fixture(scope="module")
def setup(make_servers, make_module_cluster, make_module_standby):
    try:
        servers = make_servers(auth=True, mlflow=True)
    except RuntimeError as e:  # no MLflow in the servers' virtualenv (tests/matrix.sh: best effort)
        pytest.skip(f"MLflow is not installed here: {e}")
    e = servers.env
    from aws_clients import aws_client
    from servers import alias_serving

    s3 = aws_client("s3", e)
    registry = Registry(e["MLFLOW_TRACKING_URI"])
    registry.call("registered-models/create", {"name": MODEL})
    versions, shas = {}, {}
    for name, path in BUNDLES.items():
        body = path.read_bytes()
        key = f"bundles/{name}.json"
        s3.put_object(Bucket=servers.bucket, Key=key, Body=body)
        shas[name] = hashlib.sha256(body).hexdigest()
        versions[name] = registry.publish(f"s3://{servers.bucket}/{key}", shas[name])
    registry.set_alias("production", versions["small"])

    primary = make_module_cluster(["taxi_duration.load_retry_interval = 1"])
    conf, keys = alias_serving(e, f"models:/{MODEL}@production")
    standby = make_module_standby(primary, conf, env=keys)
    return primary, standby, registry, versions, shas


def serving(cluster) -> str | None:
    """The sha256 of the bundle the cluster serves."""
    return cluster.sql("SELECT sha256 FROM taxi_duration.model_info()")[0][0]


def test_standby_loads_the_aliased_version(setup):
    _, standby, _, _, shas = setup
    wait_until(
        lambda: serving(standby) == shas["small"], 60, "the standby to load the aliased version"
    )
    assert standby.sql("SELECT pg_is_in_recovery()")[0][0] is True


def test_standby_follows_the_alias_when_it_moves(setup):
    primary, standby, registry, versions, shas = setup
    loads_before = standby.sql("SELECT count(*) FROM taxi_duration.model_loads")[0][0]
    registry.set_alias("production", versions["linear"])
    wait_until(
        lambda: serving(standby) == shas["linear"], 60, "the standby's worker to follow the alias"
    )
    rows = standby.sql(
        "SELECT outcome, source FROM taxi_duration.recent_model_loads() ORDER BY seq DESC LIMIT 1"
    )
    assert rows and rows[0][0] == "loaded", rows
    assert standby.sql("SELECT count(*) FROM taxi_duration.model_loads")[0][0] == loads_before
    # the primary serves what it was told to, unaffected
    assert serving(primary) not in (shas["small"], shas["linear"])
