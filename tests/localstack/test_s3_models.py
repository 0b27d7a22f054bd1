"""The extension loads a model from S3 (``taxi_duration.load_model('s3://...')``, SigV4, sha256
checked) against the run's AWS emulator: LocalStack 4.14.0 in tests/localstack/run.sh
(TD_AWS_BACKEND=localstack: the bucket is the one the compose file's READY hook created), moto
otherwise (``python3 -m pytest tests/localstack/test_s3_models.py``).

  * a bundle other than the one the server starts with (the synthetic model, version "test")
    -> model_info() names it, with the sha256 of the object's bytes, and predict_duration() is
    bit-identical to the bundle's reader (taxi_duration_ml.bundle) on 1,000 real trips of
    2021-02, and differs from the start-up model's predictions (so the load happened);
  * the same object with a wrong x-amz-meta-sha256 -> refused (XX001), model unchanged;
  * a key that does not exist -> 42704, model unchanged.
"""

from __future__ import annotations

import hashlib
import struct

import psycopg
import pytest

pytestmark = [pytest.mark.servers, pytest.mark.cluster]

KEY = "taxi-duration/localstack-test/bundle.json"
N = 1000


def bits(x):
    return struct.pack("<d", float(x))


@pytest.fixture(scope="module")
def served(aws_servers, aws_client, make_module_cluster, synthetic_xgb_bundle, note):
    e = aws_servers.env
    body = synthetic_xgb_bundle.read_bytes()
    sha = hashlib.sha256(body).hexdigest()
    s3 = aws_client("s3")
    bucket = e["TD_MODEL_BUCKET"]
    s3.head_bucket(Bucket=bucket)  # LocalStack: the READY hook's bucket; moto: servers.py's
    s3.put_object(Bucket=bucket, Key=KEY, Body=body, Metadata={"sha256": sha})
    s3.put_object(Bucket=bucket, Key=KEY + ".tampered", Body=body, Metadata={"sha256": "0" * 64})
    cluster = make_module_cluster(
        [
            f"taxi_duration.aws_endpoint_url = '{e['AWS_ENDPOINT_URL']}'",
            f"taxi_duration.aws_region = '{e['AWS_REGION']}'",
            "taxi_duration.fetch_timeout = 10",
        ],
        env={k: e[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
    )
    note(f"s3 models: S3 from {aws_servers.backend} at {e['AWS_ENDPOINT_URL']}, bucket {bucket}")
    return {"dsn": cluster.dsn(), "uri": f"s3://{bucket}/{KEY}", "sha": sha, "body": body}


def info(c):
    return c.execute("SELECT model_version, sha256 FROM taxi_duration.model_info()").fetchone()


def predict_all(c, rows):
    return [
        c.execute("SELECT taxi_duration.predict_duration(%s, %s, %s)", r).fetchone()[0]
        for r in rows
    ]


@pytest.fixture(scope="module")
def loaded(served, trips_2021_02):
    from taxi_duration_ml.bundle import loads_bundle

    df = trips_2021_02.head(N)
    rows = [
        (int(r.PULocationID), int(r.DOLocationID), float(r.trip_distance)) for r in df.itertuples()
    ]
    with psycopg.connect(served["dsn"], autocommit=True) as c:
        before = predict_all(c, rows)
        start_info = info(c)
        version = c.execute(
            "SELECT model_version FROM taxi_duration.load_model(%s)", (served["uri"],)
        ).fetchone()[0]
        after = predict_all(c, rows)
        after_info = info(c)
    bundle = loads_bundle(served["body"])
    ref = bundle.predict(
        [{"PULocationID": p, "DOLocationID": d, "trip_distance": t} for p, d, t in rows]
    )
    return dict(
        rows=rows,
        before=before,
        after=after,
        ref=[float(x) for x in ref],
        version=version,
        start_info=start_info,
        after_info=after_info,
    )


def test_s3_bundle_loaded_version_and_sha256(loaded, served):
    assert loaded["version"] == "test", loaded["version"]
    assert loaded["after_info"] == ("test", served["sha"]), loaded["after_info"]
    assert loaded["start_info"] != loaded["after_info"], "the start-up model was already this one"


def test_s3_bundle_predictions_bit_identical_to_the_reader(loaded):
    diff = [
        (r, a, f)
        for r, a, f in zip(loaded["rows"], loaded["after"], loaded["ref"], strict=True)
        if bits(a) != bits(f)
    ]
    assert not diff, f"{len(diff)} of {len(loaded['rows'])} differ, e.g. {diff[:3]}"


def test_s3_bundle_changed_the_predictions(loaded):
    changed = sum(
        bits(a) != bits(b) for a, b in zip(loaded["before"], loaded["after"], strict=True)
    )
    assert changed > len(loaded["rows"]) // 2, f"only {changed} predictions changed"


def expect_refused(served, uri, sqlstate):
    with psycopg.connect(served["dsn"], autocommit=True) as c:
        c.execute("SELECT taxi_duration.load_model(%s)", (served["uri"],))
        before = info(c)
        with pytest.raises(psycopg.Error) as err:
            c.execute("SELECT * FROM taxi_duration.load_model(%s)", (uri,))
        assert err.value.sqlstate == sqlstate, (err.value.sqlstate, str(err.value))
        assert info(c) == before, "a refused load changed the served model"


def test_s3_bundle_with_a_wrong_sha256_refused(loaded, served):
    expect_refused(served, served["uri"] + ".tampered", "XX001")


def test_s3_missing_key_refused(loaded, served):
    expect_refused(served, served["uri"] + ".missing", "42704")
