"""moto's server (`moto_server`), with one fix: a Kinesis shard is used by one request at a time.

moto 5.x numbers a shard's records as "the largest sequence number + 1" without a lock
(moto/kinesis/models.py, Shard.put_record), so two PutRecords calls that reach one shard at
the same moment give two records the same number and one overwrites the other — a record
Kinesis accepted and then lost; and a GetRecords iterating the shard's records while a put adds
one fails with HTTP 500 (the dict changed size during iteration).  Real Kinesis does neither,
and the forwarder sends up to TD_INFLIGHT calls at once while the tests read, so every test
that counts lost records would blame the forwarder for moto's races.  This wrapper serialises
the Shard methods that touch its records and changes nothing else: moto still parses, checks
signatures (auth), stores and serves every request.

    python tests/lib/moto_server.py -H 127.0.0.1 -p PORT     (the arguments of moto_server)
"""

import threading

from moto.kinesis import models

_lock = threading.RLock()


def _serialised(method):
    def call(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)

    return call


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
