"""The forwarder as a process, and a reader of what it put in Kinesis (the forwarder and the
replica/failover suites).

    fwd = ForwarderProcess(binary, env, logpath)    # env: TD_* and AWS_* settings
    fwd.start(TD_FORWARDER_DSN=dsn)                  # extra settings for this start
    fwd.stop()                                       # SIGTERM, then SIGKILL after 20 s
    reader = Reader(kinesis_client, "stg_taxi_trip_events")
    reader.wait_for(ride_ids, timeout)               # the ids not seen in time
    reader.counts[ride_id]                           # records seen per ride id
"""

from __future__ import annotations

import collections
import json
import signal
import subprocess
import time


class Reader:
    """Reads every shard of a stream from TRIM_HORIZON on, incrementally."""

    def __init__(self, kin, stream: str):
        self.kin = kin
        self.iters = {}
        self.counts = collections.Counter()
        self.docs = {}
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
                    rid = doc.get("ride_id")
                    self.counts[rid] += 1
                    self.docs.setdefault(rid, (doc, rec["PartitionKey"]))
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
