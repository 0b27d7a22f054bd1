"""The Prefect side without a server: which errors are retried (real exception objects, a real
refused PostgreSQL connection), the retry options every network task carries and that CPU-only
tasks do not retry, the months of a scheduled training run, the deployments `serve` builds, and
that the flow commands refuse to run without PREFECT_API_URL or --local.

Retries under real faults against real servers: tests/prefect/test_retries.py; a scheduled run
on a real Prefect server: tests/prefect/test_scheduled_monitoring.py.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import subprocess
import sys
import urllib.error
from datetime import UTC, datetime

import pytest
from model_testing import REPO

from taxi_duration_ml import retries as RT


def _http_error(code: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("https://example.invalid/x", code, "x", {}, io.BytesIO(b""))


def _client_error(code: str, status: int):
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetObject",
    )


def _rest_exception(code: str):
    from mlflow.exceptions import RestException

    return RestException({"error_code": code, "message": code})


def _wrapped_refusal():
    """What MLflow's client raises when the server refuses the connection."""
    import requests
    from mlflow.exceptions import MlflowException

    try:
        try:
            raise requests.exceptions.ConnectionError("Connection refused")
        except Exception as e:
            raise MlflowException(f"API request to http://x failed with exception {e}")  # noqa: B904
    except MlflowException as outer:
        return outer


