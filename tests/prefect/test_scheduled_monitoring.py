"""The deployments against a REAL Prefect server started by the test (`prefect server start`, its
own SQLite database): `taxi-duration serve` registers the training and the monitoring deployment
with their cron schedules; the server's scheduler creates a monitoring run from the schedule
(every minute here), the serving process picks it up and runs it in a subprocess, and the run
reaches Completed — read back through the Prefect client API, with the run's state history, its
tasks, and what it did to the database.

The monitored database is a real cluster (tests/lib/td_cluster.py) with one monitor on real
trips: the reference is 1-7 February 2021, the live table 8-9 February moved to three and two
days before today, so the monitor has three complete daily windows to compute (the last one
empty). Needs TAXI_DATA_DIR (2021-02). About 1-2 minutes: up to one minute waiting for the
cron's next minute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect_server import clean_environ
from servers import _kill_group

MONITOR = "daily_trips_sched"
EVERY_MINUTE = "* * * * *"
RUN_TIMEOUT = 150  # seconds from registration to the scheduled run's end (cron wait ≤ 60 s)

TABLES = """
CREATE TABLE trips_reference (pickup timestamptz, pulocationid int, dolocationid int,
                              trip_distance double precision, duration double precision);
CREATE TABLE live_trips (LIKE trips_reference);
"""
# February 8 2021 (UTC) becomes the day three days before today; then the model's predictions
SETUP = """
UPDATE live_trips SET pickup = pickup
    + ((date_trunc('day', now() AT TIME ZONE 'UTC') - interval '3 days') AT TIME ZONE 'UTC'
       - timestamptz '2021-02-08 00:00+00');
ALTER TABLE trips_reference ADD COLUMN prediction double precision;
ALTER TABLE live_trips ADD COLUMN prediction double precision;
UPDATE trips_reference
   SET prediction = taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance);
UPDATE live_trips
   SET prediction = taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance);
