"""Load a month of real TLC green-taxi trips into a PostgreSQL table.

    python3 scripts/load_trips.py --dsn "host=/tmp/x port=5432 dbname=postgres user=postgres" \
        --month 2021-02 [--table taxi_trips] [--copies 1]

Reads the month with taxi_duration_ml.data (``TAXI_DATA_DIR``, else the TLC download), applies the course's
filter (1 ≤ duration ≤ 60 minutes) and COPYs the trips into ``--table`` (re-created):

    ride_id bigint primary key, lpep_pickup_datetime timestamp, lpep_dropoff_datetime timestamp,
    pulocationid integer, dolocationid integer, trip_distance double precision,
    duration double precision   -- actual minutes

``--copies N`` appends the month N times with distinct ride ids (for benchmarks on ≥ 1 M rows).
Prints the row count.
"""

from __future__ import annotations

import argparse
import io
import sys

import psycopg

from taxi_duration_ml.data import load_month  # noqa: E402

DDL = """
DROP TABLE IF EXISTS {table};
CREATE TABLE {table} (
    ride_id bigint PRIMARY KEY,
    lpep_pickup_datetime timestamp NOT NULL,
    lpep_dropoff_datetime timestamp NOT NULL,
    pulocationid integer,
    dolocationid integer,
    trip_distance double precision,
    duration double precision NOT NULL
)
"""


def month_csv(df, offset: int) -> str:
    """The month as CSV text in the table's column order, ride ids from offset."""
    out = df[
        [
            "lpep_pickup_datetime",
            "lpep_dropoff_datetime",
            "PULocationID",
            "DOLocationID",
            "trip_distance",
            "duration",
        ]
    ].copy()
    out.insert(0, "ride_id", range(offset, offset + len(out)))
    buf = io.StringIO()
    # repr-exact floats so SQL sees the same doubles as pandas
    out.to_csv(
        buf, header=False, index=False, float_format="%.17g", date_format="%Y-%m-%d %H:%M:%S.%f"
    )
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--month", default="2021-02")
    ap.add_argument("--table", default="taxi_trips")
    ap.add_argument("--copies", type=int, default=1)
    args = ap.parse_args()
    if not args.table.replace("_", "").replace(".", "").isalnum():
        ap.error("--table must be a plain (optionally schema-qualified) name")

    df = load_month(args.month)
    text = month_csv(df, 0)
    with psycopg.connect(args.dsn, autocommit=False) as conn:
        conn.execute(DDL.format(table=args.table))
        with conn.cursor() as cur:
            for copy_no in range(args.copies):
                if copy_no:
                    text = month_csv(df, copy_no * len(df))
                with cur.copy(f"COPY {args.table} FROM STDIN WITH (FORMAT csv)") as cp:
                    cp.write(text)
        conn.execute(f"ANALYZE {args.table}")
        conn.commit()
        n = conn.execute(f"SELECT count(*) FROM {args.table}").fetchone()[0]
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
