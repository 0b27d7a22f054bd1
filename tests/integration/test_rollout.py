"""Model lifecycle end to end, on real servers: moto (S3, signature checking on), an MLflow
tracking server, and a PostgreSQL cluster with the extension preloaded.

train (the real pipeline) → register → alias production → every backend serves it within the
poll interval, predicting exactly what XGBoost predicts → a better version is promoted and served
→ rollback.  Then faults — wrong credentials, S3 stopped mid-load, statement_timeout, a garbage
object, a 100 MB object, MLflow down — each leaves the previous model serving.  Secrets stay out
of SHOW, pg_settings, error messages and the server log.

Run by tests/run_all.sh (``python3 -m pytest tests/integration``); needs TAXI_DATA_DIR.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
from aws_clients import aws_client

from taxi_duration_ml.bundle import loads_bundle
from taxi_duration_ml.config import env_file, parse_env_file
from taxi_duration_ml.data import load_month

REPO = Path(__file__).resolve().parents[2]

if not os.environ.get("TAXI_DATA_DIR"):
    pytest.skip(
        "TAXI_DATA_DIR is not set: the lifecycle test trains on real TLC months",
        allow_module_level=True,
    )

# names from .env.dev, as every dev component reads them; endpoints and keys come from the
# servers this test starts
DEV = parse_env_file(env_file("dev"))
MODEL = DEV["TD_MODEL_NAME"]
ALIAS_URI = DEV["TD_MODEL_URI"]
POLL_SECONDS = 1
PORT = int(os.environ.get("TD_ROLLOUT_PORT", "54430"))


def sh(cmd: str, env=None) -> None:
    subprocess.run(["bash", "-c", cmd], check=True, cwd=REPO, env=env)


@pytest.fixture(scope="module")
def servers(make_servers):
    s = make_servers(auth=True, mlflow=True, bucket=DEV["TD_MODEL_BUCKET"])
    assert s.env["AWS_REGION"] == DEV["AWS_REGION"]
    return s


@pytest.fixture(scope="module")
def pipeline_env(servers):
    env = dict(os.environ)
    env.update(servers.env)
    env["TD_MODEL_NAME"] = MODEL
    env.pop("TD_ENV", None)
    return env


@pytest.fixture(scope="module")
def pg(servers, tmp_path_factory):
    """A cluster configured to serve models:/taxi-duration@production, credentials in its environment."""
    d = Path("/tmp") / f"td_rollout_{os.getpid()}"
    e = servers.env
    conf = "\n".join(
        [
            "shared_preload_libraries = 'taxi_duration'",
            f"taxi_duration.model_uri = '{ALIAS_URI}'",
            f"taxi_duration.poll_interval = {POLL_SECONDS}",
            "taxi_duration.fetch_timeout = 5",
            "taxi_duration.load_retry_interval = 1",
            f"taxi_duration.aws_endpoint_url = '{e['AWS_ENDPOINT_URL']}'",
            f"taxi_duration.aws_region = '{e['AWS_REGION']}'",
            f"taxi_duration.mlflow_tracking_uri = '{e['MLFLOW_TRACKING_URI']}'",
            "log_min_messages = debug1",
        ]
    )
    env = dict(os.environ)
    env["AWS_ACCESS_KEY_ID"] = e["AWS_ACCESS_KEY_ID"]
    env["AWS_SECRET_ACCESS_KEY"] = e["AWS_SECRET_ACCESS_KEY"]
    sh(
        f'. tests/lib/cluster.sh && td_cluster_start {d} {PORT} "$TD_CONF"',
        env={**env, "TD_CONF": conf},
    )
    dsn = f"host={d} port={PORT} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE EXTENSION taxi_duration")
    sh(f"taxi-duration load-trips --dsn '{dsn}' --month 2021-02 --table trips >/dev/null")
    yield {"dsn": dsn, "dir": d, "log": d / "server.log"}
    sh(f". tests/lib/cluster.sh && td_cluster_stop {d}")


def connect(pg):
    return psycopg.connect(pg["dsn"], autocommit=True)


def served_version(conn) -> str | None:
    return conn.execute("SELECT model_version FROM taxi_duration.model_info()").fetchone()[0]


def wait_for_version(conns, version: str, timeout: float = 20.0) -> float:
    """Seconds until every connection's next statement predicts with `version`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if all(served_version(c) == version for c in conns):
            # model_info() shows what is published; the next statement of each backend uses it
            return time.monotonic() - t0
        time.sleep(0.05)
    raise AssertionError(
        f"version {version} not served after {timeout} s: {[served_version(c) for c in conns]}"
    )


