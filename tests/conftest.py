"""Fixtures shared by every pytest suite under tests/ (the only conftest.py).

Imports: the repository root (``model``) and tests/lib (``servers``, ``td_cluster``,
``lambda_rie``, ``aws_clients``, ``model_testing``, ...) are put on sys.path here, so test
modules import them directly.

Model tests (tests/python):
    synthetic_months, synthetic_xgb, synthetic_xgb_bundle   synthetic TLC-like trips, a small model
    data_dir, real_months, real_small_xgb, real_small_bundle  real TLC months (TAXI_DATA_DIR, else skipped)
    trips_2021_02                                             the filtered 2021-02 month (TAXI_DATA_DIR)

Missing prerequisites (data, built programs) skip the tests that need them, or fail them under
TD_TESTS_STRICT=1 (set by tests/{forwarder,lambda,streaming}/run.sh).

Throwaway PostgreSQL clusters (tests/lib/td_cluster.py):
    make_cluster(conf=(), env=None, preload=True, extension=True, port=None)
                              -> a started Cluster, stopped after the test
    make_module_cluster(...)  -> the same, stopped after the module
    make_module_standby(primary, conf=(), port=None)
                              -> a hot standby of `primary` (streaming), stopped after the module

Real servers (tests/lib/servers.py: moto with Kinesis/S3/IAM, MLflow):
    make_servers(auth=True, mlflow=False, bucket=...) -> a started Servers, stopped after the module
    moto                      moto alone, signature checking on (a module's own instance)
    aws_servers               the AWS emulator of the run (module scope): `moto` by default; under
                              TD_AWS_BACKEND=localstack, LocalStack 4.14.0 as a host process,
                              configured by docker-compose.local.yaml's service and its READY hook
                              (tests/lib/localstack_host.py); ``.backend`` is "moto" or "localstack"
    aws_client(service)       a boto3 client for `aws_servers` with its keys (tests/lib/aws_clients.py)
    prefect_server            `prefect server start` on a free loopback port, its own PREFECT_HOME
                              and SQLite database (tests/lib/prefect_server.py), for the module

Built programs (skipped when absent, unless their variable names them explicitly: then an
error; the suites' run.sh build them and set the variables):
    forwarder_bin   TD_FORWARDER_BIN, else forwarder/td-forwarder
    lambda_bootstrap, rie_bin   TD_LAMBDA_BOOTSTRAP (else lambda/build/bootstrap),
                    TD_RIE (else tests/lambda/.bin/aws-lambda-rie)

Work files: ``workdir`` is a per-module directory (TD_TEST_WORKDIR/<module> when set, so that a
run.sh can show logs after a failure).  ``note(msg)`` prints a measurement and repeats it in
the terminal summary (timings, throughput, duplicate counts), since pytest -q hides output.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIB = REPO / "tests" / "lib"
for _p in (str(LIB), str(REPO)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from aws_clients import aws_client as _aws_client  # noqa: E402
from model_testing import synthetic_raw  # noqa: E402
from prefect_server import PrefectServer  # noqa: E402
from servers import DEFAULT_BUCKET, Servers  # noqa: E402

AWS_BACKEND = os.environ.get("TD_AWS_BACKEND", "moto")
from td_cluster import Pool  # noqa: E402


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # `timeout` (the run.sh scripts) and CI stop a run with SIGTERM: stop as on Ctrl-C, so that
    # the fixtures' teardown still stops the servers, clusters and programs they started.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm)


def pytest_collection_modifyitems(config, items):
    # the markers follow from the fixtures a test uses (directly or through other fixtures)
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & {"make_cluster", "make_module_cluster", "make_module_standby"}:
            item.add_marker(pytest.mark.cluster)
        if names & {"make_servers", "moto", "aws_servers"}:
            item.add_marker(pytest.mark.servers)
        if "prefect_server" in names:
            item.add_marker(pytest.mark.prefect)


# -- model tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic_months():
    from taxi_duration_ml import data

    return (
        data.add_duration(synthetic_raw(3000, 1, "2099-01")),
        data.add_duration(synthetic_raw(1500, 2, "2099-02")),
    )


@pytest.fixture(scope="session")
def synthetic_xgb(synthetic_months):
    from taxi_duration_ml import train

    tr, va = synthetic_months
    return train.fit(
        tr,
        va,
        params={"max_depth": 4},
        max_rounds=40,
        early_stopping_rounds=5,
        train_month="2099-01",
        valid_month="2099-02",
    )


@pytest.fixture(scope="session")
def synthetic_xgb_bundle(synthetic_xgb, tmp_path_factory):
    from taxi_duration_ml import bundle

    path = tmp_path_factory.mktemp("bundles") / "synthetic.json"
    bundle.export(synthetic_xgb, path, version="test")
    return path


@pytest.fixture(scope="session")
def data_dir():
    d = os.environ.get("TAXI_DATA_DIR")
    if not d:
        pytest.skip("TAXI_DATA_DIR is not set: real TLC data tests skipped")
    for m in ("2021-01", "2021-02"):
        if not (Path(d) / f"green_tripdata_{m}.parquet").is_file():
            pytest.skip(f"green_tripdata_{m}.parquet not in TAXI_DATA_DIR={d}")
    return d


@pytest.fixture(scope="session")
def real_months(data_dir):
    from taxi_duration_ml import data

    return data.load_month("2021-01", data_dir, download=False), data.load_month(
        "2021-02", data_dir, download=False
    )


@pytest.fixture(scope="session")
def real_small_xgb(real_months):
    """A small XGBoost model trained on a few thousand real rows."""
    from taxi_duration_ml import train

    tr, va = real_months
    return train.fit(
        tr.iloc[:4000],
        va.iloc[:3000],
        params={"max_depth": 6},
        max_rounds=40,
        early_stopping_rounds=5,
        train_month="2021-01",
        valid_month="2021-02",
    )


@pytest.fixture(scope="session")
def real_small_bundle(real_small_xgb, tmp_path_factory):
    from taxi_duration_ml import bundle

    path = tmp_path_factory.mktemp("bundles") / "real_small.json"
    bundle.export(real_small_xgb, path)
    return path


def missing(reason: str):
    """Skip for a missing prerequisite (data, a built program); fail instead under
    TD_TESTS_STRICT=1, which the suites' run.sh set, so that a run.sh never passes by skipping."""
    if os.environ.get("TD_TESTS_STRICT") == "1":
        pytest.fail(f"{reason} (TD_TESTS_STRICT=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def trips_2021_02():
    """The filtered 2021-02 green trips (what the streaming suites insert), from TAXI_DATA_DIR
    or python/taxi_duration_ml/data.py's cache; never downloaded."""
    from taxi_duration_ml.data import load_month

    try:
        return load_month("2021-02", download=False)
    except FileNotFoundError as e:
        missing(f"real 2021-02 trips needed: {e}")


@pytest.fixture(scope="session")
def trips_2021_01_02(trips_2021_02):
    """The filtered green trips of January then February 2021 (about 130,000), one frame."""
    import pandas as pd

    from taxi_duration_ml.data import load_month

    try:
        january = load_month("2021-01", download=False)
    except FileNotFoundError as e:
        missing(f"real 2021-01 trips needed: {e}")
    return pd.concat([january, trips_2021_02], ignore_index=True)


# -- clusters -------------------------------------------------------------------------------------


@pytest.fixture
def make_cluster():
    """make_cluster(conf=(), env=None, preload=True, extension=True, port=None, initdb_args=())
    -> a started Cluster, stopped at the end of the test (port: default from TD_CLUSTER_PORT's
    range)."""
    pool = Pool()
    yield pool.make
    pool.close()


@pytest.fixture(scope="module")
def make_module_cluster():
    """The same, for clusters shared by a module's tests (stopped at the end of the module)."""
    pool = Pool()
    yield pool.make
    pool.close()


@pytest.fixture(scope="module")
def make_module_standby():
    """make_module_standby(primary, conf=(), env=None, port=None, slot=None) -> a started hot
    standby of `primary` (pg_basebackup -R, streaming; through physical slot `slot`), stopped at
    the end of the module."""
    pool = Pool()
    yield pool.make_standby
    pool.close()


# -- servers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def make_servers(tmp_path_factory):
    """make_servers(auth=True, mlflow=False, bucket=DEFAULT_BUCKET) -> a started Servers (its
    ``env`` dict holds the endpoint and keys), stopped at the end of the module.  Ports are free
    loopback ports; a watchdog stops the servers if this process dies."""
    started: list[Servers] = []

    def make(auth=True, mlflow=False, bucket=DEFAULT_BUCKET, **kw) -> Servers:
        s = Servers(
            str(tmp_path_factory.mktemp("servers")), auth=auth, mlflow=mlflow, bucket=bucket, **kw
        )
        s.start()  # stops what it started if it fails
        started.append(s)
        return s

    yield make
    for s in reversed(started):
        s.stop()


@pytest.fixture(scope="module")
def moto(make_servers) -> Servers:
    """moto (S3, IAM, Kinesis on one port) with signature checking on, for this module."""
    return make_servers(auth=True, mlflow=False)


@pytest.fixture(scope="module")
def aws_servers(request, tmp_path_factory):
    """The run's AWS emulator for this module: `moto` (TD_AWS_BACKEND unset or "moto"), or
    LocalStack 4.14.0 (TD_AWS_BACKEND=localstack; tests/localstack/run.sh), whose READY hook
    docker/localstack/init/ready.d/10-taxi-duration.sh has created the bucket and both streams
    (``.env`` names them: TD_MODEL_BUCKET, TD_TRIPS_STREAM, TD_PREDICTIONS_STREAM)."""
    if AWS_BACKEND == "moto":
        s = request.getfixturevalue("moto")
        s.backend = "moto"
        yield s
        return
    if AWS_BACKEND != "localstack":
        pytest.fail(f"TD_AWS_BACKEND={AWS_BACKEND!r}: moto or localstack", pytrace=False)
    from localstack_host import LocalStack

    ls = LocalStack(tmp_path_factory.mktemp("localstack"))
    ls.backend = "localstack"
    t0 = time.monotonic()
    try:
        ls.start()  # stops what it started if it fails
    except RuntimeError as e:
        pytest.fail(f"LocalStack: {e}", pytrace=False)
    request.getfixturevalue("note")(
        f"{request.module.__name__.rsplit('.', 1)[-1]}: LocalStack {ls.version} on "
        f"{ls.endpoint}, healthy (READY hook done) in {time.monotonic() - t0:.1f} s"
    )
    yield ls
    ls.stop()


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory) -> PrefectServer:
    """A real Prefect server (``prefect server start``) on a free 127.0.0.1 port with its own
    PREFECT_HOME and SQLite database, analytics and UI off; stopped at the end of the module.
    ``.api_url``, ``.client_env()`` for subprocesses, ``.settings()`` for this process."""
    s = PrefectServer(tmp_path_factory.mktemp("prefect"))
    s.start()  # stops what it started if it fails
    yield s
    s.stop()


