"""taxi-duration train / predict / check, end to end on small synthetic months (no real data)."""

import json

import numpy as np
import pandas as pd
import pytest
from model_testing import synthetic_raw

from taxi_duration_ml import __main__ as cli, bundle


@pytest.fixture()
def synthetic_data_dir(tmp_path, monkeypatch):
    for i, m in enumerate(("2099-01", "2099-02")):
        synthetic_raw(2000, 10 + i, m).to_parquet(
            tmp_path / f"green_tripdata_{m}.parquet", index=False
        )
    monkeypatch.setenv("TAXI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TAXI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("estimator", ["xgboost", "linear"])
def test_cli_train_predict(synthetic_data_dir, estimator, capsys):
    out = synthetic_data_dir / f"{estimator}.json"
    assert (
        cli.main(
            [
                "train",
                "--train",
                "2099-01",
                "--valid",
                "2099-02",
                "--out",
                str(out),
                "--estimator",
                estimator,
                "--max-rounds",
                "15",
                "--version",
                "7",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "valid RMSE with time" in text and "valid RMSE without time" in text
    b = bundle.load_bundle(out)
    assert b.model["version"] == "7" and b.estimator_type == estimator
    preds = synthetic_data_dir / "preds.csv"
    assert (
        cli.main(["predict", "--bundle", str(out), "--month", "2099-02", "--out", str(preds)]) == 0
    )
    df = pd.read_csv(preds)
    assert list(df.columns) == [
        "PULocationID",
        "DOLocationID",
        "trip_distance",
        "pickup_datetime",
        "duration",
        "prediction",
    ]
    again = b.predict(df[["PULocationID", "DOLocationID", "trip_distance", "pickup_datetime"]])
    if estimator == "xgboost":
        np.testing.assert_array_equal(df["prediction"].to_numpy(np.float32), again)
    assert cli.main(["check", "--bundle", str(out)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["estimator"] == estimator
