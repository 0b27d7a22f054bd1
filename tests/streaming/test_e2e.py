#!/usr/bin/env python3
"""End-to-end test of the streaming path: PostgreSQL -> forwarder -> Kinesis
-> (poller standing in for the event-source mapping) -> C Lambda under the
RIE -> Kinesis predictions.

    python3 tests/streaming/test_e2e.py WORKDIR --rie RIE --bootstrap BOOTSTRAP
    (tests/streaming/run.sh does this)

Cases:
  (a) the course's record (ride 256: 130 -> 205, 3.66 mi, no pickup time)
      -> one prediction for 256 equal, as float8, to
      SELECT taxi_duration.predict_duration(130, 205, 3.66);
  (b) 10,000 real trips of 2021-02 with lpep_pickup_datetime -> every ride id
      predicted, each bit-identical to predict_duration(pu, do, dist, pickup)
      in SQL, trip events carry lpep_pickup_datetime, duplicates counted,
      model version = model_info().model_version.
Ends with "N passed, M failed"; exit 1 on any failure.
"""

import argparse
import base64
import collections
import io
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback

import boto3
import psycopg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, ROOT)
from lambda_rie import Rie  # noqa: E402
from servers import Servers  # noqa: E402

TRIPS = "stg_taxi_trip_events"
PREDS = "stg_taxi_predictions"
SLOT = "taxi_trips_kinesis"
PORT = 54493
FWD = os.path.join(ROOT, "forwarder", "td-forwarder")
BUNDLE = os.path.join(ROOT, "model", "default_bundle.json")
N_REAL = 10000
REAL_BASE = 100000
BATCH = 500  # records per Lambda invocation (ESM BatchSize)

results = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    log(f"{'ok  ' if cond else 'FAIL'} {name}{(': ' + str(detail)[:400]) if detail else ''}")


def bits(x):
    return struct.pack("<d", float(x))


def sh_cluster(cmd):
    subprocess.run(["bash", "-c", f". {ROOT}/tests/lib/cluster.sh; {cmd}"], check=True)


class Poller(threading.Thread):
    """Stands in for Lambda's Kinesis event-source mapping: reads every shard
    of the trip stream from TRIM_HORIZON, invokes the function with batches of
    Kinesis-shaped records, and re-sends the items in batchItemFailures."""

    def __init__(self, kin, rie, region):
        super().__init__(daemon=True)
        self.kin, self.rie, self.region = kin, rie, region
        self.stop_ev = threading.Event()
        self.trip_docs = {}
        self.invocations = self.records = self.retried = 0
        self.errors = []
        self.arn = kin.describe_stream_summary(StreamName=TRIPS)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        self.iters = {}
        for sh in kin.list_shards(StreamName=TRIPS)["Shards"]:
            self.iters[sh["ShardId"]] = kin.get_shard_iterator(
                StreamName=TRIPS, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def to_event_record(self, sid, rec):
        seq = rec["SequenceNumber"]
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": rec["PartitionKey"],
                "sequenceNumber": seq,
                # boto3 decodes the base64 it received; re-encoding gives it back as received
                "data": base64.b64encode(rec["Data"]).decode(),
                "approximateArrivalTimestamp": rec["ApproximateArrivalTimestamp"].timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{sid}:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda",
            "awsRegion": self.region,
            "eventSourceARN": self.arn,
        }

    def deliver(self, records):
        """Invoke until no item fails (at most 5 attempts, like a bounded retry)."""
        for _attempt in range(5):
            resp, _ = self.rie.invoke({"Records": records})
            self.invocations += 1
            if not isinstance(resp, dict) or "batchItemFailures" not in resp:
                self.errors.append(str(resp)[:300])
                time.sleep(0.2)
                continue  # whole-batch error: the ESM retries the batch
            failed = {f["itemIdentifier"] for f in resp["batchItemFailures"]}
            if not failed:
                return
            self.errors.append(f"{len(failed)} batch item failures")
            self.retried += len(failed)
            records = [r for r in records if r["kinesis"]["sequenceNumber"] in failed]
        self.errors.append(f"gave up on {len(records)} records")

    def run(self):
        while not self.stop_ev.is_set():
            got = 0
            for sid, it in list(self.iters.items()):
                r = self.kin.get_records(ShardIterator=it, Limit=BATCH)
                self.iters[sid] = r["NextShardIterator"]
                recs = r["Records"]
                got += len(recs)
                for rec in recs:
                    try:
                        doc = json.loads(rec["Data"])
                        self.trip_docs.setdefault(doc.get("ride_id"), doc)
                    except ValueError:
                        pass
                if recs:
                    self.records += len(recs)
                    self.deliver([self.to_event_record(sid, x) for x in recs])
            if not got:
                self.stop_ev.wait(0.2)


