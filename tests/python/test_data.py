"""taxi_duration_ml.data: month files, the MLOps Zoomcamp's 1..60 minute duration filter."""

import pandas as pd
import pytest
from model_testing import synthetic_raw

from taxi_duration_ml import data


def test_check_month():
    assert data.check_month("2021-01") == "2021-01"
    for bad in ("2021-1", "2021-13", "21-01", "2021/01", None):
        with pytest.raises(ValueError):
            data.check_month(bad)


def test_duration_filter_boundaries():
    t0 = pd.Timestamp("2021-01-01 10:00:00")
    mins = [0.99, 1.0, 30.0, 60.0, 60.01, -5.0]
    df = pd.DataFrame(
        {
            "lpep_pickup_datetime": [t0] * len(mins),
            "lpep_dropoff_datetime": [t0 + pd.Timedelta(minutes=m) for m in mins],
            "PULocationID": [1] * len(mins),
            "DOLocationID": [2] * len(mins),
            "trip_distance": [1.0] * len(mins),
        }
    )
    out = data.add_duration(df)
    assert list(out["duration"]) == [1.0, 30.0, 60.0]
    assert list(out.index) == [0, 1, 2]


def test_local_file_and_no_download(tmp_path, monkeypatch):
    raw = synthetic_raw(500, 5, "2099-03")
    raw.to_parquet(tmp_path / "green_tripdata_2099-03.parquet", index=False)
    monkeypatch.setenv("TAXI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TAXI_CACHE_DIR", str(tmp_path / "cache"))
    df = data.load_month("2099-03", download=False)
    assert set(data.COLUMNS) <= set(df.columns) and "duration" in df.columns
    assert df["duration"].between(1, 60).all()
    assert len(df) == int(data.add_duration(raw)["duration"].count())
    with pytest.raises(FileNotFoundError):
        data.load_month("2099-04", download=False)


def test_real_row_counts(data_dir):
    assert len(data.load_month("2021-01", data_dir, download=False)) == 73908
    assert len(data.load_month("2021-02", data_dir, download=False)) == 61921
