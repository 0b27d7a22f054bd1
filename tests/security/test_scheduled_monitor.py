"""A monitor run by pg_cron runs with its owner's privileges (issue 10, finding 1a).

The original attack: an admin member defines a monitor whose reference query calls her own
function, which makes her superuser when it runs as one; the pg_cron job, scheduled by a
superuser, ran it as the superuser.  Now schedule_monitoring() refuses to schedule a job as a
superuser, the job runs as the monitors' owner, and each monitor reads its sets as its owner in
a security-restricted operation.  This test waits for a real pg_cron run.

Run by tests/security/run.sh (TD_SECURITY_DSN: a cluster with taxi_duration and pg_cron).
"""

from __future__ import annotations

import os

import psycopg
import pytest
from pg_cron import wait_for_job_run

DSN = os.environ.get("TD_SECURITY_DSN")
pytestmark = pytest.mark.skipif(not DSN, reason="run by tests/security/run.sh (needs a cluster)")

SETUP = """
CREATE ROLE sec_cron_owner LOGIN IN ROLE taxi_duration_admin;
CREATE SCHEMA sec_cron_owner AUTHORIZATION sec_cron_owner;
CREATE TABLE sec_cron_trips AS
SELECT date_trunc('day', now()) - interval '3 days' + g * interval '10 minutes' AS t,
       (g % 13)::double precision AS trip_distance
FROM generate_series(0, 431) AS g;
CREATE TABLE sec_cron_ran_as (who name);
GRANT SELECT ON sec_cron_trips TO sec_cron_owner;
GRANT INSERT ON sec_cron_ran_as TO sec_cron_owner;
SET ROLE sec_cron_owner;
CREATE FUNCTION sec_cron_owner.pwn() RETURNS double precision LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.sec_cron_ran_as VALUES (current_user);
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE sec_cron_owner SUPERUSER';
    END IF;
    RETURN 1;
END
$$;
SELECT taxi_duration.create_monitor('sec_cron', 'SELECT sec_cron_owner.pwn() AS trip_distance',
                                    'sec_cron_trips', 't');
RESET ROLE;
"""

CLEANUP = """
SELECT taxi_duration.drop_monitor('sec_cron');
DROP TABLE sec_cron_trips, sec_cron_ran_as;
DROP SCHEMA sec_cron_owner CASCADE;
DROP ROLE sec_cron_owner;
"""


def rows(conn, query, params=None):
    return conn.execute(query, params).fetchall()


def test_pg_cron_runs_a_monitor_as_its_owner():
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(SETUP)
        try:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                rows(conn, "SELECT taxi_duration.schedule_monitoring('* * * * *', 'sec_cron_job')")
            job = rows(
                conn,
                "SELECT taxi_duration.schedule_monitoring('* * * * *', 'sec_cron_job',"
                " run_as => 'sec_cron_owner')",
            )[0][0]
            try:
                runs = wait_for_job_run(conn, job)
                assert runs and runs[-1][0] == "succeeded", runs
            finally:
                conn.execute("SELECT cron.unschedule(%s)", (job,))
            assert rows(
                conn,
                "SELECT count(*) FROM taxi_duration.monitor_reports WHERE monitor = 'sec_cron'",
            ) == [(3,)], "the job computed the three complete days"
            assert rows(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_cron_owner'") == [
                (False,)
            ], "the monitor's owner did not become superuser"
            assert rows(conn, "SELECT DISTINCT who FROM sec_cron_ran_as") == [("sec_cron_owner",)]
        finally:
            conn.execute(CLEANUP)
