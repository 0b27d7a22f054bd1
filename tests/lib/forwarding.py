"""The forwarder as a process, and a reader of what it put in Kinesis (the forwarder and the
replica/failover suites).

    env = forwarder_env(moto.env, TD_SLOT=..., ...)  # os.environ + moto's endpoint and keys
    fwd = ForwarderProcess(binary, env, logpath)     # env: TD_* and AWS_* settings
    fwd.start(TD_FORWARDER_DSN=dsn)                  # extra settings for this start
    fwd.stop()                                       # SIGTERM, then SIGKILL after 20 s
    reader = Reader(kinesis_client, "stg_taxi_trip_events")   # ride id: doc["ride_id"]
    Reader(kin, "stg_taxi_predictions", ride_id=lambda d: d["prediction"]["ride_id"])
    reader.wait_for(ride_ids, timeout)               # the ids not seen in time
    reader.counts[ride_id]                           # records seen per ride id
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time


def forwarder_env(aws_env: dict, **settings: str) -> dict:
    """The forwarder's environment: this process's, moto's endpoint, region and keys (from a
    Servers.env), then `settings` (TD_SLOT, TD_TABLES, ...)."""
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL=aws_env["AWS_ENDPOINT_URL"],
        AWS_REGION=aws_env["AWS_REGION"],
        AWS_ACCESS_KEY_ID=aws_env["AWS_ACCESS_KEY_ID"],
        AWS_SECRET_ACCESS_KEY=aws_env["AWS_SECRET_ACCESS_KEY"],
        **settings,
    )
    env.pop("AWS_ENDPOINT_URL_S3", None)
    return env


# The trips table, slot and stream the replica and failover suites forward (tests/ha), and the
# settings of a server the forwarder decodes on.
LOGICAL_CONF = [
    "wal_level = logical",
    "max_replication_slots = 8",
    "max_wal_senders = 8",
    "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'",
]
TRIPS_STREAM = "stg_taxi_trip_events"
TRIPS_SLOT = "taxi_trips_kinesis"
TRIPS_COLUMNS = (
    "pulocationid:PULocationID,dolocationid:DOLocationID,trip_distance,lpep_pickup_datetime"
)
TRIPS_DDL = (
    "CREATE TABLE trips (ride_id bigint PRIMARY KEY, pulocationid int, dolocationid int,"
    " trip_distance float8, lpep_pickup_datetime timestamp)"
)


def trips_forwarder_env(aws_env: dict, **settings: str) -> dict:
    """forwarder_env for public.trips → TRIPS_STREAM through TRIPS_SLOT, polling every 100 ms."""
    return forwarder_env(
        aws_env,
        TD_SLOT=TRIPS_SLOT,
        TD_TABLES="public.trips",
        TD_TRIPS_STREAM=TRIPS_STREAM,
        TD_COLUMNS=TRIPS_COLUMNS,
        TD_POLL_MS="100",
        TD_BACKOFF_MAX_MS="500",
        **settings,
    )


class Reader:
    """Reads every shard of a stream from TRIM_HORIZON on, incrementally."""

    def __init__(
        self, kin, stream: str, ride_id=lambda doc: doc.get("ride_id"), version=lambda doc: None
    ):
        """`version(doc)`, when not None, is kept per ride id in the order its shard holds them
        (`versions`)."""
        self.kin = kin
        self.ride_id = ride_id
        self.version = version
        self.iters = {}
        self.counts = collections.Counter()
        self.docs = {}
        self.versions = collections.defaultdict(list)  # ride id -> version(doc)s in shard order
        self.max_commit = 0
        for sh in kin.list_shards(StreamName=stream)["Shards"]:
            self.iters[sh["ShardId"]] = kin.get_shard_iterator(
                StreamName=stream, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def poll(self):
        for sid, it in list(self.iters.items()):
            while it:
                r = self.kin.get_records(ShardIterator=it, Limit=10000)
                it = r.get("NextShardIterator")
                for rec in r["Records"]:
                    doc = json.loads(rec["Data"])
                    rid = self.ride_id(doc)
                    self.counts[rid] += 1
                    self.docs.setdefault(rid, (doc, rec["PartitionKey"]))
                    if (v := self.version(doc)) is not None:
                        self.versions[rid].append(v)
                    if "commit_lsn" in doc:
                        hi, lo = doc["commit_lsn"].split("/")
                        self.max_commit = max(self.max_commit, (int(hi, 16) << 32) | int(lo, 16))
                if not r["Records"]:
                    break
            self.iters[sid] = it

    def wait_for(self, ids, timeout):
        deadline = time.time() + timeout
        while True:
            self.poll()
            missing = [i for i in ids if self.counts[i] == 0]
            if not missing or time.time() > deadline:
                return missing
            time.sleep(0.3)

    def dups(self, ids):
        return sum(self.counts[i] - 1 for i in ids if self.counts[i] > 1)


class ForwarderProcess:
    """forwarder/td-forwarder, its stderr appended to logpath."""

    def __init__(self, binary, env, logpath):
        self.binary, self.env, self.logpath, self.proc = str(binary), env, str(logpath), None

    def start(self, **extra):
        env = dict(self.env, **extra)
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary], env=env, stdout=subprocess.DEVNULL, stderr=log
            )

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None

    def log_tail(self, n=30):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except FileNotFoundError:
            return ""
