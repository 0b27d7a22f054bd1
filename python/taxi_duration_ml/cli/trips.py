"""Real trips in PostgreSQL: ``load-trips`` (a TLC month into a table) and ``score`` (predict
every row in SQL with the served model; RMSE and rows per second).  Formerly
scripts/load_trips.py and scripts/score_month.py; the output is the same."""

from __future__ import annotations

import io
import time

from .. import progress
from . import argtypes as T
from .errors import CommandFailed
from .parser import add_command, add_dsn

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
CSV_COLUMNS = [
    "lpep_pickup_datetime",
    "lpep_dropoff_datetime",
    "PULocationID",
    "DOLocationID",
    "trip_distance",
    "duration",
]
COPY_CHUNK_ROWS = 20_000  # rows per write: the progress bar moves, memory stays small

FORMS = {
    "with pickup time": "taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance,"
    " lpep_pickup_datetime)",
    "without pickup time": "taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance)",
}


def add_commands(sub, common) -> None:
    lt = add_command(
        sub,
        "load-trips",
        parents=common,
        help="load a month of real TLC trips into a PostgreSQL table",
        description="""\
Read a month of TLC green-taxi trips (TAXI_DATA_DIR, else the TLC download), apply the course's
filter (1 <= duration <= 60 minutes) and COPY the trips into TABLE, which is dropped and
re-created:

    ride_id bigint primary key, lpep_pickup_datetime timestamp, lpep_dropoff_datetime timestamp,
    pulocationid integer, dolocationid integer, trip_distance double precision,
    duration double precision   -- actual minutes

Prints the table's row count.""",
    )
    add_dsn(lt)
    lt.add_argument("--month", type=T.month, default="2021-02", metavar="YYYY-MM", help="month")
    lt.add_argument(
        "--table",
        type=T.table_name,
        default="taxi_trips",
        metavar="TABLE",
        help="table to (re)create, optionally schema-qualified",
    )
    lt.add_argument(
        "--copies",
        type=T.positive_int,
        default=1,
        metavar="N",
        help="load the month N times with distinct ride ids (benchmarks on >= 1 M rows)",
    )
    lt.set_defaults(func=cmd_load_trips)

    sc = add_command(
        sub,
        "score",
        parents=common,
        help="predict every trip of a table in SQL: RMSE and rows per second",
        description="""\
Run taxi_duration.predict_duration() over every row of TABLE (as loaded by load-trips), with the
pickup time and without it, and print the served model, the RMSE in minutes against the actual
durations, and rows per second (wall clock of the whole statement, one backend, no parallel
workers).""",
    )
    add_dsn(sc)
    sc.add_argument(
        "--table",
        type=T.table_name,
        default="taxi_trips",
        metavar="TABLE",
        help="table of trips, optionally schema-qualified",
    )
    sc.set_defaults(func=cmd_score)


def month_csv(df, offset: int) -> str:
    """The trips as CSV text in the table's column order, ride ids from offset."""
    out = df[CSV_COLUMNS].copy()
    out.insert(0, "ride_id", range(offset, offset + len(out)))
    buf = io.StringIO()
    # repr-exact floats so SQL sees the same doubles as pandas
    out.to_csv(
        buf, header=False, index=False, float_format="%.17g", date_format="%Y-%m-%d %H:%M:%S.%f"
    )
    return buf.getvalue()


def cmd_load_trips(a) -> int:
    import psycopg

    from ..data import load_month

    df = load_month(a.month)
    n = len(df)
    with (
        psycopg.connect(a.dsn, autocommit=False) as conn,
        progress.bar(total=n * a.copies, desc=f"COPY {a.table}", unit="row") as bar,
    ):
        conn.execute(DDL.format(table=a.table))
        with conn.cursor() as cur:
            for copy_no in range(a.copies):
                with cur.copy(f"COPY {a.table} FROM STDIN WITH (FORMAT csv)") as cp:
                    for start in range(0, n, COPY_CHUNK_ROWS):
                        chunk = df.iloc[start : start + COPY_CHUNK_ROWS]
                        cp.write(month_csv(chunk, copy_no * n + start))
                        bar.update(len(chunk))
        conn.execute(f"ANALYZE {a.table}")
        conn.commit()
        count = conn.execute(f"SELECT count(*) FROM {a.table}").fetchone()[0]
    print(count)
    return 0


def cmd_score(a) -> int:
    import psycopg

    with psycopg.connect(a.dsn, autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        name, version, source, trees = conn.execute(
            "SELECT model_name, model_version, source, trees FROM taxi_duration.model_info()"
        ).fetchone()
        print(f"model: {name} {version} ({trees} trees) from {source}")
        for label, expr in FORMS.items():
            t0 = time.perf_counter()
            n, rmse = conn.execute(
                f"SELECT count(*), sqrt(avg(({expr} - duration) ^ 2)) FROM {a.table}"
            ).fetchone()
            elapsed = time.perf_counter() - t0
            if not n:
                raise CommandFailed(f"table {a.table} has no trips to score")
            print(
                f"{label:>20}: {n} trips, RMSE {rmse:.3f} min, "
                f"{n / elapsed:,.0f} rows/s ({elapsed:.2f} s)"
            )
    return 0
