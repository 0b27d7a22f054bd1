"""A stand-in for Lambda's Kinesis event-source mapping (ESM), for the streaming tests
(tests/streaming/test_e2e.py) and for running the streaming path by hand (tests/streaming/poller.py).

    poller = Poller(kinesis_client, function, region)    # function.invoke(event) -> (response, ms)
    poller.start(); ...; poller.stop_ev.set(); poller.join()

Reads every shard of the trip stream from TRIM_HORIZON, invokes the function with batches of
Kinesis-shaped records (at most BATCH), and re-sends the items in batchItemFailures.
"""

from __future__ import annotations

import base64
import json
import threading
import time

TRIPS = "stg_taxi_trip_events"
BATCH = 500  # records per Lambda invocation (ESM BatchSize)


class Poller(threading.Thread):
    """Stands in for Lambda's Kinesis event-source mapping: reads every shard
    of the trip stream from TRIM_HORIZON, invokes the function with batches of
    Kinesis-shaped records, and re-sends the items in batchItemFailures."""

    def __init__(self, kin, rie, region, stream=TRIPS):
        super().__init__(daemon=True)
        self.kin, self.rie, self.region = kin, rie, region
        self.stop_ev = threading.Event()
        self.trip_docs = {}
        self.invocations = self.records = self.retried = 0
        self.errors = []
        self.arn = kin.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        self.iters = {}
        for sh in kin.list_shards(StreamName=stream)["Shards"]:
            self.iters[sh["ShardId"]] = kin.get_shard_iterator(
                StreamName=stream, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
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
