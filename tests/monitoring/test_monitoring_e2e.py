"""Scheduled monitoring end to end on real trips: pg_cron, the Prefect flow, alerts, the HTML page.

Run by tests/monitoring/run.sh, which starts a cluster with taxi_duration and pg_cron preloaded and
exports TD_MONITORING_DSN and TD_MONITORING_LOG (the server log).  The reference is every 2021-01
trip; the live table holds three days of 2021-02 trips (8-10 February) moved to the last three days before today,
with the model's prediction filled in by the extension.  A fourth day (yesterday) is inserted with
a shift, so that its window drifts and its RMSE degrades.

Checks: the Prefect flow (`taxi-duration monitor`) computes each complete window and writes the
HTML page; the drifted day raises both alerts as rows, as NOTIFY payloads a listening session
receives, and as WARNING lines in the server log; pg_cron, scheduled with
taxi_duration.schedule_monitoring(), computes a new window by itself; the page, rendered from the
stored reports, shows them in headless Chromium (screenshot kept as a test artifact).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))  # the sibling test_html_report; tests/lib: tests/conftest.py
from pg_cron import wait_for_job_run  # noqa: E402
from test_html_report import _chromium, _run_chromium  # noqa: E402

DSN = os.environ.get("TD_MONITORING_DSN")
LOG = os.environ.get("TD_MONITORING_LOG")
ARTIFACTS = Path(os.environ.get("TD_TEST_ARTIFACTS", HERE / "artifacts"))

pytestmark = pytest.mark.skipif(not DSN, reason="run by tests/monitoring/run.sh (needs a cluster)")

SETUP = """
DROP TABLE IF EXISTS live_trips;
CREATE TABLE live_trips AS
SELECT ride_id,
       lpep_pickup_datetime + (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '4 days'
                               - timestamp '2021-02-08') AS pickup,
       pulocationid, dolocationid, trip_distance, duration,
       NULL::double precision AS prediction
FROM trips_2021_02
WHERE lpep_pickup_datetime >= '2021-02-08' AND lpep_pickup_datetime < '2021-02-11';
UPDATE live_trips SET prediction = taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance);
ALTER TABLE trips_2021_01 ADD COLUMN prediction double precision;
UPDATE trips_2021_01 SET prediction = taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance);
ALTER TABLE live_trips ALTER COLUMN pickup TYPE timestamptz USING pickup AT TIME ZONE 'UTC';
CREATE INDEX ON live_trips (pickup);
ANALYZE live_trips;
-- the monitor belongs to a login role that is not a superuser; pg_cron runs as it
DROP ROLE IF EXISTS td_monitoring;
CREATE ROLE td_monitoring LOGIN IN ROLE taxi_duration_admin;
GRANT SELECT ON trips_2021_01, live_trips TO td_monitoring;
SET ROLE td_monitoring;
SELECT name FROM taxi_duration.create_monitor(
    'daily_trips', 'trips_2021_01', 'live_trips', 'pickup', '1 day',
    columns => ARRAY['pulocationid', 'dolocationid', 'trip_distance'],
    prediction => 'prediction', target => 'duration',
    options => '{"histograms": true}', rmse_degradation => 0.1);
RESET ROLE;
"""

# Yesterday: the 2021-02-11 trips, all from one zone, longer, and mispredicted (the model
# predicts from the shifted inputs; the actual durations are 15 minutes longer).
DRIFTED_DAY = """
INSERT INTO live_trips
SELECT ride_id,
       (lpep_pickup_datetime - timestamp '2021-02-11'
        + date_trunc('day', now() AT TIME ZONE 'UTC') - interval '1 day') AT TIME ZONE 'UTC',
       74, dolocationid, trip_distance * 3 + 2, duration + 15,
       taxi_duration.predict_duration(74, dolocationid, trip_distance * 3 + 2)