@pytest.fixture(scope="module")
def aws_client(aws_servers):
    """aws_client("kinesis"), aws_client("s3", config=...) -> a boto3 client for `aws_servers`
    (moto, or LocalStack under TD_AWS_BACKEND=localstack) with its keys."""

    def make(service: str, **kw):
        return _aws_client(service, aws_servers.env, **kw)

    return make


# -- built programs -------------------------------------------------------------------------------


def _built(var: str, default: Path, how: str) -> Path:
    path = os.environ.get(var)
    if path:
        if not os.access(path, os.X_OK):
            pytest.fail(f"{var}={path} is not an executable")
        return Path(path)
    if not os.access(default, os.X_OK):
        missing(f"{default} is not built ({how}, or set {var})")
    return default


@pytest.fixture(scope="session")
def forwarder_bin() -> Path:
    return _built("TD_FORWARDER_BIN", REPO / "forwarder" / "td-forwarder", "make -C forwarder")


@pytest.fixture(scope="session")
def lambda_bootstrap() -> Path:
    return _built("TD_LAMBDA_BOOTSTRAP", REPO / "lambda" / "build" / "bootstrap", "make -C lambda")


@pytest.fixture(scope="session")
def rie_bin() -> Path:
    return _built(
        "TD_RIE", REPO / "tests" / "lambda" / ".bin" / "aws-lambda-rie", "bash tests/lambda/run.sh"
    )


# -- work files and notes -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(request, tmp_path_factory) -> Path:
    """A directory for the module's logs and state, readable by the postgres OS user."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    base = os.environ.get("TD_TEST_WORKDIR")
    if base:
        d = Path(base) / name
        d.mkdir(parents=True, exist_ok=True)
    else:
        d = tmp_path_factory.mktemp(name)
    os.chmod(d, 0o755)
    return d


_NOTES: list[str] = []


@pytest.fixture(scope="session")
def note():
    """note(msg): print a measurement now (seen with -s) and in the terminal summary."""

    def add(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        _NOTES.append(line)
        print(line, flush=True)

    return add


def pytest_terminal_summary(terminalreporter):
    if _NOTES:
        terminalreporter.section("measurements")
        for line in _NOTES:
            terminalreporter.write_line(line)
