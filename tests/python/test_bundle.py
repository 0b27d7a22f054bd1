"""taxi_duration_ml.bundle: exporter and reference reader (schema, sha256, CSR parity, prediction parity)."""

import hashlib
import json

import jsonschema
import numpy as np
import pandas as pd
import pytest
from model_testing import SCHEMA, assert_csr_identical, frame_for_reader, records_for_reader

from taxi_duration_ml import bundle, features as F


def _schema():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def _doc(path):
    return json.loads(path.read_bytes())


# ---- format -------------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12():
    s = json.loads(SCHEMA.read_text())
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)


def test_exported_bundle_validates_and_has_documented_shape(synthetic_xgb, synthetic_xgb_bundle):
    doc = _doc(synthetic_xgb_bundle)
    _schema().validate(doc)
    assert doc["format"] == "taxi-duration-bundle" and doc["format_version"] == 1
    m = doc["model"]
    assert m["name"] == "taxi-duration" and m["version"] == "test" and m["run_id"] is None
    assert m["created_at"].endswith("Z")
    assert [i["name"] for i in doc["inputs"]] == [
        "PULocationID",
        "DOLocationID",
        "trip_distance",
        "pickup_datetime",
    ]
    assert doc["inputs"][3] == {
        "name": "pickup_datetime",
        "type": "timestamp",
        "required": False,
        "aliases": ["lpep_pickup_datetime", "tpep_pickup_datetime"],
    }
    est = doc["estimator"]
    assert est["type"] == "xgboost" and est["iteration_range"] == [0, synthetic_xgb.n_iterations]
    assert list(est)[-1] == "booster" and list(doc)[-1] == "estimator"
    feats = doc["features"]
    assert feats["count"] == len(synthetic_xgb.dv.vocabulary_)
    assert {f["name"]: f["transform"] for f in feats["numeric"]} == {
        "trip_distance": "identity",
        "hour": "hour_of_day",
        "dow": "day_of_week",
    }
    cats = {c["name"]: c for c in feats["categorical"]}
    assert cats["PU_DO"]["separator"] == "_" and cats["PU_DO"]["inputs"] == [
        "PULocationID",
        "DOLocationID",
    ]
    for name, idx in synthetic_xgb.dv.vocabulary_.items():
        key, cat = F.split_feature_name(name)
        if cat is not None:
            assert cats[key]["vocabulary"][cat] == idx
    tr = doc["training"]
    for k in (
        "train_month",
        "valid_month",
        "rows",
        "params",
        "best_iteration",
        "metrics",
        "xgboost_version",
        "library_versions",
    ):
        assert k in tr
    assert set(tr["metrics"]) == {"valid_rmse_with_time", "valid_rmse_without_time"}
    assert bundle.bundle_bytes(synthetic_xgb).count(b"\n") == 0  # compact


def test_deterministic_except_created_at(synthetic_xgb):
    a = bundle.bundle_bytes(synthetic_xgb, created_at="2020-01-01T00:00:00Z")
    b = bundle.bundle_bytes(synthetic_xgb, created_at="2020-01-01T00:00:00Z")
    assert a == b


def test_booster_embedded_byte_for_byte(synthetic_xgb, synthetic_xgb_bundle, tmp_path):
    p = tmp_path / "b.json"
    synthetic_xgb.model.save_model(str(p))
    raw = p.read_bytes()
    data = synthetic_xgb_bundle.read_bytes()
    assert data.endswith(b',"booster":' + raw + b"}}")
    b = bundle.load_bundle(synthetic_xgb_bundle)
    assert b.booster_text.encode() == raw
    assert b.model["estimator_sha256"] == hashlib.sha256(raw).hexdigest() == b.booster_sha256


# ---- sha256 / tampering / validation --------------------------------------------------------


def test_tampered_booster_fails(synthetic_xgb_bundle, tmp_path):
    data = synthetic_xgb_bundle.read_bytes()
    i = data.rindex(b'"split_conditions":[') + len(b'"split_conditions":[')
    j = data.index(b",", i)
    tampered = data[:i] + b"1.2345E1" + data[j:]
    assert tampered != data
    p = tmp_path / "t.json"
    p.write_bytes(tampered)
    with pytest.raises(bundle.BundleError, match="estimator_sha256 mismatch"):
        bundle.load_bundle(p)
    bundle.load_bundle(p, verify=False)  # otherwise still a valid bundle