FROM trips_2021_02
WHERE lpep_pickup_datetime >= '2021-02-11' AND lpep_pickup_datetime < '2021-02-12';
"""


def sql(conn, query, params=None):
    return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def conn():
    with psycopg.connect(DSN, autocommit=True) as c:
        c.execute(SETUP)
        yield c


def run_cli(*args) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(REPO), str(REPO / "python"), os.environ.get("PYTHONPATH")])
        ),
    )
    return subprocess.run(
        [sys.executable, "-m", "taxi_duration_ml", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_prefect_flow_computes_each_complete_window(conn, tmp_path):
    html = tmp_path / "first.html"
    done = run_cli(
        "monitor", "--local", "--dsn", DSN, "--monitor", "daily_trips", "--html", str(html)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = sql(
        conn,
        "SELECT window_start, current_rows, dataset_drift, rmse, reference_rmse"
        " FROM taxi_duration.monitor_reports WHERE monitor = 'daily_trips'"
        " ORDER BY window_start",
    )
    # 4 days ago .. 2 days ago hold trips (8-10 Feb 2021); yesterday's window is empty.
    assert [r[1] > 1000 for r in rows] == [True, True, True, False], rows
    assert [r[2] for r in rows[:3]] == [False, False, False]
    for r in rows[:3]:
        assert 0 < r[3] < 20 and 0 < r[4] < 20, r  # real model RMSE in minutes
    assert html.exists() and html.stat().st_size > 10_000


def test_drifted_day_raises_alerts_everywhere(conn):
    listener = psycopg.connect(DSN, autocommit=True)
    listener.execute("LISTEN taxi_duration_alerts")
    conn.execute(DRIFTED_DAY)
    # recompute yesterday's (previously empty) window
    conn.execute(
        "SELECT taxi_duration.alter_monitor('daily_trips', next_window_start =>"
        " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 day')"
    )
    got = sql(
        conn,
        "SELECT dataset_drift, current_rows, rmse > reference_rmse * 1.1"
        " FROM taxi_duration.run_monitor('daily_trips')",
    )
    assert got == [(True, got[0][1], True)] and got[0][1] > 1000
    alerts = sql(
        conn,
        "SELECT kind, message FROM taxi_duration.monitor_alerts"
        " WHERE monitor = 'daily_trips' AND window_start ="
        " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 day'"
        " ORDER BY kind",
    )
    assert [a[0] for a in alerts] == ["dataset_drift", "rmse"]
    payloads = []
    deadline = time.time() + 10
    for note in listener.notifies(timeout=10):
        payloads.append(json.loads(note.payload))
        if time.time() > deadline:
            break
    yesterday = sql(
        conn,
        "SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 day'",
    )[0][0]
    payloads = [
        p
        for p in payloads
        if p["window_start"].startswith(yesterday.astimezone(dt.UTC).strftime("%Y-%m-%dT"))
    ]
    listener.close()
    assert sorted(p["kind"] for p in payloads) == ["dataset_drift", "rmse"]
    assert all(p["monitor"] == "daily_trips" for p in payloads)
    log = Path(LOG).read_text(errors="replace")
    assert 'WARNING:  taxi_duration monitor "daily_trips": dataset drift' in log
    assert 'WARNING:  taxi_duration monitor "daily_trips": RMSE degraded' in log


def test_pg_cron_runs_the_monitors(conn):
    # Forget today's... nothing to compute yet: make the cron job recompute the last window.
    conn.execute(
        "SELECT taxi_duration.alter_monitor('daily_trips', next_window_start =>"
        " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '2 days')"
    )
    before = sql(conn, "SELECT max(computed_at) FROM taxi_duration.monitor_reports")[0][0]
    # never as a superuser: the job runs as the monitors' owner
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(conn, "SELECT taxi_duration.schedule_monitoring('* * * * *')")
    job = sql(
        conn,
        "SELECT taxi_duration.schedule_monitoring('* * * * *', run_as => 'td_monitoring')",
    )[0][0]
    assert sql(conn, "SELECT username FROM cron.job WHERE jobid = %s", (job,)) == [
        ("td_monitoring",)
    ]
    try:
        runs = wait_for_job_run(conn, job)
        assert runs and runs[-1][0] == "succeeded", runs
        after = sql(
            conn,
            "SELECT count(*) FROM taxi_duration.monitor_reports WHERE computed_at > %s",
            (before,),
        )[0][0]
        assert after == 2, "pg_cron recomputed the last two windows"
    finally:
        conn.execute("SELECT cron.unschedule(%s)", (job,))


def test_html_page_renders_stored_reports(conn, tmp_path):
    html = tmp_path / "monitoring.html"
    done = run_cli("report", "--dsn", DSN, "--monitor", "daily_trips", "--out", str(html))
    assert done.returncode == 0, done.stdout + done.stderr
    page = html.read_text()
    for text in ("daily_trips", "trip_distance", "pulocationid", "RMSE"):
        assert text in page
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "monitoring_e2e.png"
    profile = tmp_path / "profile"
    dom = _run_chromium(
        exe, ["--dump-dom", "--virtual-time-budget=5000", html.as_uri()], str(profile)
    )
    assert dom.returncode == 0, dom.stderr
    assert dom.stdout.count("<svg") >= 8, "the plots rendered"
    assert "trip_distance" in dom.stdout
    done = _run_chromium(
        exe,
        [f"--screenshot={shot}", "--window-size=1400,3000", html.as_uri()],
        str(tmp_path / "profile2"),
    )
    assert done.returncode == 0 and shot.exists() and shot.stat().st_size > 50_000, done.stderr
