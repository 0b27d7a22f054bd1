"""End-to-end test of the C Lambda under the Runtime Interface Emulator.

    bash tests/lambda/run.sh                  (builds lambda/build/bootstrap, installs the emulator)
    python3 -m pytest -q tests/lambda         (after that; TD_RIE / TD_LAMBDA_BOOTSTRAP override)

Starts moto (tests/conftest.py: signature checking on, Kinesis on the same port as S3), creates
the trip-events and predictions streams (under TD_AWS_BACKEND=localstack, tests/localstack/run.sh:
LocalStack 4.14.0, whose compose READY hook has created them and the bucket), runs `aws-lambda-rie bootstrap` with the model and
stream settings, and invokes it with Kinesis-shaped events:

  * the MLOps Zoomcamp's streaming test trip ("the course's record": ride 256, 130 -> 205,
    3.66 mi) -> one prediction event in the predictions stream,
    bit-identical to taxi_duration_ml.bundle's reader, with the bundle's model name and version, partition
    key "256";
  * 1,000 real trips of 2021-02 -> all written, all bit-identical;
  * a batch mixing bad base64, bad JSON, missing fields, invalid values, no ride id and good
    records -> exactly the bad ones reported in batchItemFailures, the good ones written;
  * a bad record whose sequenceNumber and partitionKey carry "\\n" and a forged log line -> the
    log has no line starting with the forged text and shows it escaped, while
    batchItemFailures names the record verbatim;
  * values as the decoder writes them (issue 15): trip_distance "NaN" -> scored as missing, as
    SQL scores 'NaN' and NULL; "Infinity"/"-Infinity" -> failed records whose logged reason is
    SQL's error's; a number written as a string (a text zone column, "130") -> a failed record;
  * an event without Records -> an invocation error (Handler.InvalidEvent);
  * TEST_RUN=True -> predictions returned, nothing written;
  * a model URI that does not exist -> Runtime.InitError;
  * an s3:// model (SigV4, sha256 checked) -> loaded at cold start; a wrong sha256 -> refused.

Cold-start and handler timings are printed in the "measurements" summary.

Phases.  The first six groups (course record ... invalid event, then TEST_RUN) run against one
emulator and read the predictions stream incrementally, so each is a module-scoped fixture that
requests the previous one: selecting a subset with -k still runs the earlier invocations (not
their assertions) first.  A failed invocation errors that group's tests and the later ones.  The
missing-model and s3:// groups start their own emulators and depend on nothing before them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from aws_clients import ready_streams
from lambda_rie import Rie, kinesis_event

pytestmark = [pytest.mark.e2e, pytest.mark.servers]

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "python" / "taxi_duration_ml" / "default_bundle.json"
SAMPLE_EVENT = REPO / "lambda" / "events" / "kinesis_trip_256.json"
TRIPS_STREAM = "stg_taxi_trip_events"
PREDICTIONS_STREAM = "stg_taxi_predictions"
COURSE_EVENT = {
    "ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66},
    "ride_id": 256,
}
NO_FAILURES = {"batchItemFailures": []}


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


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    """The default bundle's reader, its model metadata, and the course ride's reference."""
    from taxi_duration_ml.bundle import load_bundle

    bundle = load_bundle(BUNDLE)
    meta = json.loads(BUNDLE.read_text())["model"]
    ref = float(bundle.predict([COURSE_EVENT["ride"]])[0])
    return SimpleNamespace(bundle=bundle, meta=meta, ref=ref)


@pytest.fixture(scope="module")
def lam(aws_servers, aws_client, rie_bin, lambda_bootstrap, workdir):
    """The streams, a predictions-stream reader, the function's environment, and start(env,
    log name) -> an emulator running the bootstrap (all stopped at the end of the module).
    moto by default; LocalStack (its READY hook's streams and bucket) under
    TD_AWS_BACKEND=localstack."""
    kin = aws_client("kinesis")
    ready_streams(kin, aws_servers, {TRIPS_STREAM: 1, PREDICTIONS_STREAM: 2})
    aws = {
        k: aws_servers.env[k]
        for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")
    }
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TD_", "MLFLOW_"))}
    base_env.update(aws)
    base_env.update(
        {
            "TD_MODEL_URI": f"file://{BUNDLE}",
            "PREDICTIONS_STREAM": PREDICTIONS_STREAM,
            "TD_PUT_BACKOFF_MS": "20",
        }
    )
    ries = []

    def start(env, log_name):
        rie = Rie(str(rie_bin), str(lambda_bootstrap), env, str(workdir / log_name))
        ries.append(rie)
        return rie

    yield SimpleNamespace(
        reader=StreamReader(kin, PREDICTIONS_STREAM),
        base_env=base_env,
        start=start,
        bucket=aws_servers.env.get("TD_MODEL_BUCKET", "rll-models-dev"),
        s3=aws_client("s3"),
    )
    for r in ries:
        r.stop()


# -- cold start and the course's record ----------------------------------------------------------


@pytest.fixture(scope="module")
def course(lam, model, note):
    rie = lam.start(lam.base_env, "rie.log")
    resp, first_ms = rie.invoke(kinesis_event([COURSE_EVENT]))
    cold_ms = (time.monotonic() - rie.t_start) * 1000
    got = lam.reader.read()
    m = re.search(r"loaded from .* in ([0-9.]+) ms", rie.log_text())
    init_ms = float(m.group(1)) if m else float("nan")
    note(
        f"lambda: cold start {cold_ms:.1f} ms from starting aws-lambda-rie to the first response "
        f"(first invoke {first_ms:.1f} ms; model load+compile inside bootstrap {init_ms:.1f} ms)"
    )
    event = json.loads(got[0]["Data"]) if len(got) == 1 else None
    return SimpleNamespace(rie=rie, resp=resp, got=got, event=event)


def one_event(course):
    assert len(course.got) == 1, f"expected one prediction event, got {len(course.got)} records"
    return course.got[0], course.event


def test_course_record_no_batch_item_failures(course):
    assert course.resp == NO_FAILURES


def test_course_record_one_prediction_event_written(course):
    one_event(course)


def test_course_record_partition_key_is_ride_id(course):
    rec, _ = one_event(course)
    assert rec["PartitionKey"] == "256"


def test_course_record_model_name_and_version_from_the_bundle(course, model):
    _, ev = one_event(course)
    assert ev["model"] == model.meta["name"] and ev["version"] == model.meta["version"], ev


def test_course_record_ride_id_256(course):
    _, ev = one_event(course)
    assert ev["prediction"]["ride_id"] == 256, ev


def test_course_record_ride_duration_bit_identical_to_the_reader(course, model):
    _, ev = one_event(course)
    got = ev["prediction"]["ride_duration"]
    assert bits(got) == bits(model.ref), f"ride_duration {got!r}, the reader's {model.ref!r}"


# -- ride ids are 64-bit integers, exact end to end --------------------------------------------

BIG_IDS = [2**53 + 1, -(2**63), 2**63 - 1, 10**17 + 3]  # ride_id is a bigint


@pytest.fixture(scope="module")
def big_ids(course, lam):
    events = [dict(COURSE_EVENT, ride_id=i) for i in BIG_IDS]
    resp, _ = course.rie.invoke(kinesis_event(events, first_seq=50))
    got = lam.reader.read()
    return resp, got


def test_big_ride_ids_no_batch_item_failures(big_ids):
    resp, got = big_ids
    assert resp == NO_FAILURES and len(got) == len(BIG_IDS), (resp, len(got))


def test_big_ride_ids_exact_in_the_partition_key_and_the_event(big_ids):
    _, got = big_ids
    seen = {}
    for rec in got:
        text = rec["Data"].decode() if isinstance(rec["Data"], bytes) else rec["Data"]
        ev = json.loads(text)
        seen[ev["prediction"]["ride_id"]] = rec["PartitionKey"]
        assert "e+" not in text and "E+" not in text, text
    assert seen == {i: str(i) for i in BIG_IDS}, seen


# -- 1,000 real trips ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def thousand(course, lam, model, trips_2021_02, note):
    df = trips_2021_02.head(1000)
    rides = [
        {
            "PULocationID": int(r.PULocationID),
            "DOLocationID": int(r.DOLocationID),
            "trip_distance": float(r.trip_distance),
        }
        for r in df.itertuples()
    ]
    refs = [float(x) for x in model.bundle.predict(rides)]
    events = [{"ride": ride, "ride_id": 10000 + i} for i, ride in enumerate(rides)]
    resp, batch_ms = course.rie.invoke(kinesis_event(events, first_seq=100))
    got = {int(r["PartitionKey"]): json.loads(r["Data"]) for r in lam.reader.read()}
    logs = re.findall(r"INFO 1000 records: .*", course.rie.log_text())
    note(
        f"lambda: 1,000-record invocation: {batch_ms:.1f} ms round trip through the emulator; "
        f"handler: {logs[-1] if logs else '?'}"
    )
    return SimpleNamespace(rides=rides, refs=refs, resp=resp, got=got, logs=logs)


def test_1000_trips_no_batch_item_failures(thousand):
    assert thousand.resp == NO_FAILURES, str(thousand.resp)[:300]


def test_1000_trips_all_prediction_events_written(thousand):
    n = len(thousand.rides)
    assert sorted(thousand.got) == list(range(10000, 10000 + n)), (
        f"{len(thousand.got)} of {n} prediction events found"
    )


def test_1000_trips_every_ride_duration_bit_identical_to_the_readers_batch(thousand):
    got = thousand.got
    mism = [
        i
        for i, ref in enumerate(thousand.refs)
        if 10000 + i not in got or bits(got[10000 + i]["prediction"]["ride_duration"]) != bits(ref)
    ]
    assert not mism, f"{len(mism)} differ or are missing, first {mism[:5]}"


def test_1000_trips_written_in_2_putrecords_calls(thousand):
    # PutRecords takes at most 500 records
    assert thousand.logs and "2 PutRecords calls" in thousand.logs[-1], thousand.logs


# -- a mixed batch -------------------------------------------------------------------------------

GOOD = {
    "20001": {
        "ride": {"PULocationID": 43, "DOLocationID": 151, "trip_distance": 1.01},
        "ride_id": 20001,
    },
    "ride-20002": {
        "ride": {"PULocationID": 166, "DOLocationID": 239, "trip_distance": 2.53},
        "ride_id": "ride-20002",
    },
}


@pytest.fixture(scope="module")
def mixed(thousand, course, lam):
    payloads = [
        GOOD["20001"],
        "!!!not base64!!!",  # bad base64
        "YWJj=",  # bad base64 (length)
        b'{"ride": {"PULocationID": 130,',  # bad JSON
        {"ride": {"PULocationID": 130, "trip_distance": 3.0}, "ride_id": 20003},  # missing
        {
            "ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": "far"},
            "ride_id": 20004,
        },  # invalid value
        {"ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.0}},  # no id
        GOOD["ride-20002"],
    ]
    ev = kinesis_event(payloads, first_seq=5000)
    seqs = [r["kinesis"]["sequenceNumber"] for r in ev["Records"]]
    resp, _ = course.rie.invoke(ev)
    got = lam.reader.read()
    return SimpleNamespace(
        resp=resp,
        want=[{"itemIdentifier": s} for s in seqs[1:7]],
        got=got,
        by_key={r["PartitionKey"]: json.loads(r["Data"]) for r in got},
    )


def test_mixed_batch_exactly_the_6_bad_records_in_batch_item_failures(mixed):
    assert mixed.resp == {"batchItemFailures": mixed.want}


def test_mixed_batch_the_2_good_records_written(mixed):
    keys = sorted(r["PartitionKey"] for r in mixed.got)
    assert keys == ["20001", "ride-20002"], keys


@pytest.mark.parametrize("key", sorted(GOOD))
def test_mixed_batch_prediction_exact(mixed, model, key):
    assert key in mixed.by_key, f"no prediction event for {key}: {sorted(mixed.by_key)}"
    e = mixed.by_key[key]
    ride = GOOD[key]
    assert (
        bits(e["prediction"]["ride_duration"]) == bits(model.bundle.predict([ride["ride"]])[0])
        and e["prediction"]["ride_id"] == ride["ride_id"]
    ), e


# -- log injection: a crafted record must not forge log lines -----------------------------------

FORGED_SEQ = "49650000000000000000000000000000000000000000000000000000\nERROR forged seq"
FORGED_KEY = "256\nERROR forged key\r\u2028x"


@pytest.fixture(scope="module")
def log_injection(mixed, course):
    ev = kinesis_event(["%%% not base64"], first_seq=6000)
    ev["Records"][0]["kinesis"]["sequenceNumber"] = FORGED_SEQ
    ev["Records"][0]["kinesis"]["partitionKey"] = FORGED_KEY
    ev["Records"][0]["eventID"] = "shardId-000000000000:" + FORGED_SEQ
    resp, _ = course.rie.invoke(ev)
    return SimpleNamespace(resp=resp, text=course.rie.log_text())


def test_log_injection_bad_record_reported_by_its_sequence_number_verbatim(log_injection):
    assert log_injection.resp == {"batchItemFailures": [{"itemIdentifier": FORGED_SEQ}]}


def test_log_injection_no_log_line_starts_with_the_forged_text(log_injection):
    forged = [
        ln for ln in log_injection.text.splitlines() if ln.lstrip().startswith("ERROR forged")
    ]
    assert not forged, forged


def test_log_injection_sequence_number_and_partition_key_logged_escaped(log_injection):
    text = log_injection.text
    assert "\\nERROR forged seq" in text and "256\\nERROR forged key\\r\\u2028x" in text, [
        ln for ln in text.splitlines() if "skipped" in ln
    ][-2:]


# -- an event the handler cannot take ------------------------------------------------------------


@pytest.fixture(scope="module")
def invalid_event(log_injection, course, lam):
    bad, _ = course.rie.invoke({"not": "kinesis"})
    after, _ = course.rie.invoke(kinesis_event([COURSE_EVENT], first_seq=7000))
    lam.reader.read()
    course.rie.stop()
    return SimpleNamespace(bad=bad, after=after)


def test_event_without_records_is_an_invocation_error(invalid_event):
    resp = invalid_event.bad
    assert isinstance(resp, dict) and resp.get("errorType") == "Handler.InvalidEvent", resp


def test_the_runtime_keeps_serving_after_an_error(invalid_event):
    assert invalid_event.after == NO_FAILURES, invalid_event.after


# -- TEST_RUN dry run -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dry_run(invalid_event, lam):
    rie = lam.start(dict(lam.base_env, TEST_RUN="True"), "rie-dry.log")
    resp, _ = rie.invoke(kinesis_event([COURSE_EVENT, "%%%"], first_seq=8000))
    time.sleep(0.2)
    written = lam.reader.read()
    # the sample event of the operations guide (docs/operations.md) gives the same number
    sample, _ = rie.invoke(json.loads(SAMPLE_EVENT.read_text()))
    rie.stop()
    return SimpleNamespace(resp=resp, written=written, sample=sample)


def test_test_run_returns_the_prediction_event(dry_run, model):
    preds = (dry_run.resp or {}).get("predictions", [])
    assert (
        len(preds) == 1
        and preds[0]["prediction"]["ride_id"] == 256
        and bits(preds[0]["prediction"]["ride_duration"]) == bits(model.ref)
        and preds[0]["version"] == model.meta["version"]
    ), dry_run.resp


def test_test_run_still_reports_the_bad_record(dry_run):
    assert len((dry_run.resp or {}).get("batchItemFailures", [])) == 1, dry_run.resp


def test_test_run_writes_nothing_to_the_predictions_stream(dry_run):
    assert dry_run.written == [], f"{len(dry_run.written)} records written"


def test_sample_event_kinesis_trip_256_predicted_as_the_reader_does(dry_run, model):
    preds = (dry_run.sample or {}).get("predictions", [])
    assert len(preds) == 1 and bits(preds[0]["prediction"]["ride_duration"]) == bits(model.ref), (
        dry_run.sample
    )


# -- non-finite values and strings, as the decoder writes them (issue 15) ------------------------
# A float8 trip_distance holding NaN or ±Infinity is written as the JSON string "NaN", "Infinity"
# or "-Infinity"; a zone column of type text as a string ("130").  The Lambda must give what SQL
# gives for the same row: predict_duration(130, 205, 'NaN') scores the distance as missing (as
# NULL); 'Infinity' is error 22023, "Input "trip_distance" is infinite, which is not allowed";
# SQL reads no text as a zone (tests/regress/sql/decoder.sql checks the SQL side).

ODD_RIDE = {"PULocationID": 130, "DOLocationID": 205}
ODD = [
    ("nan", {"ride": dict(ODD_RIDE, trip_distance="NaN"), "ride_id": 30001}),
    ("null", {"ride": dict(ODD_RIDE, trip_distance=None), "ride_id": 30002}),
    ("inf", {"ride": dict(ODD_RIDE, trip_distance="Infinity"), "ride_id": 30003}),
    ("-inf", {"ride": dict(ODD_RIDE, trip_distance="-Infinity"), "ride_id": 30004}),
    (
        "text zone",
        {"ride": dict(ODD_RIDE, PULocationID="130", trip_distance=3.66), "ride_id": 30005},
    ),
    ("text distance", {"ride": dict(ODD_RIDE, trip_distance="3.66"), "ride_id": 30006}),
]


@pytest.fixture(scope="module")
def odd_values(lam):
    rie = lam.start(dict(lam.base_env, TEST_RUN="True"), "rie-odd.log")
    ev = kinesis_event([p for _, p in ODD], first_seq=9500)
    seqs = {
        name: r["kinesis"]["sequenceNumber"]
        for (name, _), r in zip(ODD, ev["Records"], strict=True)
    }
    resp, _ = rie.invoke(ev)
    log = rie.log_text()
    rie.stop()
    preds = {
        p["prediction"]["ride_id"]: p["prediction"]["ride_duration"]
        for p in (resp or {}).get("predictions", [])
    }
    failed = {f["itemIdentifier"] for f in (resp or {}).get("batchItemFailures", [])}
    skipped = {
        name: [ln for ln in log.splitlines() if seq in ln and "skipped" in ln]
        for name, seq in seqs.items()
    }
    return SimpleNamespace(resp=resp, seqs=seqs, preds=preds, failed=failed, skipped=skipped)


def test_nan_distance_is_scored_as_missing_like_sql_nan_and_null(odd_values, model):
    p = odd_values.preds
    assert 30001 in p and 30002 in p, odd_values.resp
    ref = float(model.bundle.predict([dict(ODD_RIDE, trip_distance=None)])[0])
    assert bits(p[30001]) == bits(p[30002]) == bits(ref), (p, ref)


@pytest.mark.parametrize("name", ["inf", "-inf"])
def test_infinite_distance_is_a_failed_record_with_sqls_reason(odd_values, name):
    assert odd_values.seqs[name] in odd_values.failed, odd_values.resp
    assert 30003 not in odd_values.preds and 30004 not in odd_values.preds, odd_values.preds
    lines = odd_values.skipped[name]
    # the reason of SQL's error 22023 for predict_duration(130, 205, 'Infinity'), escaped
    assert lines and '\\"trip_distance\\" is infinite, which is not allowed' in lines[0], lines


@pytest.mark.parametrize(
    "name,key", [("text zone", "PULocationID"), ("text distance", "trip_distance")]
)
def test_a_number_written_as_a_string_is_a_failed_record_as_in_sql(odd_values, name, key):
    assert odd_values.seqs[name] in odd_values.failed, odd_values.resp
    lines = odd_values.skipped[name]
    assert lines and f'\\"{key}\\" is a JSON string, not a number' in lines[0], lines


def test_only_the_refused_records_fail(odd_values):
    want = {odd_values.seqs[n] for n in ("inf", "-inf", "text zone", "text distance")}
    assert odd_values.failed == want, odd_values.resp


# -- init failure ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def missing_model(lam):
    env = dict(lam.base_env, TD_MODEL_URI="file:///nonexistent/bundle.json")
    rie = lam.start(env, "rie-init.log")
    resp, _ = rie.invoke(kinesis_event([COURSE_EVENT], first_seq=9000))
    log = rie.log_text()
    rie.stop()
    return SimpleNamespace(resp=resp, log=log)


def test_missing_model_posts_runtime_init_error(missing_model):
    m = missing_model
    assert "Runtime.InitError" in json.dumps(m.resp) or "Runtime.InitError" in m.log, (
        f"{m.resp} / {m.log[-300:]}"
    )


def test_missing_model_reason_logged(missing_model):
    assert "could not open model bundle" in missing_model.log, missing_model.log[-300:]


# -- cold start from S3, as the database loads it (SigV4, sha256 checked) -------------------------


@pytest.fixture(scope="module")
def s3_bundles(lam):
    body = BUNDLE.read_bytes()
    for key, sha in (
        ("taxi-duration/lambda-test/bundle.json", hashlib.sha256(body).hexdigest()),
        ("taxi-duration/lambda-test/tampered.json", "0" * 64),
    ):
        lam.s3.put_object(Bucket=lam.bucket, Key=key, Body=body, Metadata={"sha256": sha})
    return f"s3://{lam.bucket}/taxi-duration/lambda-test"


def test_s3_model_loaded_at_cold_start_same_prediction_bit_for_bit(lam, s3_bundles, model):
    env = dict(lam.base_env, TEST_RUN="True", TD_MODEL_URI=f"{s3_bundles}/bundle.json")
    rie = lam.start(env, "rie-s3.log")
    resp, _ = rie.invoke(kinesis_event([COURSE_EVENT], first_seq=9100))
    rie.stop()
    preds = (resp or {}).get("predictions", [])
    assert len(preds) == 1 and bits(preds[0]["prediction"]["ride_duration"]) == bits(model.ref), (
        resp
    )


def test_s3_model_with_a_wrong_sha256_refused_at_init(lam, s3_bundles):
    env = dict(lam.base_env, TEST_RUN="True", TD_MODEL_URI=f"{s3_bundles}/tampered.json")
    rie = lam.start(env, "rie-s3-bad.log")
    resp, _ = rie.invoke(kinesis_event([COURSE_EVENT], first_seq=9200))
    log = rie.log_text()
    rie.stop()
    assert "Runtime.InitError" in json.dumps(resp) or "Runtime.InitError" in log, (
        f"{resp} / {log[-300:]}"
    )