def test_reader_independent_of_key_order_and_whitespace(synthetic_xgb_bundle, tmp_path):
    data = synthetic_xgb_bundle.read_bytes()
    head, raw = data.split(b',"booster":', 1)
    raw = raw[:-2]  # the booster text, exactly
    doc = json.loads(head + b"}}")
    est = doc.pop("estimator")
    text = (
        '{\n  "estimator" : {\n "booster" :  '
        + raw.decode()
        + ' ,\n "type": "xgboost", "iteration_range": '
        + json.dumps(est["iteration_range"])
        + "},\n"
        + json.dumps(doc, indent=2)[1:]
        + "\n"
    )
    p = tmp_path / "reordered.json"
    p.write_text(text)
    b = bundle.load_bundle(p)
    assert b.booster_text.encode() == raw


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d.__setitem__("format_version", 2), "format_version"),
        (lambda d: d.__setitem__("format", "other"), "not a taxi-duration bundle"),
        (
            lambda d: d["features"]["numeric"][0].__setitem__(
                "index", d["features"]["numeric"][1]["index"]
            ),
            "used 2 times|used 0 times",
        ),
        (
            lambda d: d["features"].__setitem__("count", d["features"]["count"] + 1),
            "num_feature|used 0 times",
        ),
        (lambda d: d["inputs"][3].__setitem__("aliases", ["pulocationid"]), "not unique"),
        (
            lambda d: d["features"]["numeric"][0].__setitem__("transform", "minute_of_hour"),
            "schema",
        ),
        (lambda d: d["estimator"].__setitem__("iteration_range", [0, 10**6]), "iteration_range"),
        (
            lambda d: d["estimator"]["booster"]["learner"]["objective"].__setitem__(
                "name", "binary:logistic"
            ),
            "objective",
        ),
        (lambda d: d["model"].__setitem__("estimator_sha256", "ABC"), "schema"),
    ],
)
def test_invalid_bundles_rejected(synthetic_xgb_bundle, mutate, match):
    doc = _doc(synthetic_xgb_bundle)
    mutate(doc)
    with pytest.raises(bundle.BundleError, match=match):
        bundle.loads_bundle(json.dumps(doc), verify=False)


def test_duplicate_keys_and_trailing_data_rejected(synthetic_xgb_bundle):
    data = synthetic_xgb_bundle.read_bytes()
    with pytest.raises(bundle.BundleError, match="duplicate"):
        bundle.loads_bundle(b'{"format":"x",' + data[1:])
    with pytest.raises(bundle.BundleError, match="trailing"):
        bundle.loads_bundle(data + b"{}")


# ---- feature matrix parity with the DictVectorizer ------------------------------------------


@pytest.mark.parametrize("with_time", [True, False])
def test_reader_csr_equals_dictvectorizer_synthetic(
    synthetic_xgb, synthetic_xgb_bundle, synthetic_months, with_time
):
    b = bundle.load_bundle(synthetic_xgb_bundle)
    tr, va = synthetic_months
    for df in (tr, va):
        X = b.transform(frame_for_reader(df, with_time))
        assert X.dtype == np.float32
        want = synthetic_xgb.dv.transform(F.trip_dicts(df, with_time=with_time))
        assert_csr_identical(X, want)
        assert_csr_identical(b.transform(records_for_reader(df, with_time)), want)
    # explicit zeros are stored (hour 0.0 at midnight, trip_distance 0.0)
    X = b.transform(frame_for_reader(tr, with_time))
    assert (
        (X.data == 0).sum()
        == (synthetic_xgb.dv.transform(F.trip_dicts(tr, with_time=with_time)).data == 0).sum()
        > 0
    )


