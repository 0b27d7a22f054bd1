#!/usr/bin/env python3
"""Streaming benchmark (bench/bench_streaming.sh runs this).

(i)  forwarder throughput into moto (signature checking on): N trips of
     2021-02 COPYed into a trips table before the forwarder starts, timed
     from the forwarder's start until forwarder_status.records_sent >= N
     (then the stream is read once to check every ride id is there).
(ii) the C bootstrap vs the C bootstrap built from an older revision of the
     scorer (--bootstrap-baseline, from bench_streaming.sh) vs a Python handler
     in the style of the MLOps Zoomcamp's streaming example (bench/python_lambda,
     awslambdaric), all under the same aws-lambda-rie, same bundle, same moto:
     cold start (RIE process start -> first response to a 1-record invocation,
     median of 3 starts), 1,000-record batch round trip (median of 5 warm
     invocations, PutRecords to moto included) and the predict part of those 5
     batches (decode, JSON, features, prediction; each Lambda logs it to stderr
     as "INFO 1000 records: ... predict X ms", parsed from its RIE log).  All
     variants must write the same predictions, bit for bit.
Prints a Markdown section on stdout.
"""

import argparse
import io
import json
import os
import platform
import re
import signal
import statistics
import struct
import subprocess
import sys
import time

import psycopg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from aws_clients import aws_client  # noqa: E402
from lambda_rie import Rie, kinesis_event as _kinesis_event  # noqa: E402
from servers import Servers  # noqa: E402

TRIPS = "stg_taxi_trip_events"
BUNDLE = os.path.join(ROOT, "python", "taxi_duration_ml", "default_bundle.json")
PORT = 54497


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def kinesis_event(docs, first_seq):
    return _kinesis_event(
        docs, first_seq, partition_keys=[str(d["ride_id"]) for d in docs], stream=TRIPS
    )


