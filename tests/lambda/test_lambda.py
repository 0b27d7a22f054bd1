#!/usr/bin/env python3
"""End-to-end test of the C Lambda under the Runtime Interface Emulator.

Started by tests/lambda/run.sh (which builds lambda/build/bootstrap and
installs aws-lambda-rie).  Starts moto (tests/lib/servers.py, Kinesis on
the same port as S3), creates the trip-events and predictions streams,
runs `aws-lambda-rie bootstrap` with the model and stream settings, and
invokes it with Kinesis-shaped events:

  * the course's trip (ride 256) -> one prediction event in the
    predictions stream, bit-identical to model.bundle's reader, with the
    bundle's model name and version, partition key "256";
  * 1,000 real trips of 2021-02 -> all written, all bit-identical;
  * a batch mixing bad base64, bad JSON, missing fields, invalid values,
    no ride id and good records -> exactly the bad ones reported in
    batchItemFailures, the good ones written;
  * a bad record whose sequenceNumber and partitionKey carry "\n" and a
    forged log line -> the log has no line starting with the forged text
    and shows it escaped, while batchItemFailures names the record verbatim;
  * an event without Records -> an invocation error (Handler.InvalidEvent);
  * TEST_RUN=True -> predictions returned, nothing written;
  * a model URI that does not exist -> Runtime.InitError.

Prints cold-start and handler timings and "N passed, M failed"; exits 1 on
any failure.  Every process it starts is stopped on the way out.
"""

import argparse
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import boto3  # noqa: E402
from lambda_rie import Rie, kinesis_event  # noqa: E402

BUNDLE = os.path.join(ROOT, "model", "default_bundle.json")
TRIPS_STREAM = "stg_taxi_trip_events"
PREDICTIONS_STREAM = "stg_taxi_predictions"
COURSE_EVENT = {
    "ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66},
    "ride_id": 256,
}

passed = 0
failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}" + (f": {detail}" if detail else ""))
    return cond


def bits(x):
    return struct.pack("<d", float(x))


class StreamReader:
    """Reads the predictions stream from where the last read stopped."""

    def __init__(self, kinesis, stream):
        self.k = kinesis
        self.its = {}
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            self.its[shard["ShardId"]] = kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def read(self):
        out = []
        for sid, it in self.its.items():
            while True:
                r = self.k.get_records(ShardIterator=it, Limit=10000)
                it = r["NextShardIterator"]
                out.extend(r["Records"])
                if not r["Records"]:
                    break
            self.its[sid] = it
        return out


