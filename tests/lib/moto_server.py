"""moto's server (`moto_server`), with two fixes to its Kinesis shards: one request at a time,
and O(1) bookkeeping per record.

moto 5.x numbers a shard's records as "the largest sequence number + 1" without a lock
(moto/kinesis/models.py, Shard.put_record), so two PutRecords calls that reach one shard at
the same moment give two records the same number and one overwrites the other — a record
Kinesis accepted and then lost; and a GetRecords iterating the shard's records while a put adds
one fails with HTTP 500 (the dict changed size during iteration).  Real Kinesis does neither,
and the forwarder sends up to TD_INFLIGHT calls at once while the tests read, so every test
that counts lost records would blame the forwarder for moto's races.  This wrapper serialises
the Shard methods that touch its records.

It also makes a shard's bookkeeping cost O(1) per record instead of O(records in the shard):
moto finds a shard's last sequence number by listing all its keys on every put, and GetRecords
scans the shard from its first record to the iterator's position on every call, so a shard
holding 100,000 records spent most of a benchmark's CPU there (bench/bench_stream_latency.py
puts up to 300,000 records in 60 s).  The answers are the same: sequence numbers are 1, 2, 3, ...
per shard (nothing removes records), so the records after N start at key N + 1; a shard whose
keys are not that run falls back to moto's own scan.  Nothing else changes: moto still parses,
checks signatures (auth), stores and serves every request.

    python tests/lib/moto_server.py -H 127.0.0.1 -p PORT     (the arguments of moto_server)
"""

import threading

from moto.kinesis import models

_lock = threading.RLock()
_get_records = models.Shard.get_records


def _max_sequence_number(self):
    return next(reversed(self.records)) if self.records else 0


def _min_sequence_number(self):
    return next(iter(self.records)) if self.records else 0


def _get_records_from_key(self, last_sequence_id, limit):
    recs = self.records
    n = len(recs)
    if not n or next(iter(recs)) != 1 or next(reversed(recs)) != n:
        return _get_records(self, last_sequence_id, limit)  # not the run 1..n: moto's scan
    last = max(int(last_sequence_id), 0)
    stop = n if limit is None else min(n, last + int(limit))
    results = [recs[k] for k in range(last + 1, stop + 1)]
    if not results:
        return [], int(last_sequence_id), 0
    behind = recs[n].created_at - results[-1].created_at
    return results, results[-1].sequence_number, int(behind * 1000)


def _serialised(method):
    def call(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)

    return call


models.Shard.get_max_sequence_number = _max_sequence_number
models.Shard.get_min_sequence_number = _min_sequence_number
models.Shard.get_records = _get_records_from_key
for _name in (
    "put_record",
    "get_records",
    "get_min_sequence_number",
    "get_max_sequence_number",
    "get_sequence_number_at",
):
    setattr(models.Shard, _name, _serialised(getattr(models.Shard, _name)))

if __name__ == "__main__":
    from moto.server import main

    main()
