"""taxi_duration_ml.features: per-trip dicts and the training augmentation."""

import math

import numpy as np
import pandas as pd
from model_testing import synthetic_raw

from taxi_duration_ml import data, features as F


def test_trip_dict_with_and_without_time():
    ts = pd.Timestamp("2021-01-04 00:00:00")  # a Monday, midnight
    d = F.trip_dict(130, 205, 0.0, ts)
    assert d == {
        "PU_DO": "130_205",
        "PU": "130",
        "DO": "205",
        "trip_distance": 0.0,
        "hour": 0.0,
        "dow": 0.0,
    }
    d = F.trip_dict(130.0, 205, 2.5, pd.Timestamp("2021-01-10 17:45:30"))  # Sunday
    assert d["PU"] == "130" and d["hour"] == 17 + 45 / 60 and d["dow"] == 6.0
    assert "hour" not in F.trip_dict(1, 2, 3.0, None) and "dow" not in F.trip_dict(
        1, 2, 3.0, pd.NaT
    )


def test_missing_values_are_omitted():
    d = F.trip_dict(None, 205, math.nan, None)
    assert d == {"DO": "205"}


def test_trip_dicts_match_trip_dict():
    df = data.add_duration(synthetic_raw(300, 3))
    dicts = F.trip_dicts(df)
    for i in (0, 1, 17, len(df) - 1):
        r = df.iloc[i]
        assert dicts[i] == F.trip_dict(
            r.PULocationID, r.DOLocationID, r.trip_distance, r.lpep_pickup_datetime
        )
    assert all("hour" not in d for d in F.trip_dicts(df, with_time=False))


def test_augmentation_is_seeded_half_copy():
    df = data.add_duration(synthetic_raw(1000, 4))
    n = len(df)
    dicts, y = F.training_dicts(df)
    assert len(dicts) == len(y) == n + round(n / 2)
    assert all("hour" in d for d in dicts[:n]) and not any("hour" in d for d in dicts[n:])
    idx = F.augment_indices(n)
    assert len(np.unique(idx)) == len(idx)
    np.testing.assert_array_equal(y[n:], df["duration"].to_numpy()[idx])
    dicts2, y2 = F.training_dicts(df)
    assert dicts2 == dicts and np.array_equal(y2, y)
