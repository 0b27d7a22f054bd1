"""Predict every trip of a table in SQL and report accuracy and speed.

    python3 scripts/score_month.py --dsn DSN [--table taxi_trips]

Runs taxi_duration.predict_duration() over every row (with the pickup time, and without it), and
prints the served model, the RMSE in minutes against the actual durations, and rows per second
(wall clock of the whole statement, one backend, no parallel workers).
"""

from __future__ import annotations

import argparse
import sys
import time

import psycopg

FORMS = {
    "with pickup time": "taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance,"
    " lpep_pickup_datetime)",
    "without pickup time": "taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance)",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--table", default="taxi_trips")
    args = ap.parse_args()

    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        name, version, source, trees = conn.execute(
            "SELECT model_name, model_version, source, trees FROM taxi_duration.model_info()"
        ).fetchone()
        print(f"model: {name} {version} ({trees} trees) from {source}")
        for label, expr in FORMS.items():
            t0 = time.perf_counter()
            n, rmse = conn.execute(
                f"SELECT count(*), sqrt(avg(({expr} - duration) ^ 2)) FROM {args.table}"
            ).fetchone()
            elapsed = time.perf_counter() - t0
            print(
                f"{label:>20}: {n} trips, RMSE {rmse:.3f} min, "
                f"{n / elapsed:,.0f} rows/s ({elapsed:.2f} s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