def read_predictions(kin, iters, counts, docs):
    for sid, it in list(iters.items()):
        while True:
            r = kin.get_records(ShardIterator=it, Limit=10000)
            it = r["NextShardIterator"]
            for rec in r["Records"]:
                d = json.loads(rec["Data"])
                rid = d["prediction"]["ride_id"]
                counts[rid] += 1
                docs.setdefault(rid, (d, rec["PartitionKey"]))
            if not r["Records"]:
                break
        iters[sid] = it


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--rie", required=True)
    ap.add_argument("--bootstrap", required=True)
    a = ap.parse_args()
    work = a.work

    os.environ.setdefault("TAXI_DATA_DIR", "/work/shared/data")
    from model.data import load_month

    df = load_month("2021-02", download=False).head(N_REAL)
    log(f"loaded {len(df)} real trips of 2021-02")

    pgdir = os.path.join(work, "pg")
    servers = Servers(os.path.join(work, "servers"), auth=True, mlflow=False)
    fwd = rie = poller = None
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
        kin = boto3.client(
            "kinesis",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            region_name=aws["AWS_REGION"],
            aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
        )
        kin.create_stream(StreamName=TRIPS, ShardCount=2)
        kin.create_stream(StreamName=PREDS, ShardCount=2)
        for s in (TRIPS, PREDS):
            kin.get_waiter("stream_exists").wait(StreamName=s, WaiterConfig={"Delay": 0.2})

        sh_cluster(
            f"td_cluster_start {pgdir} {PORT} \"shared_preload_libraries = 'taxi_duration'\n"
            "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\n"
            "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'\""
        )
        dsn = f"host={pgdir} port={PORT} dbname=postgres user=postgres"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE EXTENSION taxi_duration")
            c.execute(
                "CREATE TABLE trips (ride_id bigint PRIMARY KEY, pulocationid int,"
                " dolocationid int, trip_distance float8, lpep_pickup_datetime timestamp)"
            )
            c.execute("SELECT pg_create_logical_replication_slot(%s, 'taxi_duration')", (SLOT,))
            version = c.execute("SELECT model_version FROM taxi_duration.model_info()").fetchone()[
                0
            ]
            course_sql = c.execute(
                "SELECT taxi_duration.predict_duration(130, 205, 3.66)"
            ).fetchone()[0]
        log(f"extension model_version {version}; predict_duration(130, 205, 3.66) = {course_sql!r}")

        # forwarder (default plugin columns: the course's fields + lpep_pickup_datetime)
        fenv = dict(
            os.environ,
            TD_FORWARDER_DSN=dsn,
            TD_SLOT=SLOT,
            TD_TRIPS_STREAM=TRIPS,
            TD_POLL_MS="100",
            **aws,
        )
        fenv.pop("AWS_ENDPOINT_URL_S3", None)
        fwd = subprocess.Popen(
            [FWD],
            env=fenv,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(work, "forwarder.log"), "ab"),
        )

        # the Lambda under the RIE
        lenv = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TD_", "MLFLOW_"))}
        lenv.update(aws)
        lenv.update({"TD_MODEL_URI": "file://" + BUNDLE, "PREDICTIONS_STREAM": PREDS})
        rie = Rie(a.rie, a.bootstrap, lenv, os.path.join(work, "rie.log"))
        poller = Poller(kin, rie, aws["AWS_REGION"])
        poller.start()

        piters = {
            sh["ShardId"]: kin.get_shard_iterator(
                StreamName=PREDS, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for sh in kin.list_shards(StreamName=PREDS)["Shards"]
        }
        counts, docs = collections.Counter(), {}

        def wait_for(ids, timeout):
            deadline = time.time() + timeout
            while True:
                read_predictions(kin, piters, counts, docs)
                missing = [i for i in ids if counts[i] == 0]
                if not missing or time.time() > deadline:
                    return missing
                time.sleep(0.3)

        # -- (a) the course's record ------------------------------------------
        t0 = time.time()
        with psycopg.connect(dsn) as c:
            c.execute(
                "INSERT INTO trips (ride_id, pulocationid, dolocationid, trip_distance)"
                " VALUES (256, 130, 205, 3.66)"
            )
        missing = wait_for([256], 60)
        check(
            "a: a prediction event for ride 256 reached stg_taxi_predictions",
            not missing,
            f"after {time.time() - t0:.1f} s",
        )
        if not missing:
            d, pk = docs[256]
            got = float(json.loads(json.dumps(d["prediction"]["ride_duration"])))
            check(
                f"a: ride_duration {got!r} == SQL predict_duration(130, 205, 3.66) {course_sql!r}",
                bits(got) == bits(course_sql),
            )
            check(
                "a: partition key 256, model version = model_info().model_version",
                pk == "256" and d["version"] == version,
                d,
            )
            log(f"a: end-to-end latency of one insert: {time.time() - t0:.2f} s")

        # -- (b) 10,000 real trips with pickup times ------------------------------
        ids = list(range(REAL_BASE, REAL_BASE + len(df)))
        buf = io.StringIO()
        for rid, row in zip(ids, df.itertuples(), strict=True):
            buf.write(
                f"{rid},{int(row.PULocationID)},{int(row.DOLocationID)},"
                f"{float(row.trip_distance)!r},{row.lpep_pickup_datetime}\n"
            )
        t0 = time.time()
        with psycopg.connect(dsn) as c:
            chunk = buf.getvalue().splitlines(keepends=True)
            for k in range(0, len(chunk), 2500):  # 4 transactions
                with c.cursor().copy(
                    "COPY trips (ride_id, pulocationid, dolocationid,"
                    " trip_distance, lpep_pickup_datetime) FROM STDIN"
                    " WITH (FORMAT csv)"
                ) as cp:
                    cp.write("".join(chunk[k : k + 2500]))
                c.commit()
        missing = wait_for(ids, 90)
        el = time.time() - t0
        check(
            f"b: all {len(ids)} ride ids predicted",
            not missing,
            f"{len(missing)} missing, first {missing[:5]}",
        )
        log(
            f"b: {len(ids) - len(missing)} predictions in {el:.1f} s from COPY "
            f"({(len(ids) - len(missing)) / el:.0f} trips/s end to end)"
        )
        with psycopg.connect(dsn, autocommit=True) as c:
            ref = dict(
                c.execute(
                    "SELECT ride_id, taxi_duration.predict_duration(pulocationid, dolocationid,"
                    " trip_distance, lpep_pickup_datetime) FROM trips WHERE ride_id >= %s",
                    (REAL_BASE,),
                ).fetchall()
            )
        diff = [
            i
            for i in ids
            if i in docs and bits(float(docs[i][0]["prediction"]["ride_duration"])) != bits(ref[i])
        ]
        check(
            "b: every prediction bit-identical to SQL predict_duration(..., lpep_pickup_datetime)",
            not diff and not missing,
            f"{len(diff)} differ, e.g. {[(i, docs[i][0]['prediction']['ride_duration'], ref[i]) for i in diff[:3]]}",
        )
        no_time = [
            i
            for i in ids
            if i not in poller.trip_docs
            or not poller.trip_docs[i].get("ride", {}).get("lpep_pickup_datetime")
        ]
        check(
            "b: every trip event carries ride.lpep_pickup_datetime",
            not no_time,
            f"{len(no_time)} without, e.g. {poller.trip_docs.get(ids[0])}",
        )
        # the pickup time must matter: a few rows where 3-arg != 4-arg prove the Lambda used it
        with psycopg.connect(dsn, autocommit=True) as c:
            n_time_matters = c.execute(
                "SELECT count(*) FROM trips WHERE ride_id >= %s AND"
                " taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance)"
                " <> taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance,"
                " lpep_pickup_datetime)",
                (REAL_BASE,),
            ).fetchone()[0]
        log(f"b: rows where the pickup time changes the SQL prediction: {n_time_matters}")
        badver = [i for i in docs if docs[i][0].get("version") != version]
        check(
            "b: model version in every event = model_info().model_version",
            not badver,
            f"{len(badver)} differ, e.g. {docs[badver[0]][0] if badver else ''}",
        )
        check(
            "b: partition key = ride id in every prediction event",
            all(docs[i][1] == str(i) for i in docs),
        )
        total = sum(counts.values())
        log(
            f"duplicates (at least once): {total - len(counts)} in {total} prediction events "
            f"for {len(counts)} ride ids; poller: {poller.records} trip records, "
            f"{poller.invocations} invocations, {poller.retried} items re-sent, "
            f"errors {poller.errors[:3]}"
        )
        with psycopg.connect(dsn, autocommit=True) as c:
            lag = c.execute(
                "SELECT records_sent, records_dead, records_pending, retained_wal"
                " FROM taxi_duration.forwarder_lag"
            ).fetchall()
        log(f"forwarder_lag (sent, dead, pending, retained WAL): {lag}")
    except Exception:
        traceback.print_exc()
        results.append(("unexpected exception", False))
    finally:
        if poller is not None:
            poller.stop_ev.set()
            poller.join(timeout=30)
        if fwd is not None and fwd.poll() is None:
            fwd.send_signal(signal.SIGTERM)
            try:
                fwd.wait(timeout=20)
            except subprocess.TimeoutExpired:
                fwd.kill()
                fwd.wait()
        if rie is not None:
            rie.stop()
        try:
            sh_cluster(f"td_cluster_stop {pgdir}")
        except Exception:
            pass
        servers.stop()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