def _caused_by(inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as e:
            raise RuntimeError("wrapped") from e
    except RuntimeError as outer:
        return outer


TRANSIENT = {
    "HTTP 503": lambda: _http_error(503),
    "HTTP 429": lambda: _http_error(429),
    "URL error (refused)": lambda: urllib.error.URLError(ConnectionRefusedError(111, "refused")),
    "connection reset": lambda: ConnectionResetError(104, "reset"),
    "timeout": lambda: TimeoutError("timed out"),
    "incomplete read": lambda: http.client.IncompleteRead(b"", 10),
    "S3 SlowDown": lambda: _client_error("SlowDown", 503),
    "S3 500": lambda: _client_error("InternalError", 500),
    "boto endpoint unreachable": lambda: __import__(
        "botocore.exceptions"
    ).exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    "MLflow 503": lambda: _rest_exception("TEMPORARILY_UNAVAILABLE"),
    "MLflow refused (wrapped)": _wrapped_refusal,
    "cause: refused": lambda: _caused_by(ConnectionRefusedError(111, "refused")),
}
PERMANENT = {
    "HTTP 404": lambda: _http_error(404),
    "HTTP 403 (TLC month not published)": lambda: _http_error(403),
    "bad argument": lambda: ValueError("month must be 'YYYY-MM'"),
    "missing file": lambda: FileNotFoundError("x"),
    "bug": lambda: KeyError("x"),
    "S3 NoSuchKey": lambda: _client_error("NoSuchKey", 404),
    "S3 AccessDenied": lambda: _client_error("AccessDenied", 403),
    "no credentials": lambda: __import__("botocore.exceptions").exceptions.NoCredentialsError(),
    "MLflow 404": lambda: _rest_exception("RESOURCE_DOES_NOT_EXIST"),
    "MLflow 400": lambda: _rest_exception("INVALID_PARAMETER_VALUE"),
    "cause: bad argument": lambda: _caused_by(ValueError("x")),
    "none": lambda: None,
}


@pytest.mark.parametrize("name", sorted(TRANSIENT))
def test_transient_errors_are_retried(name):
    assert RT.is_transient(TRANSIENT[name]()) is True


@pytest.mark.parametrize("name", sorted(PERMANENT))
def test_permanent_errors_are_not(name):
    assert RT.is_transient(PERMANENT[name]()) is False


def test_postgresql_errors(tmp_path):
    import psycopg

    with pytest.raises(psycopg.OperationalError) as down:  # no server on that socket
        psycopg.connect(f"host={tmp_path} port=1 dbname=x connect_timeout=2")
    assert RT.is_transient(down.value)
    with pytest.raises(psycopg.ProgrammingError) as bad:  # a typo in the DSN
        psycopg.connect("no_such_option=1")
    assert not RT.is_transient(bad.value)
    with pytest.raises(psycopg.OperationalError) as port:
        psycopg.connect(f"host={tmp_path} port=99999999")
    assert not RT.is_transient(port.value)


def test_retry_options_follow_the_environment(monkeypatch):
    monkeypatch.setenv("TD_TASK_RETRIES", "4")
    monkeypatch.setenv("TD_RETRY_BACKOFF_SECONDS", "1.5")
    o = RT.network_retries()
    assert o["retries"] == 4
    assert o["retry_delay_seconds"] == [1.5, 3.0, 6.0, 12.0]
    assert o["retry_jitter_factor"] == 0.5 and o["retry_condition_fn"] is RT.retry_if_transient
    monkeypatch.setenv("TD_TASK_RETRIES", "0")
    assert RT.network_retries()["retries"] == 0
    monkeypatch.setenv("TD_TASK_RETRIES", "-1")
    with pytest.raises(ValueError, match="TD_TASK_RETRIES"):
        RT.network_retries()
    monkeypatch.delenv("TD_TASK_RETRIES")
    monkeypatch.delenv("TD_RETRY_BACKOFF_SECONDS")
    assert RT.network_retries()["retry_delay_seconds"] == [10.0, 20.0, 40.0]


NETWORK_TASKS = {
    "flow": [
        "load_month",
        "start_run",
        "log_trials",
        "log_run",
        "register_version",
        "publish_bundle",
        "production_version",
        "read_production_bundle",
        "promote_version",
        "finish_run",
    ],
    "monitor_flow": ["alert_watermark", "run_monitors", "new_alerts", "render_report"],
}
CPU_TASKS = {"flow": ["train_candidates", "export_bundle", "decide_promotion"]}


def test_every_network_task_retries_and_cpu_tasks_do_not():
    import importlib

    for module, names in NETWORK_TASKS.items():
        m = importlib.import_module(f"taxi_duration_ml.{module}")
        for n in names:
            t = getattr(m, n)
            assert t.retries == RT.retries() and t.retries > 0, (module, n)
            assert t.retry_condition_fn is RT.retry_if_transient, (module, n)
            assert t.retry_jitter_factor == RT.JITTER_FACTOR, (module, n)
            d = t.retry_delay_seconds
            assert all(b == 2 * a for a, b in zip(d, d[1:], strict=False)), (n, d)
    for module, names in CPU_TASKS.items():
        m = importlib.import_module(f"taxi_duration_ml.{module}")
        for n in names:
            assert getattr(m, n).retries == 0, (module, n)


def test_months_of_a_scheduled_run():
    from taxi_duration_ml.flow import resolve_months, shift_month

    assert shift_month("2021-01", -1) == "2020-12" and shift_month("2020-12", 13) == "2022-01"
    may = datetime(2026, 5, 20, 6, tzinfo=UTC)
    assert resolve_months(None, None, 2, may) == ("2026-02", "2026-03")
    assert resolve_months(None, None, 2, datetime(2026, 2, 1, tzinfo=UTC)) == ("2025-11", "2025-12")
    assert resolve_months("2021-01", "2021-02", 2, may) == ("2021-01", "2021-02")
    with pytest.raises(ValueError, match="both"):
        resolve_months("2021-01", None, 2, may)
    with pytest.raises(ValueError, match="lag_months"):
        resolve_months(None, None, 0, may)
    with pytest.raises(ValueError, match="YYYY-MM"):
        resolve_months("2021-13", "2021-02", 2, may)


def _serve_args(*argv):
    from taxi_duration_ml import deployments as DP

    p = argparse.ArgumentParser()
    DP.add_arguments(p)
    return p.parse_args(list(argv))


def test_deployments_built_from_options_and_environment(monkeypatch):
    from taxi_duration_ml import deployments as DP

    for k in ("TD_TRAIN_CRON", "TD_MONITOR_CRON", "TD_SCHEDULE_TIMEZONE", "TD_TRAIN_MONTH"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv("TD_VALID_MONTH", raising=False)
    monkeypatch.setenv("TD_MONITOR_DSN", "host=/tmp dbname=trips")
    monkeypatch.setenv("TD_MONITORS", "daily, hourly")
    monkeypatch.setenv("TD_DATA_LAG_MONTHS", "3")
    train, mon = DP.build(DP.options(_serve_args("--timezone", "Europe/Helsinki")))
    assert (train.flow_name, train.name) == ("taxi-duration-training", "training")
    assert (mon.flow_name, mon.name) == ("taxi-duration-monitoring", "monitoring")
    assert [s.schedule.cron for s in train.schedules] == [DP.DEFAULT_TRAIN_CRON]
    assert [s.schedule.cron for s in mon.schedules] == [DP.DEFAULT_MONITOR_CRON]
    assert {s.schedule.timezone for s in train.schedules + mon.schedules} == {"Europe/Helsinki"}
    assert train.parameters == {"lag_months": 3}
    assert mon.parameters == {"dsn": "host=/tmp dbname=trips", "monitors": ["daily", "hourly"]}
    assert train.entrypoint == "taxi_duration_ml.flow.training_flow"
    assert mon.entrypoint == "taxi_duration_ml.monitor_flow.monitoring_flow"
    # options win over the environment; fixed months; monitoring only
    (only,) = DP.build(
        DP.options(_serve_args("--no-training", "--monitor-cron", "*/5 * * * *", "--dsn", "x"))
    )
    assert only.name == "monitoring" and only.parameters["dsn"] == "x"
    assert [s.schedule.cron for s in only.schedules] == ["*/5 * * * *"]
    (fixed,) = DP.build(
        DP.options(_serve_args("--no-monitoring", "--train", "2021-01", "--valid", "2021-02"))
    )
    assert fixed.parameters == {"train_month": "2021-01", "valid_month": "2021-02", "lag_months": 3}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--no-monitoring", "--train-cron", "every day"], "Invalid cron string"),
        (["--no-monitoring", "--timezone", "Mars/Olympus"], "Invalid timezone"),
        (["--no-monitoring", "--train", "2021-01"], "both --train and --valid"),
        (["--no-monitoring", "--train", "2021-1", "--valid", "2021-02"], "YYYY-MM"),
        (["--no-monitoring", "--lag-months", "0"], ">= 1"),
        ([], "needs --dsn"),
    ],
)
def test_bad_serve_options(monkeypatch, argv, message):
    from taxi_duration_ml import deployments as DP

    monkeypatch.delenv("TD_MONITOR_DSN", raising=False)
    with pytest.raises(DP.UsageError, match=message):
        DP.build(DP.options(_serve_args(*argv)))


def _cli(*argv, tmp_path, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TD_"))}
    env.update(
        {
            "PYTHONPATH": str(REPO / "python"),
            "PREFECT_HOME": str(tmp_path / "prefect-home"),  # no profile naming a server
            "TAXI_CACHE_DIR": str(tmp_path / "cache"),
            **(extra_env or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "taxi_duration_ml", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["monitor", "--dsn", "host=/nonexistent"],
        ["train", "--train", "2021-01", "--valid", "2021-02"],
        ["serve", "--dsn", "host=/nonexistent"],
    ],
    ids=["monitor", "train", "serve"],
)
def test_flow_commands_need_a_prefect_server_or_local(argv, tmp_path):
    p = _cli(*argv, tmp_path=tmp_path)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert "PREFECT_API_URL" in lines[0] and "Traceback" not in p.stderr
    if argv[0] != "serve":
        assert "--local" in lines[0]
    assert p.stdout == ""