def read_all(kin, stream):
    out = {}
    for sh in kin.list_shards(StreamName=stream)["Shards"]:
        it = kin.get_shard_iterator(
            StreamName=stream, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            r = kin.get_records(ShardIterator=it, Limit=10000)
            it = r.get("NextShardIterator")
            for rec in r["Records"]:
                out[rec["PartitionKey"]] = rec["Data"]
            if not r["Records"]:
                break
    return out


# the per-invocation line of lambda/bootstrap.c and bench/python_lambda, for 1,000 records
PREDICT_LOG = re.compile(r"INFO 1000 records: .*?predict ([0-9.]+) ms")


def same_predictions(a, b):
    """Both streams' 1,000 predictions equal bit for bit, with the same model version."""

    def key(data):
        e = json.loads(data)
        return struct.pack("<d", e["prediction"]["ride_duration"]), e["version"]

    return len(a) == len(b) == 1000 and all(k in b and key(a[k]) == key(b[k]) for k in a)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--rie", required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--bootstrap-baseline", help="the C bootstrap of the old scorer (optional)")
    ap.add_argument("--baseline-rev", default="baseline", help="its revision, for the report")
    ap.add_argument("--trips", type=int, default=50000)
    ap.add_argument("--command", default="bash bench/bench_streaming.sh")
    ap.add_argument("--pg-port", type=int, default=PORT)
    ap.add_argument("--moto-port", type=int, default=None, help="default: a free port")
    a = ap.parse_args()
    a.rie, a.bootstrap = os.path.abspath(a.rie), os.path.abspath(a.bootstrap)
    old_c = f"C bootstrap, old scorer ({a.baseline_rev})"
    os.environ.setdefault("TAXI_DATA_DIR", "/work/shared/data")
    from taxi_duration_ml.data import load_month

    df = load_month("2021-02", download=False).head(a.trips)

    pgdir = os.path.join(a.work, "pg")
    servers = Servers(os.path.join(a.work, "servers"), auth=True, mlflow=False)
    servers.moto_port = a.moto_port
    fwd = None
    ries = []
    try:
        env = servers.start()
        aws = {
            k: env[k]
            for k in (
                "AWS_ENDPOINT_URL",
                "AWS_REGION",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
            )
        }
        kin = aws_client("kinesis", aws)
        streams = (TRIPS, "bench_c_predictions", "bench_c_old_predictions", "bench_py_predictions")
        for s, n in ((s, 2) for s in streams):
            kin.create_stream(StreamName=s, ShardCount=n)
            kin.get_waiter("stream_exists").wait(StreamName=s, WaiterConfig={"Delay": 0.2})

        # ---- (i) forwarder throughput --------------------------------------
        subprocess.run(
            [
                "bash",
                "-c",
                f". {ROOT}/tests/lib/cluster.sh; td_cluster_start {pgdir} {a.pg_port} "
                "\"shared_preload_libraries = 'taxi_duration'\nwal_level = logical\n"
                "max_replication_slots = 4\nmax_wal_senders = 4\n"
                "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'\"",
            ],
            check=True,
        )
        dsn = f"host={pgdir} port={a.pg_port} dbname=postgres user=postgres"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE EXTENSION taxi_duration")
            c.execute(
                "CREATE TABLE trips (ride_id bigint PRIMARY KEY, pulocationid int,"
                " dolocationid int, trip_distance float8, lpep_pickup_datetime timestamp)"
            )
            c.execute(
                "SELECT pg_create_logical_replication_slot('taxi_trips_kinesis', 'taxi_duration')"
            )
        buf = io.StringIO()
        for rid, row in enumerate(df.itertuples()):
            buf.write(
                f"{rid},{int(row.PULocationID)},{int(row.DOLocationID)},"
                f"{float(row.trip_distance)!r},{row.lpep_pickup_datetime}\n"
            )
        lines = buf.getvalue().splitlines(keepends=True)
        with psycopg.connect(dsn) as c:
            for k in range(0, len(lines), 5000):  # transactions of 5,000
                with c.cursor().copy("COPY trips FROM STDIN WITH (FORMAT csv)") as cp:
                    cp.write("".join(lines[k : k + 5000]))
                c.commit()
        n = len(lines)
        fenv = dict(os.environ, TD_FORWARDER_DSN=dsn, TD_TRIPS_STREAM=TRIPS, TD_POLL_MS="50", **aws)
        fenv.pop("AWS_ENDPOINT_URL_S3", None)
        t0 = time.monotonic()
        fwd = subprocess.Popen(
            [os.path.join(ROOT, "forwarder", "td-forwarder")],
            env=fenv,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(a.work, "forwarder.log"), "ab"),
        )
        with psycopg.connect(dsn, autocommit=True) as c:
            while True:
                row = c.execute(
                    "SELECT records_sent FROM taxi_duration.forwarder_status"
                ).fetchone()
                if row and row[0] is not None and row[0] >= n:
                    break
                if time.monotonic() - t0 > 300:
                    raise RuntimeError(f"forwarder sent only {row} of {n} in 300 s")
                time.sleep(0.02)
        fwd_s = time.monotonic() - t0
        fwd.send_signal(signal.SIGTERM)
        fwd.wait(timeout=20)
        fwd = None
        in_stream = read_all(kin, TRIPS)
        complete = all(str(i) in in_stream for i in range(n))
        log(
            f"forwarder: {n} records in {fwd_s:.2f} s = {n / fwd_s:.0f} records/s; all in stream: {complete}"
        )
        subprocess.run(["bash", "-c", f". {ROOT}/tests/lib/cluster.sh; td_cluster_stop {pgdir}"])

        # ---- (ii) C (new and old scorer) vs Python Lambda ----------------------
        docs = [json.loads(in_stream[str(i)]) for i in range(1000)]
        base_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TD_", "MLFLOW_"))
        }
        base_env.update(aws)
        base_env["TD_MODEL_URI"] = "file://" + BUNDLE
        pydir = os.path.join(ROOT, "bench", "python_lambda")
        variants = {
            "C bootstrap": (
                [a.bootstrap],
                dict(base_env, PREDICTIONS_STREAM="bench_c_predictions"),
                None,
            ),
            old_c: (
                [a.bootstrap_baseline],
                dict(base_env, PREDICTIONS_STREAM="bench_c_old_predictions"),
                None,
            ),
            "Python (awslambdaric)": (
                [sys.executable, "-m", "awslambdaric", "lambda_function.lambda_handler"],
                dict(
                    base_env,
                    PREDICTIONS_STREAM="bench_py_predictions",
                    AWS_DEFAULT_REGION=aws["AWS_REGION"],  # as Lambda sets it
                    PYTHONPATH=f"{pydir}:{ROOT}",
                    LAMBDA_TASK_ROOT=pydir,
                ),
                pydir,
            ),
        }
        if not a.bootstrap_baseline:
            del variants[old_c]
        res = {}
        for name, (cmd, env_, cwd) in variants.items():
            colds, batches = [], []
            rie_log = os.path.join(a.work, f"rie-{len(res)}.log")
            for rep in range(3):
                r = Rie(a.rie, cmd, env_, rie_log, cwd)
                ries.append(r)
                resp, _ = r.invoke(kinesis_event(docs[:1], 10 * rep))
                colds.append((time.monotonic() - r.t_start) * 1000)
                assert resp == {"batchItemFailures": []}, (name, resp)
                if rep == 0:
                    for k in range(6):
                        resp, ms = r.invoke(kinesis_event(docs, 1000 * (k + 1)))
                        assert resp == {"batchItemFailures": []}, (name, str(resp)[:300])
                        if k:  # first batch is a warm-up
                            batches.append(ms)
                r.stop()
                ries.remove(r)
            with open(rie_log) as f:  # the 6 batches' lines; the first was the warm-up
                predicts = [float(m) for m in PREDICT_LOG.findall(f.read())][1:]
            assert len(predicts) == 5, (name, predicts)
            res[name] = [statistics.median(v) for v in (colds, batches, predicts)]
            log(
                f"{name}: cold start {colds} ms, 1,000-record batch {batches} ms, predict {predicts} ms"
            )
        c_out = read_all(kin, "bench_c_predictions")
        same = {
            other: same_predictions(c_out, read_all(kin, stream))
            for other, stream in (
                (old_c, "bench_c_old_predictions"),
                ("Python", "bench_py_predictions"),
            )
            if other != old_c or a.bootstrap_baseline
        }
    finally:
        for r in ries:
            r.stop()
        if fwd is not None and fwd.poll() is None:
            fwd.send_signal(signal.SIGTERM)
            try:
                fwd.wait(timeout=20)
            except subprocess.TimeoutExpired:
                fwd.kill()
                fwd.wait()
        subprocess.run(["bash", "-c", f". {ROOT}/tests/lib/cluster.sh; td_cluster_stop {pgdir}"])
        servers.stop()

    names = list(res)  # C bootstrap, [old scorer,] Python
    new, py = res["C bootstrap"], res["Python (awslambdaric)"]
    old = res.get(old_c)
    rows = (
        ("cold start: RIE start → first response (1 record), median of 3", "{:.0f} ms"),
        (
            "1,000-record batch, invoke round trip incl. 2 PutRecords to moto, median of 5 warm",
            "{:.0f} ms",
        ),
        (
            "1,000-record batch, predict part (decode, JSON, features, prediction), "
            "median of 5 warm, from each Lambda's own log",
            "{:.2f} ms",
        ),
    )
    table = [
        "| | " + " | ".join(names) + (" | new C / old C" if old else "") + " | Python / new C |",
        "|---" * (len(names) + (3 if old else 2)) + "|",
    ]
    for k, (what, fmt) in enumerate(rows):
        cells = [fmt.format(res[v][k]) for v in names]
        if old:
            cells.append(f"{new[k] / old[k]:.2f} x")
        table.append(f"| {what} | " + " | ".join(cells) + f" | {py[k] / new[k]:.1f} x |")
    per_record = "; ".join(f"{v}: {res[v][2]:.1f} µs" for v in names)
    checks = "; ".join(f"{v}: {ok}" for v, ok in same.items())
    table = "\n".join(table)
    txns = (n + 4999) // 5000
    built = f"; the old scorer's C bootstrap is `lambda/` built from `git archive {a.baseline_rev}"
    built += " lib lambda`"
    print(f"""
## Streaming — {time.strftime("%Y-%m-%d")} on {os.cpu_count()} cores, {platform.machine()}

Command: `{a.command}`

moto with SigV4 signature checking on, Kinesis streams of 2 shards, all on this host.

**Forwarder** (`forwarder/td-forwarder`): {n} trips of 2021-02 COPYed in {txns} transaction(s) of up to 5,000 before
the forwarder starts; from its start until `forwarder_status.records_sent` reached {n}:
{fwd_s:.2f} s = **{n / fwd_s:.0f} records/s** (every ride id found in the stream afterwards: {complete}).

**Lambda** under the same `aws-lambda-rie`, same bundle (`python/taxi_duration_ml/default_bundle.json`), same moto;
the Python handler is `bench/python_lambda/lambda_function.py` (MLOps Zoomcamp style, `taxi_duration_ml.bundle`,
batch predict, `put_records`) run with `awslambdaric`{built if old else ""}.

{table}

The predict part per record: {per_record}.

Each wrote the same 1,000 predictions as the C bootstrap, bit for bit, with the same model version: {checks}.
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