def load_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rie", required=True)
    ap.add_argument("--bootstrap", required=True)
    args = ap.parse_args()

    from model.bundle import load_bundle
    from model.data import load_month

    bundle = load_bundle(BUNDLE)
    with open(BUNDLE) as f:
        meta = json.load(f)["model"]

    state = tempfile.mkdtemp(prefix="td-lambda-")
    ries = []
    servers = [sys.executable, os.path.join(ROOT, "tests", "lib", "servers.py")]
    subprocess.run(
        servers
        + [
            "start",
            "--state-dir",
            state,
            "--no-mlflow",
            "--watch-pid",
            str(os.getpid()),
            "--ttl",
            "1800",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        senv = load_env(os.path.join(state, "env"))
        aws = {
            k: senv[k]
            for k in (
                "AWS_ENDPOINT_URL",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_REGION",
            )
            if k in senv
        }
        aws.setdefault("AWS_REGION", "eu-north-1")
        kin = boto3.client(
            "kinesis",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            region_name=aws["AWS_REGION"],
            aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
        )
        kin.create_stream(StreamName=TRIPS_STREAM, ShardCount=1)
        kin.create_stream(StreamName=PREDICTIONS_STREAM, ShardCount=2)
        reader = StreamReader(kin, PREDICTIONS_STREAM)

        base_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TD_", "MLFLOW_"))
        }
        base_env.update(aws)
        base_env.update(
            {
                "TD_MODEL_URI": "file://" + BUNDLE,
                "PREDICTIONS_STREAM": PREDICTIONS_STREAM,
                "TD_PUT_BACKOFF_MS": "20",
            }
        )

        # -- cold start and the course's record --------------------------
        rie = Rie(args.rie, args.bootstrap, base_env, os.path.join(state, "rie.log"))
        ries.append(rie)
        resp, first_ms = rie.invoke(kinesis_event([COURSE_EVENT]))
        cold_ms = (time.monotonic() - rie.t_start) * 1000
        check(resp == {"batchItemFailures": []}, "course record: no batch item failures", resp)
        got = reader.read()
        ref = float(bundle.predict([COURSE_EVENT["ride"]])[0])
        ok = len(got) == 1
        if check(ok, "course record: one prediction event written", f"{len(got)} records"):
            ev = json.loads(got[0]["Data"])
            check(
                got[0]["PartitionKey"] == "256",
                "course record: partition key = ride id",
                got[0]["PartitionKey"],
            )
            check(
                ev["model"] == meta["name"] and ev["version"] == meta["version"],
                "course record: model name and version from the bundle",
                ev,
            )
            check(ev["prediction"]["ride_id"] == 256, "course record: ride_id 256", ev)
            check(
                bits(ev["prediction"]["ride_duration"]) == bits(ref),
                f"course record: ride_duration {ev['prediction']['ride_duration']!r} "
                f"bit-identical to the reader's {ref!r}",
            )
        m = re.search(r"loaded from .* in ([0-9.]+) ms", rie.log_text())
        init_ms = float(m.group(1)) if m else float("nan")
        print(
            f"# cold start: {cold_ms:.1f} ms from starting aws-lambda-rie to the first response "
            f"(first invoke {first_ms:.1f} ms; model load+compile inside bootstrap "
            f"{init_ms:.1f} ms)"
        )

        # -- 1,000 real trips --------------------------------------------
        df = load_month("2021-02", download=False).head(1000)
        rides = [
            {
                "PULocationID": int(r.PULocationID),
                "DOLocationID": int(r.DOLocationID),
                "trip_distance": float(r.trip_distance),
            }
            for r in df.itertuples()
        ]
        refs = [float(x) for x in bundle.predict(rides)]
        events = [{"ride": ride, "ride_id": 10000 + i} for i, ride in enumerate(rides)]
        resp, batch_ms = rie.invoke(kinesis_event(events, first_seq=100))
        check(
            resp == {"batchItemFailures": []},
            "1,000 trips: no batch item failures",
            str(resp)[:300],
        )
        got = {int(r["PartitionKey"]): json.loads(r["Data"]) for r in reader.read()}
        check(
            sorted(got) == list(range(10000, 10000 + len(rides))),
            f"1,000 trips: all {len(rides)} prediction events written",
            f"{len(got)} found",
        )
        mism = [
            i
            for i, ref in enumerate(refs)
            if 10000 + i not in got
            or bits(got[10000 + i]["prediction"]["ride_duration"]) != bits(ref)
        ]
        check(
            not mism,
            "1,000 trips: every ride_duration bit-identical to the reader's batch",
            f"{len(mism)} differ, first {mism[:5]}",
        )
        logs = re.findall(r"INFO 1000 records: .*", rie.log_text())
        check(
            bool(logs) and "2 PutRecords calls" in logs[-1],
            "1,000 trips: written in 2 PutRecords calls (500-record limit)",
            logs,
        )
        print(
            f"# 1,000-record invocation: {batch_ms:.1f} ms round trip through the emulator; "
            f"handler: {logs[-1] if logs else '?'}"
        )

        # -- a mixed batch -------------------------------------------------
        good = {
            "ride": {"PULocationID": 43, "DOLocationID": 151, "trip_distance": 1.01},
            "ride_id": 20001,
        }
        good2 = {
            "ride": {"PULocationID": 166, "DOLocationID": 239, "trip_distance": 2.53},
            "ride_id": "ride-20002",
        }
        payloads = [
            good,
            "!!!not base64!!!",  # bad base64
            "YWJj=",  # bad base64 (length)
            b'{"ride": {"PULocationID": 130,',  # bad JSON
            {"ride": {"PULocationID": 130, "trip_distance": 3.0}, "ride_id": 20003},  # missing
            {
                "ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": "far"},
                "ride_id": 20004,
            },  # invalid value
            {"ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.0}},  # no id
            good2,
        ]
        ev = kinesis_event(payloads, first_seq=5000)
        seqs = [r["kinesis"]["sequenceNumber"] for r in ev["Records"]]
        resp, _ = rie.invoke(ev)
        want = [{"itemIdentifier": s} for s in seqs[1:7]]
        check(
            resp == {"batchItemFailures": want},
            "mixed batch: exactly the 6 bad records in batchItemFailures",
            resp,
        )
        got = reader.read()
        keys = sorted(r["PartitionKey"] for r in got)
        check(keys == ["20001", "ride-20002"], "mixed batch: the 2 good records written", keys)
        for r in got:
            e = json.loads(r["Data"])
            ride = good if r["PartitionKey"] == "20001" else good2
            check(
                bits(e["prediction"]["ride_duration"]) == bits(bundle.predict([ride["ride"]])[0])
                and e["prediction"]["ride_id"] == ride["ride_id"],
                f"mixed batch: prediction for {r['PartitionKey']} exact",
                e,
            )

        # -- log injection: a crafted record must not forge log lines --------------
        forged_seq = "49650000000000000000000000000000000000000000000000000000\nERROR forged seq"
        forged_key = "256\nERROR forged key\r\u2028x"
        ev = kinesis_event(["%%% not base64"], first_seq=6000)
        ev["Records"][0]["kinesis"]["sequenceNumber"] = forged_seq
        ev["Records"][0]["kinesis"]["partitionKey"] = forged_key
        ev["Records"][0]["eventID"] = "shardId-000000000000:" + forged_seq
        resp, _ = rie.invoke(ev)
        check(
            resp == {"batchItemFailures": [{"itemIdentifier": forged_seq}]},
            "log injection: the bad record is reported by its sequence number verbatim",
            resp,
        )
        text = rie.log_text()
        forged = [ln for ln in text.splitlines() if ln.lstrip().startswith("ERROR forged")]
        check(not forged, "log injection: no log line starts with the forged text", forged)
        check(
            "\\nERROR forged seq" in text and "256\\nERROR forged key\\r\\u2028x" in text,
            "log injection: sequence number and partition key logged escaped",
            [ln for ln in text.splitlines() if "skipped" in ln][-2:],
        )

        # -- an event the handler cannot take --------------------------------
        resp, _ = rie.invoke({"not": "kinesis"})
        check(
            isinstance(resp, dict) and resp.get("errorType") == "Handler.InvalidEvent",
            "event without Records: invocation error Handler.InvalidEvent",
            resp,
        )
        resp, _ = rie.invoke(kinesis_event([COURSE_EVENT], first_seq=7000))
        check(resp == {"batchItemFailures": []}, "the runtime keeps serving after an error", resp)
        reader.read()
        rie.stop()

        # -- TEST_RUN dry run -------------------------------------------------
        env = dict(base_env, TEST_RUN="True")
        rie = Rie(args.rie, args.bootstrap, env, os.path.join(state, "rie-dry.log"))
        ries.append(rie)
        resp, _ = rie.invoke(kinesis_event([COURSE_EVENT, "%%%"], first_seq=8000))
        preds = (resp or {}).get("predictions", [])
        check(
            len(preds) == 1
            and preds[0]["prediction"]["ride_id"] == 256
            and bits(preds[0]["prediction"]["ride_duration"]) == bits(ref)
            and preds[0]["version"] == meta["version"],
            "TEST_RUN: the prediction event is returned",
            resp,
        )
        check(
            len((resp or {}).get("batchItemFailures", [])) == 1,
            "TEST_RUN: the bad record is still reported",
            resp,
        )
        time.sleep(0.2)
        check(reader.read() == [], "TEST_RUN: nothing written to the predictions stream")
        # the sample event of the operations guide (docs/operations.md) gives the same number
        with open(os.path.join(ROOT, "lambda", "events", "kinesis_trip_256.json")) as f:
            sample = json.load(f)
        resp, _ = rie.invoke(sample)
        preds = (resp or {}).get("predictions", [])
        check(
            len(preds) == 1 and bits(preds[0]["prediction"]["ride_duration"]) == bits(ref),
            "lambda/events/kinesis_trip_256.json: ride 256 predicted as the reader does",
            resp,
        )
        rie.stop()

        # -- init failure -------------------------------------------------------
        env = dict(base_env, TD_MODEL_URI="file:///nonexistent/bundle.json")
        rie = Rie(args.rie, args.bootstrap, env, os.path.join(state, "rie-init.log"))
        ries.append(rie)
        resp, _ = rie.invoke(kinesis_event([COURSE_EVENT], first_seq=9000))
        log = rie.log_text()
        check(
            "Runtime.InitError" in json.dumps(resp) or "Runtime.InitError" in log,
            "missing model: Runtime.InitError posted",
            f"{resp} / {log[-300:]}",
        )
        check("could not open model bundle" in log, "missing model: reason logged")
        rie.stop()

        # -- cold start from S3, as the database loads it (SigV4, sha256 checked) --------
        s3 = boto3.client(
            "s3",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            region_name=aws["AWS_REGION"],
            aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
        )
        body = open(BUNDLE, "rb").read()
        bucket = senv.get("TD_MODEL_BUCKET", "rll-models-dev")
        s3.put_object(
            Bucket=bucket,
            Key="taxi-duration/lambda-test/bundle.json",
            Body=body,
            Metadata={"sha256": hashlib.sha256(body).hexdigest()},
        )
        s3.put_object(
            Bucket=bucket,
            Key="taxi-duration/lambda-test/tampered.json",
            Body=body,
            Metadata={"sha256": "0" * 64},
        )
        env = dict(
            base_env,
            TEST_RUN="True",
            TD_MODEL_URI=f"s3://{bucket}/taxi-duration/lambda-test/bundle.json",
        )
        rie = Rie(args.rie, args.bootstrap, env, os.path.join(state, "rie-s3.log"))
        ries.append(rie)
        resp, _ = rie.invoke(kinesis_event([COURSE_EVENT], first_seq=9100))
        preds = (resp or {}).get("predictions", [])
        check(
            len(preds) == 1 and bits(preds[0]["prediction"]["ride_duration"]) == bits(ref),
            "s3:// model: loaded at cold start, same prediction bit for bit",
            resp,
        )
        rie.stop()
        env = dict(
            base_env,
            TEST_RUN="True",
            TD_MODEL_URI=f"s3://{bucket}/taxi-duration/lambda-test/tampered.json",
        )
        rie = Rie(args.rie, args.bootstrap, env, os.path.join(state, "rie-s3-bad.log"))
        ries.append(rie)
        resp, _ = rie.invoke(kinesis_event([COURSE_EVENT], first_seq=9200))
        log = rie.log_text()
        check(
            "Runtime.InitError" in json.dumps(resp) or "Runtime.InitError" in log,
            "s3:// model with a wrong sha256: refused at init",
            f"{resp} / {log[-300:]}",
        )
        rie.stop()
    finally:
        for r in ries:
            r.stop()
        subprocess.run(servers + ["stop", "--state-dir", state], stdout=subprocess.DEVNULL)

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a crash of the driver is a failure too
        import traceback

        traceback.print_exc()
        print(f"{passed} passed, {failed + 1} failed")
        sys.exit(1)