CREATE INDEX ON live_trips (pickup);
ANALYZE trips_reference, live_trips;
"""


def _copy(conn, table, df):
    with (
        conn.cursor() as cur,
        cur.copy(
            f"COPY {table} (pickup, pulocationid, dolocationid, trip_distance, duration) FROM STDIN"
        ) as cp,
    ):
        for row in df.itertuples(index=False):
            cp.write_row(row)


@pytest.fixture(scope="module")
def monitored(make_module_cluster, trips_2021_02):
    """A cluster with the monitor MONITOR owned by a non-superuser admin; its DSN."""
    c = make_module_cluster()
    df = trips_2021_02[
        ["lpep_pickup_datetime", "PULocationID", "DOLocationID", "trip_distance", "duration"]
    ].copy()
    df["lpep_pickup_datetime"] = df["lpep_pickup_datetime"].dt.tz_localize("UTC")
    ref = df[df["lpep_pickup_datetime"] < "2021-02-08"]
    live = df[
        (df["lpep_pickup_datetime"] >= "2021-02-08") & (df["lpep_pickup_datetime"] < "2021-02-10")
    ]
    with c.connect() as conn:
        conn.execute(TABLES)
        _copy(conn, "trips_reference", ref)
        _copy(conn, "live_trips", live)
        conn.execute(SETUP)
        owner = c.fresh_role("taxi_duration_admin")
        conn.execute(f"GRANT SELECT ON trips_reference, live_trips TO {owner}")
        conn.execute(f"SET ROLE {owner}")
        conn.execute(
            "SELECT taxi_duration.create_monitor(%s, 'trips_reference', 'live_trips', 'pickup',"
            " '1 day', columns => ARRAY['pulocationid', 'dolocationid', 'trip_distance'],"
            " prediction => 'prediction', target => 'duration')",
            (MONITOR,),
        )
        conn.execute("RESET ROLE")
        days = conn.execute(
            "SELECT date_trunc('day', pickup AT TIME ZONE 'UTC')::date, count(*)"
            " FROM live_trips GROUP BY 1 ORDER BY 1"
        ).fetchall()
    today = datetime.now(UTC).date()
    assert [d for d, _ in days] == [today - timedelta(days=3), today - timedelta(days=2)], days
    assert all(n > 1000 for _, n in days), days
    return c


def _client(prefect_server):
    from prefect import get_client

    return get_client(sync_client=True)


def _wait(what, predicate, timeout, log: Path | None = None, interval=1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    raise AssertionError(f"{what}: not within {timeout} s\n--- serve log ---\n{tail}")


def test_scheduled_monitoring_run_completes(prefect_server, monitored, tmp_path, note):
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterId,
    )

    dsn = monitored.dsn()
    page = tmp_path / "page.html"
    log = tmp_path / "serve.log"
    env = clean_environ()
    env.update(prefect_server.client_env(tmp_path / "serve-home"))
    env.update(
        {
            # the runner asks the server for due runs every 2 s instead of 10
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python"),
            "TD_TASK_RETRIES": "1",
            "TD_RETRY_BACKOFF_SECONDS": "1",
        }
    )
    for k in ("TD_MONITOR_DSN", "TD_MONITORS", "TD_TRAIN_CRON", "TD_MONITOR_CRON", "TD_ENV"):
        env.pop(k, None)
    cmd = [
        sys.executable,
        "-m",
        "taxi_duration_ml",
        "serve",
        "--monitor-cron",
        EVERY_MINUTE,
        "--dsn",
        dsn,
        "--monitor",
        MONITOR,
        "--html",
        str(page),
    ]
    t0 = time.monotonic()
    with open(log, "wb") as out:
        serve = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        with prefect_server.settings(), _client(prefect_server) as client:

            def deployment(name):
                try:
                    return client.read_deployment_by_name(name)
                except Exception:  # noqa: BLE001 - not registered yet
                    assert serve.poll() is None, log.read_text(errors="replace")[-4000:]
                    return None

            mon = _wait(
                "monitoring deployment registered",
                lambda: deployment("taxi-duration-monitoring/monitoring"),
                60,
                log,
                0.5,
            )
            registered = time.monotonic()
            train = deployment("taxi-duration-training/training")
            assert train is not None, "the training deployment is registered too"
            # what was registered: the schedules, the parameters, the module entrypoints
            assert [s.schedule.cron for s in mon.schedules] == [EVERY_MINUTE]
            assert [s.schedule.cron for s in train.schedules] == ["0 6 20 * *"]
            assert all(s.active for s in mon.schedules + train.schedules)
            assert [s.schedule.timezone for s in mon.schedules] == ["UTC"]
            assert mon.parameters == {"dsn": dsn, "monitors": [MONITOR], "html_path": str(page)}
            assert train.parameters == {}  # months relative to each run's scheduled month
            assert mon.entrypoint == "taxi_duration_ml.monitor_flow.monitoring_flow"
            assert train.entrypoint == "taxi_duration_ml.flow.training_flow"
            assert not mon.paused and not train.paused

            def finished_run():
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[mon.id]))
                )
                done = [r for r in runs if r.state is not None and r.state.is_final()]
                assert serve.poll() is None, log.read_text(errors="replace")[-4000:]
                return sorted(done, key=lambda r: r.expected_start_time)[0] if done else None

            run = _wait("a scheduled monitoring run finished", finished_run, RUN_TIMEOUT, log)
            finished = time.monotonic()
            # the run, as the server has it
            run = client.read_flow_run(run.id)
            assert run.state.is_completed(), (run.state, log.read_text(errors="replace")[-4000:])
            assert run.auto_scheduled, "created by the deployment's schedule, not by hand"
            assert run.deployment_id == mon.id
            exp = run.expected_start_time
            assert exp.second == 0 and exp.microsecond == 0, f"a cron minute: {exp}"
            assert run.parameters["dsn"] == dsn and run.parameters["monitors"] == [MONITOR]
            states = [s.type.value for s in client.read_flow_run_states(run.id)]
            # Scheduled by the server, Pending = submitted by the runner, then run
            assert states[0] == "SCHEDULED" and "PENDING" in states and "RUNNING" in states, states
            assert states[-1] == "COMPLETED", states
            # its tasks
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            )
            names = sorted({t.name.rsplit("-", 1)[0] for t in tasks})
            assert {"alert-watermark", "run-monitors", "new-alerts", "render-report"} <= set(
                names
            ), names
            assert all(t.state is not None and t.state.is_completed() for t in tasks), [
                (t.name, t.state) for t in tasks
            ]
            # executed by the serving process: its output carries the run's own log lines
            serve_log = log.read_text(errors="replace")
            assert str(run.id) in serve_log, serve_log[-4000:]
    finally:
        t_stop = time.monotonic()
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGTERM)
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _kill_group(serve.pid)
                serve.wait()
    stopped = time.monotonic()
    # the run's work, in the database and on disk
    rows = monitored.sql(
        "SELECT window_start, current_rows FROM taxi_duration.monitor_reports"
        " WHERE monitor = %s ORDER BY window_start",
        (MONITOR,),
    )
    today = datetime.now(UTC).date()
    assert [r[0].astimezone(UTC).date() for r in rows] == [
        today - timedelta(days=d) for d in (3, 2, 1)
    ], rows
    assert [r[1] > 1000 for r in rows] == [True, True, False], rows
    html = page.read_text()
    assert MONITOR in html and "trip_distance" in html
    # stopping `serve` pauses the schedules: no runs pile up while nothing serves them
    with prefect_server.settings(), _client(prefect_server) as client:
        mon = client.read_deployment_by_name("taxi-duration-monitoring/monitoring")
        assert mon.paused or not any(s.active for s in mon.schedules), mon
    lag = (run.start_time - run.expected_start_time).total_seconds()
    note(
        f"prefect scheduled run: registered {registered - t0:.1f} s after `serve` started; "
        f"run {str(run.id)[:8]} scheduled for {run.expected_start_time:%H:%M:%S}, "
        f"started {lag:+.1f} s from it, ran {run.total_run_time.total_seconds():.1f} s; "
        f"Completed {finished - registered:.1f} s after registration; serve stopped in "
        f"{stopped - t_stop:.1f} s; {len(rows)} windows computed"
    )
