"""Throw random and hostile arguments at every SQL entry point; the server must stay up.

    python3 tests/sqlfuzz/fuzz_sql.py --dsn DSN --workdir DIR [--seconds 20] [--seed N]

Bounded in time and count; run by tests/run_all.sh against its throwaway cluster.  Each call is
its own statement: an error is fine (and must carry a SQLSTATE), a lost connection is a crash and
fails the run.  Also mutates real bundles and loads them: every load either succeeds or fails with
an error, and a failed load must leave the served model (its sha256) unchanged.  `workdir` must be
readable by the server (bundles are loaded with file:// URIs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
INTS = [0, 1, -1, 130, 205, 264, 265, 266, 2**31 - 1, -(2**31), 12345]
FLOATS = [
    0.0,
    -0.0,
    3.66,
    -1.0,
    1e-320,
    1e308,
    -1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    2.5e6,
    1.0000001,
    123456.789,
]
STAMPS = [
    "2021-02-03 08:30",
    "infinity",
    "-infinity",
    "1970-01-01",
    "294276-12-31 23:59:59",
    "4713-01-01 00:00 BC",
    "2000-02-29 23:59:59.999999",
    "1900-01-01",
]
JSON_KEYS = [
    "PULocationID",
    "DOLocationID",
    "trip_distance",
    "pickup_datetime",
    "lpep_pickup_datetime",
    "ride",
    "ride_id",
    "",
    "pulocationid",
    "\u00e9\u4e2d",
]
JSON_VALUES = [
    130,
    205,
    3.66,
    -1,
    1e300,
    -1e300,
    0.5,
    True,
    False,
    None,
    "130",
    "",
    "2021-02-03 08:30:00",
    "2021-02-30 10:00",
    "x" * 300,
    [],
    {},
    [1, 2],
    2**70,
]


DRIFT_AGGREGATES = [
    "wasserstein_norm",
    "ks_statistic",
    "ks_pvalue",
    "jensenshannon",
    "psi",
    "kl_div",
    "chisquare_pvalue",
    "ztest_pvalue",
    "column_drift",
]
CATEGORICAL_AGGREGATES = {
    "jensenshannon",
    "psi",
    "kl_div",
    "chisquare_pvalue",
    "ztest_pvalue",
    "column_drift",
}
DRIFT_OPTION_VALUES = {
    "kind": ["float", "integer", "boolean", "text", "x", 1, None],
    "type": ["num", "cat", "auto", "text", None, 3],
    "stattest": [
        "ks",
        "chisquare",
        "z",
        "wasserstein",
        "jensenshannon",
        "psi",
        "kl_div",
        "hellinger",
        "",
        None,
        1,
    ],
    "threshold": [0, 0.05, 1e308, -1, "0.1", None, True],
    "histogram": [True, False, "yes", None],
    "bogus": [1],
}


def random_drift_options(rng: random.Random):
    """Options for column_drift(): mostly valid keys, sometimes hostile values or keys."""
    if rng.random() < 0.05:
        return rng.choice([[], 1, "x", None])
    keys = rng.sample(sorted(DRIFT_OPTION_VALUES), rng.randint(0, 4))
    return {k: rng.choice(DRIFT_OPTION_VALUES[k]) for k in keys}


class ConnectionLost(Exception):
    """The server closed the connection: a crashed backend."""


# Set texts that are not one plain SELECT, or that try to leave the parentheses they are put in.
HOSTILE_SETS = [
    "SELECT 1 AS x; SELECT 2",
    "SELECT * FROM fuzz_rows --",
    "SELECT * FROM fuzz_rows /*",
    "SELECT * FROM fuzz_rows) s; SELECT (1",
    "WITH d AS (DELETE FROM fuzz_rows RETURNING *) SELECT * FROM d",
    "SELECT * FROM fuzz_rows FOR UPDATE",
    "SELECT * INTO fuzz_copy FROM fuzz_rows",
    "TABLE fuzz_rows",
    "VALUES (1.0), (2.0)",
    "(SELECT 1 AS x)",
    "(" * 500 + "SELECT 1" + ")" * 500,
    "a.b.c.d",
    '"',
    '"fuzz_rows"',
    "public.fuzz_rows.",
    "SELECT $1",
    "select\t\n1 AS x",
    "\\",
    "EXPLAIN SELECT 1",
]


def random_json(rng: random.Random, depth: int = 0):
    """A random trip-event-like document."""
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(JSON_VALUES)
    if roll < 0.4:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    doc = {rng.choice(JSON_KEYS): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    if rng.random() < 0.5:
        doc = {
            "ride": {
                "PULocationID": rng.choice(JSON_VALUES),
                "DOLocationID": rng.choice(JSON_VALUES),
                "trip_distance": rng.choice(JSON_VALUES),
                **doc,
            },
            "ride_id": rng.choice(JSON_VALUES),
        }
    return doc


def mutate_text(rng: random.Random, text: str) -> str:
    """A mutated copy of a JSON text: byte flips, cuts, splices, numbers swapped."""
    b = bytearray(text.encode())
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        i = rng.randrange(len(b))
        if op == 0:
            b[i] = rng.randrange(256)
        elif op == 1:
            del b[i : i + rng.randint(1, 64)]
        elif op == 2:
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randint(1, 64)]
        elif op == 3:
            b[i:i] = rng.choice([b"-1", b"1e999", b"999999999", b"NaN", b"[", b"{", b'"', b"0"])
        else:
            b = b[:i]
        if not b:
            b = bytearray(b"{")
    return b.decode("utf-8", errors="replace")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--max-calls", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("TD_FUZZ_SEED", "20261128")))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    seeds = [
        (REPO / "tests/fixtures/bundles/bad/valid_tiny.json").read_text(),
        (REPO / "tests/fixtures/bundles/requires_pickup.json").read_text(),
    ]

    conn = psycopg.connect(args.dsn, autocommit=True)
    conn.execute("SET search_path = taxi_duration, public")
    conn.execute("DROP TABLE IF EXISTS fuzz_rows")
    conn.execute(
        "CREATE TABLE fuzz_rows (pulocationid bigint, dolocationid numeric,"
        " trip_distance real, lpep_pickup_datetime timestamptz, predicted float8)"
    )
    conn.execute(
        "CREATE TRIGGER fill BEFORE INSERT ON fuzz_rows FOR EACH ROW"
        " EXECUTE FUNCTION fill_predicted_duration('predicted', 'null')"
    )
    default_uri = conn.execute("SELECT source FROM model_info()").fetchone()[0]

    counts = {"ok": 0, "error": 0, "loads_ok": 0, "loads_rejected": 0}
    deadline = time.monotonic() + args.seconds
    calls = 0

    def call(sql: str, params=()):
        nonlocal calls
        calls += 1
        try:
            conn.execute(sql, params)
            counts["ok"] += 1
            return True
        except psycopg.Error as e:
            if conn.broken or conn.closed:
                raise ConnectionLost(str(e)) from e
            if e.sqlstate is None:
                raise AssertionError(f"error without SQLSTATE for {sql!r} {params!r}: {e}") from e
            counts["error"] += 1
            return False

    try:
        while time.monotonic() < deadline and calls < args.max_calls:
            form = rng.randrange(9)
            if form == 0:
                call(
                    "SELECT predict_duration(%s::int, %s::int, %s::float8)",
                    (
                        rng.choice(INTS + [None]),
                        rng.choice(INTS + [None]),
                        rng.choice(FLOATS + [None]),
                    ),
                )
            elif form == 1:
                call(
                    "SELECT predict_duration(%s::int, %s::int, %s::float8, %s::timestamp)",
                    (
                        rng.choice(INTS),
                        rng.choice(INTS),
                        rng.choice(FLOATS),
                        rng.choice(STAMPS + [None]),
                    ),
                )
            elif form == 2:
                doc = (
                    json.dumps(random_json(rng), allow_nan=False)
                    if rng.random() < 0.8
                    else "[" * rng.randint(1, 3000) + "]" * 0
                )
                call("SELECT predict_duration(%s::jsonb)", (doc,))
            elif form == 3:
                call(
                    "INSERT INTO fuzz_rows VALUES (%s, %s, %s, %s)",
                    (
                        rng.choice(INTS + [None]),
                        rng.choice(INTS + [None]),
                        rng.choice(FLOATS + [None]),
                        rng.choice(STAMPS + [None]),
                    ),
                )
            elif form == 4:
                call(
                    "SELECT * FROM load_model(%s)",
                    (
                        rng.choice(
                            [
                                "",
                                "file://",
                                "file:///",
                                "s3://",
                                "models:/x@y",
                                "file:///dev/zero",
                                "file:///proc/self/status",
                                "x" * 2000,
                                "file://" + "a/" * 600,
                            ]
                        ),
                    ),
                )
            elif form == 6:
                # drift aggregates over a random small sample of hostile values
                n = rng.randint(0, 40)
                values = [rng.choice(FLOATS + [None, 1.0, 2.0, 3.0]) for _ in range(n)]
                sides = [
                    rng.choice([True, False, None] if rng.random() < 0.05 else [True, False])
                    for _ in range(n)
                ]
                agg = rng.choice(DRIFT_AGGREGATES)
                text = rng.random() < 0.3 and agg in CATEGORICAL_AGGREGATES
                cast = "text" if text else "float8"
                vals = [None if v is None else (str(v) if text else v) for v in values]
                if agg == "column_drift":
                    call(
                        f"SELECT column_drift(v::{cast}, r, %s::jsonb) FROM unnest(%s::{cast}[], %s::bool[]) u(v, r)",
                        (json.dumps(random_drift_options(rng)), vals, sides),
                    )
                else:
                    call(
                        f"SELECT {agg}(v::{cast}, r) FROM unnest(%s::{cast}[], %s::bool[]) u(v, r)",
                        (vals, sides),
                    )
            elif form == 7:
                call(
                    "SELECT drift_report(%s, %s, %s, %s, %s, %s::jsonb)",
                    (
                        rng.choice(
                            [
                                "fuzz_rows",
                                "SELECT * FROM fuzz_rows",
                                "nope",
                                "",
                                ";",
                                "(",
                                "SELECT 1 AS x",
                                "pg_class",
                            ]
                            + HOSTILE_SETS
                        ),
                        rng.choice(
                            ["fuzz_rows", "SELECT * FROM fuzz_rows LIMIT 3", "SELECT 2 AS x"]
                        ),
                        rng.choice([None, ["trip_distance"], ["pulocationid", "nope"], [], [""]]),
                        rng.choice([None, "predicted", "trip_distance", "nope"]),
                        rng.choice([None, "trip_distance", "predicted"]),
                        json.dumps(
                            rng.choice(
                                [
                                    {},
                                    {"drift_share": 2},
                                    {"columns": []},
                                    {"columns": {"trip_distance": random_drift_options(rng)}},
                                    random_json(rng),
                                ]
                            )
                        ),
                    ),
                )
            elif form == 8:
                # the monitor functions with hostile sets, names and windows
                name = rng.choice(["fuzz_mon", "", "x" * 300, 'a"b', None])
                call(
                    "SELECT create_monitor(%s, %s, %s, %s, %s::interval)",
                    (
                        name,
                        rng.choice(["fuzz_rows", "SELECT * FROM fuzz_rows", None] + HOSTILE_SETS),
                        rng.choice(["fuzz_rows", "pg_class", "nope"]),
                        rng.choice(["t", "trip_distance", "nope", ""]),
                        rng.choice(["1 day", "1 hour", "-1 day", "1 month", "0"]),
                    ),
                )
                call(
                    "SELECT count(*) FROM run_monitor(%s, %s::timestamptz)",
                    (name, rng.choice(["2021-01-02", "infinity", "-infinity", None])),
                )
                call("SELECT alter_monitor(%s, %s)", (name, rng.choice([True, False, None])))
                if rng.random() < 0.3:
                    call("SELECT drop_monitor(%s)", (name,))
            else:
                path = os.path.join(args.workdir, "fuzz_bundle.json")
                with open(path, "w") as f:
                    f.write(mutate_text(rng, rng.choice(seeds)))
                os.chmod(path, 0o644)
                before = conn.execute("SELECT sha256 FROM model_info()").fetchone()[0]
                if call("SELECT * FROM load_model(%s)", ("file://" + path,)):
                    counts["loads_ok"] += 1
                    call("SELECT predict_duration(130, 205, 3.66, '2021-02-03 08:30')")
                    call("SELECT * FROM load_model(%s)", (default_uri,))
                else:
                    counts["loads_rejected"] += 1
                    after = conn.execute("SELECT sha256 FROM model_info()").fetchone()[0]
                    assert after == before, "a rejected bundle replaced the served model"
    except ConnectionLost as e:
        print(f"sql fuzz: the connection was lost after {calls} calls (seed {args.seed}): {e}")
        return 1
    finally:
        try:
            conn.execute("SELECT * FROM load_model(%s)", (default_uri,))
            conn.execute("DROP TABLE IF EXISTS fuzz_rows")
        except psycopg.Error:
            pass
    print(f"sql fuzz: {calls} calls in {args.seconds:.0f} s (seed {args.seed}): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
