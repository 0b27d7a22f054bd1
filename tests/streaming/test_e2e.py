"""End-to-end test of the streaming path: PostgreSQL -> forwarder -> Kinesis -> (poller standing
in for the event-source mapping) -> C Lambda under the RIE -> Kinesis predictions.

    bash tests/streaming/run.sh               (builds the forwarder and the Lambda, runs this module)
    python3 -m pytest -q tests/streaming      (after that; see tests/conftest.py for the variables)
    bash tests/localstack/run.sh              (this module and others against LocalStack 4.14.0,
                                               TD_AWS_BACKEND=localstack, instead of moto)

Cases:
  (a) the course's record, the MLOps Zoomcamp's streaming test trip (ride 256: 130 -> 205,
      3.66 mi, no pickup time) -> one prediction for
      256 equal, as float8, to SELECT taxi_duration.predict_duration(130, 205, 3.66);
  (b) 10,000 real trips of 2021-02 with lpep_pickup_datetime -> every ride id predicted, each
      bit-identical to predict_duration(pu, do, dist, pickup) in SQL, trip events carry
      lpep_pickup_datetime, model version = model_info().model_version; duplicates counted (in
      the "measurements" summary);
  (c) trips whose trip_distance is NaN, Infinity, -Infinity (issue 15) -> the trip events carry
      "NaN"/"Infinity"/"-Infinity"; the NaN trip is predicted bit-identical to SQL (a missing
      distance), the infinite ones are refused by SQL (22023) and by the Lambda (failed records,
      never predicted).

Each case is a module-scoped fixture (``course``, ``real_trips``) that inserts and waits once;
the tests assert on what it observed.  ``real_trips`` requests ``course`` (the predictions
stream is read incrementally), so ``-k b_`` still inserts ride 256 first.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from aws_clients import ready_streams
from esm_poller import Poller
from forwarding import Reader
from lambda_rie import Rie

pytestmark = [pytest.mark.e2e, pytest.mark.servers, pytest.mark.cluster]

TRIPS = "stg_taxi_trip_events"
PREDS = "stg_taxi_predictions"
SLOT = "taxi_trips_kinesis"
BUNDLE = Path(__file__).resolve().parents[2] / "python" / "taxi_duration_ml" / "default_bundle.json"
N_REAL = 10000
REAL_BASE = 100000
CLUSTER_CONF = [
    "wal_level = logical",
    "max_replication_slots = 4",
    "max_wal_senders = 4",
    "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'",
]


def bits(x):
    return struct.pack("<d", float(x))


@pytest.fixture(scope="module")
def stack(
    aws_servers,
    aws_client,
    make_module_cluster,
    forwarder_bin,
    rie_bin,
    lambda_bootstrap,
    trips_2021_02,
    workdir,
    note,
):
    """Streams, a cluster with the slot, the forwarder, the Lambda under the RIE and the poller;
    all stopped at the end of the module.  On moto (default) the streams are created here; under
    TD_AWS_BACKEND=localstack, LocalStack's READY hook of docker-compose.local.yaml made them."""
    kin = aws_client("kinesis")
    ready_streams(kin, aws_servers, {TRIPS: 2, PREDS: 2})

    cluster = make_module_cluster(CLUSTER_CONF)
    dsn = cluster.dsn()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            "CREATE TABLE trips (ride_id bigint PRIMARY KEY, pulocationid int,"
            " dolocationid int, trip_distance float8, lpep_pickup_datetime timestamp)"
        )
        c.execute("SELECT pg_create_logical_replication_slot(%s, 'taxi_duration')", (SLOT,))
        course_sql = c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()[
            0
        ]
        # after a prediction: the loader worker loads the default bundle at server start, and a
        # first prediction loads it if the worker has not yet, so a version is served by now
        version = c.execute("SELECT model_version FROM taxi_duration.model_info()").fetchone()[0]
    note(f"streaming: model_version {version}; predict_duration(130, 205, 3.66) = {course_sql!r}")

    note(f"streaming: Kinesis and S3 from {aws_servers.backend}")
    aws = {
        k: aws_servers.env[k]
        for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    # the forwarder (default plugin columns: the course's fields + lpep_pickup_datetime)
    fenv = dict(
        os.environ,
        TD_FORWARDER_DSN=dsn,
        TD_SLOT=SLOT,
        TD_TRIPS_STREAM=TRIPS,
        TD_POLL_MS="100",
        **aws,
    )
    fenv.pop("AWS_ENDPOINT_URL_S3", None)
    with open(workdir / "forwarder.log", "ab") as log:
        fwd = subprocess.Popen(
            [str(forwarder_bin)], env=fenv, stdout=subprocess.DEVNULL, stderr=log
        )
    rie = poller = None
    try:
        # the Lambda under the RIE
        lenv = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TD_", "MLFLOW_"))}
        lenv.update(aws)
        lenv.update({"TD_MODEL_URI": f"file://{BUNDLE}", "PREDICTIONS_STREAM": PREDS})
        rie = Rie(str(rie_bin), str(lambda_bootstrap), lenv, str(workdir / "rie.log"))
        poller = Poller(kin, rie, aws["AWS_REGION"])
        poller.start()
        yield SimpleNamespace(
            dsn=dsn,
            version=version,
            course_sql=course_sql,
            preds=Reader(kin, PREDS, ride_id=lambda d: d["prediction"]["ride_id"]),
            poller=poller,
            df=trips_2021_02.head(N_REAL),
            # LocalStack's Kinesis (kinesis-local behind its Python gateway) is several times
            # slower than moto's: 10,000 trips take 30-70 s there depending on the machine's load
            wait_real=240 if aws_servers.backend == "localstack" else 90,
        )
    finally:
        if poller is not None:
            poller.stop_ev.set()
            poller.join(timeout=30)
        if fwd.poll() is None:
            fwd.send_signal(signal.SIGTERM)
            try:
                fwd.wait(timeout=20)
            except subprocess.TimeoutExpired:
                fwd.kill()
                fwd.wait()
        if rie is not None:
            rie.stop()


# -- (a) the course's record ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(stack, note):
    t0 = time.time()
    with psycopg.connect(stack.dsn) as c:
        c.execute(
            "INSERT INTO trips (ride_id, pulocationid, dolocationid, trip_distance)"
            " VALUES (256, 130, 205, 3.66)"
        )
    missing = stack.preds.wait_for([256], 60)
    elapsed = time.time() - t0
    if not missing:
        note(f"streaming a: end-to-end latency of one insert: {elapsed:.2f} s")
    return SimpleNamespace(missing=missing, elapsed=elapsed, doc=stack.preds.docs.get(256))


def course_doc(course):
    assert not course.missing, f"no prediction event for ride 256 after {course.elapsed:.1f} s"
    return course.doc


def test_a_prediction_event_for_ride_256_reaches_the_predictions_stream(course):
    course_doc(course)


def test_a_ride_duration_equals_sql_predict_duration(course, stack):
    d, _ = course_doc(course)
    got = float(json.loads(json.dumps(d["prediction"]["ride_duration"])))
    assert bits(got) == bits(stack.course_sql), (
        f"ride_duration {got!r} != SQL predict_duration(130, 205, 3.66) {stack.course_sql!r}"
    )


def test_a_partition_key_256_and_model_version_of_model_info(course, stack):
    d, pk = course_doc(course)
    assert pk == "256" and d["version"] == stack.version, (
        f"partition key {pk!r}, event {d}, model_info().model_version {stack.version!r}"
    )


# -- (b) 10,000 real trips with pickup times -----------------------------------------------------


@pytest.fixture(scope="module")
def real_trips(course, stack, note):
    df = stack.df
    ids = list(range(REAL_BASE, REAL_BASE + len(df)))
    buf = io.StringIO()
    for rid, row in zip(ids, df.itertuples(), strict=True):
        buf.write(
            f"{rid},{int(row.PULocationID)},{int(row.DOLocationID)},"
            f"{float(row.trip_distance)!r},{row.lpep_pickup_datetime}\n"
        )
    t0 = time.time()
    with psycopg.connect(stack.dsn) as c:
        chunk = buf.getvalue().splitlines(keepends=True)
        for k in range(0, len(chunk), 2500):  # 4 transactions
            with c.cursor().copy(
                "COPY trips (ride_id, pulocationid, dolocationid,"
                " trip_distance, lpep_pickup_datetime) FROM STDIN"
                " WITH (FORMAT csv)"
            ) as cp:
                cp.write("".join(chunk[k : k + 2500]))
            c.commit()
    missing = stack.preds.wait_for(ids, stack.wait_real)
    el = time.time() - t0
    note(
        f"streaming b: {len(ids) - len(missing)} predictions in {el:.1f} s from COPY "
        f"({(len(ids) - len(missing)) / el:.0f} trips/s end to end)"
    )
    with psycopg.connect(stack.dsn, autocommit=True) as c:
        ref = dict(
            c.execute(
                "SELECT ride_id, taxi_duration.predict_duration(pulocationid, dolocationid,"
                " trip_distance, lpep_pickup_datetime) FROM trips WHERE ride_id >= %s",
                (REAL_BASE,),
            ).fetchall()
        )
        # the pickup time must matter: rows where 3-arg != 4-arg prove the Lambda used it
        n_time_matters = c.execute(
            "SELECT count(*) FROM trips WHERE ride_id >= %s AND"
            " taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance)"
            " <> taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance,"
            " lpep_pickup_datetime)",
            (REAL_BASE,),
        ).fetchone()[0]
        lag = c.execute(
            "SELECT records_sent, records_dead, records_pending, retained_wal"
            " FROM taxi_duration.forwarder_lag"
        ).fetchall()
    note(f"streaming b: rows where the pickup time changes the SQL prediction: {n_time_matters}")
    counts, p = stack.preds.counts, stack.poller
    total = sum(counts.values())
    note(
        f"streaming: duplicates (at least once): {total - len(counts)} in {total} prediction "
        f"events for {len(counts)} ride ids; poller: {p.records} trip records, "
        f"{p.invocations} invocations, {p.retried} items re-sent, errors {p.errors[:3]}"
    )
    note(f"streaming: forwarder_lag (sent, dead, pending, retained WAL): {lag}")
    return SimpleNamespace(ids=ids, missing=missing, ref=ref)


def test_b_all_10000_ride_ids_predicted(real_trips):
    m = real_trips.missing
    assert not m, f"{len(m)} of {len(real_trips.ids)} missing, first {m[:5]}"


def test_b_every_prediction_bit_identical_to_sql_with_pickup_time(real_trips, stack):
    docs, ref = stack.preds.docs, real_trips.ref
    diff = [
        i
        for i in real_trips.ids
        if i in docs and bits(float(docs[i][0]["prediction"]["ride_duration"])) != bits(ref[i])
    ]
    assert not diff and not real_trips.missing, (
        f"{len(diff)} differ, e.g. "
        f"{[(i, docs[i][0]['prediction']['ride_duration'], ref[i]) for i in diff[:3]]}; "
        f"{len(real_trips.missing)} missing"
    )


def test_b_every_trip_event_carries_lpep_pickup_datetime(real_trips, stack):
    trip_docs = stack.poller.trip_docs
    no_time = [
        i
        for i in real_trips.ids
        if i not in trip_docs or not trip_docs[i].get("ride", {}).get("lpep_pickup_datetime")
    ]
    assert not no_time, f"{len(no_time)} without, e.g. {trip_docs.get(real_trips.ids[0])}"


def test_b_model_version_in_every_event_is_model_info_model_version(real_trips, stack):
    docs = stack.preds.docs
    badver = [i for i in docs if docs[i][0].get("version") != stack.version]
    assert not badver, (
        f"{len(badver)} differ from {stack.version!r}, e.g. {docs[badver[0]][0] if badver else ''}"
    )


def test_b_partition_key_is_ride_id_in_every_prediction_event(real_trips, stack):
    docs = stack.preds.docs
    bad = [(i, docs[i][1]) for i in docs if docs[i][1] != str(i)]
    assert not bad, f"{len(bad)} events whose partition key is not the ride id, e.g. {bad[:3]}"


# -- (c) non-finite distances: the stream gives SQL's answer (issue 15) --------------------------

NON_FINITE = {900001: "NaN", 900002: "Infinity", 900003: "-Infinity"}


@pytest.fixture(scope="module")
def non_finite(course, stack):
    with psycopg.connect(stack.dsn) as c:
        for rid, dist in NON_FINITE.items():
            c.execute(
                "INSERT INTO trips (ride_id, pulocationid, dolocationid, trip_distance)"
                " VALUES (%s, 130, 205, %s::float8)",
                (rid, dist),
            )
    out = SimpleNamespace(sql={}, sql_error={})
    with psycopg.connect(stack.dsn, autocommit=True) as c:
        for rid, dist in NON_FINITE.items():
            try:
                out.sql[rid] = c.execute(
                    "SELECT taxi_duration.predict_duration(130, 205, %s::float8)", (dist,)
                ).fetchone()[0]
            except psycopg.Error as e:
                out.sql_error[rid] = (e.sqlstate, e.diag.message_detail)
    out.missing_nan = stack.preds.wait_for([900001], 60)
    # the refused records: the poller saw them, the Lambda failed them (5 attempts), no prediction
    out.seen = wait_until_true(lambda: all(r in stack.poller.trip_docs for r in NON_FINITE), 30)
    out.gave_up = wait_until_true(lambda: sum("gave up" in e for e in stack.poller.errors) >= 1, 30)
    stack.preds.wait_for([900002, 900003], 2)
    out.trip_docs = {r: stack.poller.trip_docs.get(r) for r in NON_FINITE}
    return out


def wait_until_true(predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_c_trip_events_carry_nan_and_infinity_as_strings(non_finite):
    assert non_finite.seen, non_finite.trip_docs
    got = {
        r: (d or {}).get("ride", {}).get("trip_distance") for r, d in non_finite.trip_docs.items()
    }
    assert got == NON_FINITE, got


def test_c_nan_distance_predicted_bit_identical_to_sql(non_finite, stack):
    assert not non_finite.missing_nan, "no prediction for the NaN-distance trip"
    got = stack.preds.docs[900001][0]["prediction"]["ride_duration"]
    assert bits(got) == bits(non_finite.sql[900001]), (got, non_finite.sql)


def test_c_infinite_distances_refused_by_sql_and_not_predicted_on_the_stream(non_finite, stack):
    for rid in (900002, 900003):
        assert non_finite.sql_error.get(rid, (None,))[0] == "22023", non_finite.sql_error
        assert stack.preds.counts[rid] == 0, f"ride {rid} was predicted: {stack.preds.docs[rid]}"
    assert non_finite.gave_up, stack.poller.errors[-5:]
