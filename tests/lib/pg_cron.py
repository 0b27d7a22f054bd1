"""Waiting for a pg_cron job to run, for the tests that schedule one (tests/monitoring, tests/security).

pg_cron 1.4 schedules by the minute, so a job's first run may take up to a minute to start.
"""

from __future__ import annotations

import time


def wait_for_job_run(conn, job: int, timeout: float = 150) -> list[tuple]:
    """(status, return_message) of every run of ``job`` so far, once the latest one has ended
    (or ``timeout`` seconds passed)."""
    runs: list[tuple] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = conn.execute(
            "SELECT status, return_message FROM cron.job_run_details"
            " WHERE jobid = %s ORDER BY runid",
            (job,),
        ).fetchall()
        if runs and runs[-1][0] in ("succeeded", "failed"):
            break
        time.sleep(2)
    return runs
