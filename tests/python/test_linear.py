"""The linear estimator: export and reference reader."""

import numpy as np
from model_testing import frame_for_reader

from taxi_duration_ml import bundle, features as F, train


def test_linear_export_and_predict(synthetic_months, tmp_path):
    tr, va = synthetic_months
    res = train.fit(tr, va, estimator="linear", train_month="2099-01", valid_month="2099-02")
    path = tmp_path / "linear.json"
    bundle.export(res, path)
    b = bundle.load_bundle(path)
    assert b.estimator_type == "linear" and b.model["estimator_sha256"] is None
    assert len(b.estimator["coefficients"]) == b.count == len(res.dv.vocabulary_)
    assert b.model["version"] == "dev-2099-01"
    for with_time in (True, False):
        got = b.predict(frame_for_reader(va, with_time))
        X = res.dv.transform(F.trip_dicts(va, with_time=with_time))
        # a linear bundle uses double feature values, as scikit-learn does
        np.testing.assert_allclose(got, res.model.predict(X), rtol=1e-12, atol=1e-9)
    assert res.training["metrics"]["valid_rmse_with_time"] < 5