def test_reader_inputs_semantics(synthetic_xgb_bundle):
    b = bundle.load_bundle(synthetic_xgb_bundle)
    cats = {c["name"]: c["vocabulary"] for c in b.features["categorical"]}
    num = {f["name"]: f["index"] for f in b.features["numeric"]}
    recs = [
        {
            "PULocationID": 130,
            "DOLocationID": 205,
            "trip_distance": 0.0,
            "pickup_datetime": pd.Timestamp("2021-01-04 00:00:59"),
        },  # Monday midnight
        {"PULocationID": 130.0, "DOLocationID": None, "trip_distance": None},  # missing values
        {
            "PULocationID": 3,
            "DOLocationID": 4,
            "trip_distance": 1.5,  # unseen categories
            "lpep_pickup_datetime": "2021-01-10T17:45",
        },  # alias, ISO string
    ]
    X = b.transform(recs)
    row0 = dict(zip(X[0].indices, X[0].data, strict=True))
    assert row0 == {
        cats["PU_DO"]["130_205"]: 1.0,
        cats["PU"]["130"]: 1.0,
        cats["DO"]["205"]: 1.0,
        num["trip_distance"]: 0.0,
        num["hour"]: 0.0,
        num["dow"]: 0.0,
    }
    assert dict(zip(X[1].indices, X[1].data, strict=True)) == {cats["PU"]["130"]: 1.0}
    row2 = dict(zip(X[2].indices, X[2].data, strict=True))
    assert row2 == {
        num["trip_distance"]: np.float32(1.5),
        num["hour"]: np.float32(17.75),
        num["dow"]: 6.0,
    }
    p = b.predict(recs)
    assert p.dtype == np.float32 and np.isfinite(p).all()


@pytest.mark.parametrize(
    "rec, match",
    [
        ({"PULocationID": 0, "DOLocationID": 1, "trip_distance": 1.0}, "outside"),
        ({"PULocationID": 266, "DOLocationID": 1, "trip_distance": 1.0}, "outside"),
        ({"PULocationID": 1.5, "DOLocationID": 1, "trip_distance": 1.0}, "non-integral"),
        ({"PULocationID": 1, "DOLocationID": 1, "trip_distance": -0.1}, "outside"),
        ({"PULocationID": 1, "DOLocationID": 1, "trip_distance": float("inf")}, "infinite"),
        ({"PULocationID": 1, "trip_distance": 1.0}, "required input 'DOLocationID'"),
    ],
)
def test_reader_input_errors(synthetic_xgb_bundle, rec, match):
    b = bundle.load_bundle(synthetic_xgb_bundle)
    with pytest.raises(bundle.BundleError, match=match):
        b.transform([rec])


def test_reader_predictions_bit_equal_synthetic(
    synthetic_xgb, synthetic_xgb_bundle, synthetic_months
):
    b = bundle.load_bundle(synthetic_xgb_bundle)
    _, va = synthetic_months
    for with_time in (True, False):
        want = synthetic_xgb.model.inplace_predict(
            synthetic_xgb.dv.transform(F.trip_dicts(va, with_time=with_time)),
            iteration_range=(0, synthetic_xgb.n_iterations),
        )
        got = b.predict(frame_for_reader(va, with_time))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


# ---- real data -------------------------------------------------------------------------------


@pytest.mark.parametrize("with_time", [True, False])
def test_reader_csr_and_predictions_real(real_small_xgb, real_small_bundle, real_months, with_time):
    b = bundle.load_bundle(real_small_bundle)
    _schema().validate(_doc(real_small_bundle))
    _, va = real_months
    rows = va.iloc[:5000]
    dicts = F.trip_dicts(rows, with_time=with_time)
    Xdv = real_small_xgb.dv.transform(dicts)
    X = b.transform(frame_for_reader(rows, with_time))
    assert_csr_identical(X, Xdv)
    assert_csr_identical(b.transform(records_for_reader(rows.iloc[:500], with_time)), Xdv[:500])
    want = real_small_xgb.model.inplace_predict(
        Xdv, iteration_range=(0, real_small_xgb.n_iterations)
    )
    got = b.predict_matrix(X)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    # also through a DMatrix built from the float64 DictVectorizer matrix, as in training
    import xgboost as xgb

    want2 = real_small_xgb.model.predict(
        xgb.DMatrix(Xdv), iteration_range=(0, real_small_xgb.n_iterations)
    )
    np.testing.assert_array_equal(got.view(np.uint32), want2.view(np.uint32))
