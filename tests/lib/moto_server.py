"""moto's server (`moto_server`), with one fix: a Kinesis shard stores one record at a time.

moto 5.x numbers a shard's records as "the largest sequence number + 1" without a lock
(moto/kinesis/models.py, Shard.put_record), so two PutRecords calls that reach one shard at
the same moment give two records the same number and one overwrites the other — a record
Kinesis accepted and then lost.  Real Kinesis never does that, and the forwarder sends up to
TD_INFLIGHT calls at once, so every test that counts lost records would blame the forwarder
for moto's race.  This wrapper serialises Shard.put_record and changes nothing else: moto
still parses, signs (auth), stores and serves every request.

    python tests/lib/moto_server.py -H 127.0.0.1 -p PORT     (the arguments of moto_server)
"""

import threading

from moto.kinesis import models

_put_record = models.Shard.put_record
_lock = threading.Lock()


def _put_record_serialised(self, *args, **kwargs):
    with _lock:
        return _put_record(self, *args, **kwargs)


models.Shard.put_record = _put_record_serialised

if __name__ == "__main__":
    from moto.server import main

    main()
