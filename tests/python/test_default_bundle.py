"""The committed default bundle: python/taxi_duration_ml/default_bundle.json."""

import json

import jsonschema
import numpy as np
import pytest
from model_testing import DEFAULT_BUNDLE, SCHEMA, assert_csr_identical, frame_for_reader
from sklearn.feature_extraction import DictVectorizer

from taxi_duration_ml import bundle, features as F


@pytest.fixture(scope="module")
def default():
    if not DEFAULT_BUNDLE.is_file():
        pytest.skip(
            "python/taxi_duration_ml/default_bundle.json not built (taxi-duration train ...)"
        )
    return bundle.load_bundle(DEFAULT_BUNDLE)


def _dv_from_bundle(b) -> DictVectorizer:
    """A DictVectorizer rebuilt from the bundle's pipeline (for cross-checking the reader)."""
    vocab = {}
    for f in b.features["numeric"]:
        vocab[f["name"]] = f["index"]
    for c in b.features["categorical"]:
        for cat, i in c["vocabulary"].items():
            vocab[f"{c['name']}={cat}"] = i
    dv = DictVectorizer()
    dv.vocabulary_ = vocab
    dv.feature_names_ = sorted(vocab, key=vocab.get)
    return dv


def test_default_bundle_documented_contract(default):
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(default.doc)
    assert default.estimator_type == "xgboost"
    assert default.model["name"] == "taxi-duration"
    assert default.inputs == bundle.INPUTS
    assert DEFAULT_BUNDLE.stat().st_size < 15 * 2**20
    learner = default.estimator["booster"]["learner"]
    assert learner["objective"]["name"] == "reg:squarederror"
    trees = learner["gradient_booster"]["model"]["trees"]
    assert default.iteration_range == (0, len(trees)) and len(trees) <= 600
    assert int(learner["learner_model_param"]["num_feature"]) == default.count
    # depth <= 8
    for t in trees[:50]:
        left, right = t["left_children"], t["right_children"]
        depth = {0: 0}
        for n in range(len(left)):
            if left[n] != -1:
                depth[left[n]] = depth[right[n]] = depth[n] + 1
        assert max(depth.values()) <= 8
    tr = default.doc["training"]
    assert tr["metrics"]["valid_rmse_with_time"] < 6.0
    assert tr["best_iteration"] + 1 == len(trees)


def test_default_bundle_reproduces_metrics_and_dictvectorizer(default, real_months):
    _, va = real_months
    dv = _dv_from_bundle(default)
    y = va["duration"].to_numpy()
    for with_time, key in ((True, "valid_rmse_with_time"), (False, "valid_rmse_without_time")):
        X = default.transform(frame_for_reader(va, with_time))
        head = slice(0, 3000)
        assert_csr_identical(
            X[head], dv.transform(F.trip_dicts(va.iloc[head], with_time=with_time))
        )
        pred = default.predict_matrix(X)
        rmse = float(np.sqrt(np.mean((y - pred.astype(np.float64)) ** 2)))
        assert rmse == pytest.approx(default.doc["training"]["metrics"][key], rel=1e-9)