def train(env, rounds: int, depth: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "taxi_duration_ml",
            "train",
            "--train",
            "2021-01",
            "--valid",
            "2021-02",
            "--max-rounds",
            str(rounds),
            "--max-depth",
            str(depth),
            "--local",
        ],
        check=True,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def s3_client(servers):
    return aws_client("s3", servers.env)


def bundle_key(version: str) -> str:
    return f"{MODEL}/{version}/bundle.json"


def test_promoted_version_is_served_everywhere_and_matches_xgboost(pg, servers, pipeline_env):
    conns = [connect(pg) for _ in range(3)]
    train(pipeline_env, rounds=8, depth=4)
    wait_for_version(conns, "1")
    # every backend predicts with it, and exactly what XGBoost predicts
    body = (
        s3_client(servers)
        .get_object(Bucket=servers.env["TD_MODEL_BUCKET"], Key=bundle_key("1"))["Body"]
        .read()
    )
    bundle = loads_bundle(body)
    want = bundle.predict(load_month("2021-02")).astype(np.float64)
    for c in conns:
        got = np.array(
            [
                r[0]
                for r in c.execute(
                    "SELECT taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance,"
                    " lpep_pickup_datetime) FROM trips ORDER BY ride_id"
                )
            ],
            dtype=np.float64,
        )
        assert np.array_equal(got, want)
    info = conns[0].execute("SELECT source, sha256 FROM taxi_duration.model_info()").fetchone()
    assert info == (ALIAS_URI, hashlib.sha256(body).hexdigest())


def test_better_version_rolls_out_and_rollback_restores(pg, pipeline_env):
    conns = [connect(pg) for _ in range(3)]
    train(pipeline_env, rounds=30, depth=6)  # better: promoted by the pipeline
    wait_for_version(conns, "2")
    subprocess.run(
        [sys.executable, "-m", "taxi_duration_ml", "rollback"],
        check=True,
        cwd=REPO,
        env=pipeline_env,
        stdout=subprocess.DEVNULL,
    )
    wait_for_version(conns, "1")
    subprocess.run(
        [sys.executable, "-m", "taxi_duration_ml", "promote", "--version", "2"],
        check=True,
        cwd=REPO,
        env=pipeline_env,
        stdout=subprocess.DEVNULL,
    )
    wait_for_version(conns, "2")


def expect_failed_load(conn, uri: str, sqlstate: str, contains: str | None = None):
    before = conn.execute("SELECT sha256, model_version FROM taxi_duration.model_info()").fetchone()
    p_before = conn.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()[0]
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT * FROM taxi_duration.load_model(%s)", (uri,))
    assert err.value.sqlstate == sqlstate, (err.value.sqlstate, str(err.value))
    if contains:
        assert contains in str(err.value) + str(err.value.diag.message_detail), str(err.value)
    after = conn.execute("SELECT sha256, model_version FROM taxi_duration.model_info()").fetchone()
    assert after == before, "a failed load changed the served model"
    assert (
        conn.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()[0]
        == p_before
    )
    return err.value


def test_wrong_credentials_are_refused_and_never_shown(pg, servers):
    """Keys from a credentials file (here: a wrong secret) are refused by S3's signature check,
    and neither the wrong nor the right secret shows up in errors, SHOW, pg_settings or the log."""
    secret = "wrong" + "S3cr3t" * 5
    creds = pg["dir"] / "aws-credentials"
    creds.write_text(
        f"[default]\naws_access_key_id = {servers.env['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {secret}\n"
    )
    sh(f"chown postgres: {creds} && chmod 600 {creds}")
    with connect(pg) as c:
        c.execute(f"ALTER SYSTEM SET taxi_duration.aws_shared_credentials_file = '{creds}'")
        c.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)
        err = expect_failed_load(
            c,
            f"s3://{servers.env['TD_MODEL_BUCKET']}/{bundle_key('1')}",
            "42501",
            "SignatureDoesNotMatch",
        )
        assert secret not in str(err) and secret not in str(err.diag.message_detail)
        # ordinary roles can neither SHOW where the keys are nor find them in pg_settings
        c.execute("CREATE ROLE td_reader")
        c.execute("SET ROLE td_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SHOW taxi_duration.aws_shared_credentials_file")
        assert (
            c.execute(
                "SELECT count(*) FROM pg_settings WHERE name = "
                "'taxi_duration.aws_shared_credentials_file'"
            ).fetchone()[0]
            == 0
        )
        for s in (secret, servers.env["AWS_SECRET_ACCESS_KEY"]):
            assert (
                c.execute(
                    "SELECT count(*) FROM pg_settings WHERE setting LIKE %s", (f"%{s}%",)
                ).fetchone()[0]
                == 0
            )
        c.execute("RESET ROLE")
        c.execute("DROP ROLE td_reader")
        # a profile without keys: a clear error that shows no file contents
        c.execute("ALTER SYSTEM SET taxi_duration.aws_profile = 'nobody'")
        c.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)
        expect_failed_load(
            c,
            f"s3://{servers.env['TD_MODEL_BUCKET']}/{bundle_key('1')}",
            "F0000",
            'has no key pair for profile "nobody"',
        )
        c.execute("ALTER SYSTEM RESET taxi_duration.aws_profile")
        c.execute("ALTER SYSTEM RESET taxi_duration.aws_shared_credentials_file")
        c.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)
        c.execute(
            "SELECT * FROM taxi_duration.load_model(%s)",
            (f"s3://{servers.env['TD_MODEL_BUCKET']}/{bundle_key('2')}",),
        )
    log = pg["log"].read_text(errors="replace")
    assert secret not in log
    assert servers.env["AWS_SECRET_ACCESS_KEY"] not in log


def test_s3_stopped_mid_load_times_out(pg, servers):
    uri = f"s3://{servers.env['TD_MODEL_BUCKET']}/{bundle_key('1')}"
    with connect(pg) as c:
        servers.pause_moto()
        try:
            t0 = time.monotonic()
            expect_failed_load_paused(c, uri, "08006")
            assert time.monotonic() - t0 < 15
            c.execute("SET statement_timeout = '1s'")
            t0 = time.monotonic()
            with pytest.raises(psycopg.errors.QueryCanceled):
                c.execute("SELECT * FROM taxi_duration.load_model(%s)", (uri,))
            assert time.monotonic() - t0 < 4, "statement_timeout did not interrupt the download"
            c.execute("RESET statement_timeout")
        finally:
            servers.resume_moto()
        assert c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()[0] > 0


def expect_failed_load_paused(conn, uri, sqlstate):
    """Like expect_failed_load, for when S3 is down (model_info needs no S3)."""
    before = conn.execute("SELECT sha256 FROM taxi_duration.model_info()").fetchone()
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT * FROM taxi_duration.load_model(%s)", (uri,))
    assert err.value.sqlstate == sqlstate, (err.value.sqlstate, str(err.value))
    assert conn.execute("SELECT sha256 FROM taxi_duration.model_info()").fetchone() == before


def test_corrupt_and_oversized_objects_are_rejected(pg, servers):
    s3 = s3_client(servers)
    bucket = servers.env["TD_MODEL_BUCKET"]
    garbage = os.urandom(4096)
    s3.put_object(
        Bucket=bucket,
        Key="faults/garbage.json",
        Body=garbage,
        Metadata={"sha256": hashlib.sha256(garbage).hexdigest()},
    )
    s3.put_object(
        Bucket=bucket,
        Key="faults/tampered.json",
        Body=b'{"format": 1}',
        Metadata={"sha256": "0" * 64},
    )
    s3.put_object(Bucket=bucket, Key="faults/huge.json", Body=b" " * (100 * 1024 * 1024))
    with connect(pg) as c:
        expect_failed_load(c, f"s3://{bucket}/faults/garbage.json", "22023")
        expect_failed_load(c, f"s3://{bucket}/faults/tampered.json", "XX001")
        t0 = time.monotonic()
        expect_failed_load(c, f"s3://{bucket}/faults/huge.json", "54000")
        assert time.monotonic() - t0 < 5
        expect_failed_load(c, f"s3://{bucket}/faults/missing.json", "42704")


def test_mlflow_down_keeps_serving(pg, servers):
    with connect(pg) as c:
        version = served_version(c)
        servers.stop_mlflow()
        expect_failed_load(c, ALIAS_URI, "08006")
        time.sleep(2 * POLL_SECONDS)
        assert served_version(c) == version
        assert c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()[0] > 0


def test_every_load_is_recorded(pg):
    with connect(pg) as c:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = c.execute(
                "SELECT outcome, trigger, model_version, sha256,"
                " concat_ws(': ', message, detail) FROM taxi_duration.model_loads ORDER BY id"
            ).fetchall()
            if any(r[0] == "failed" and r[1] == "load_model" for r in rows):
                break
            time.sleep(0.2)
        outcomes = {(r[0], r[2]) for r in rows}
        assert ("loaded", "1") in outcomes and ("loaded", "2") in outcomes
        assert any(r[0] == "loaded" and r[1] == "worker poll" for r in rows)
        assert any(r[0] == "failed" and "SignatureDoesNotMatch" in (r[4] or "") for r in rows)
        assert all(len(r[3]) == 64 for r in rows if r[0] == "loaded")
