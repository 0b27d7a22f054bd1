"""The feature pipeline: one DictVectorizer input dict per trip.

Per trip (all keys optional; an absent key is a *missing* feature for XGBoost):

* ``PU_DO`` = ``f"{PU}_{DO}"`` (categorical), ``PU`` = ``str(PU)``, ``DO`` = ``str(DO)`` (categorical);
* ``trip_distance`` (number);
* ``hour`` = pickup hour + minute / 60 (float64) and ``dow`` = pickup day of week, Monday = 0 (float),
  both omitted when the pickup time is not known.

The same pipeline is written into the bundle (``PIPELINE`` below says how each DictVectorizer feature
maps to a bundle ``features`` entry), so serving can rebuild it without Python.

Training augmentation (:func:`training_dicts`): every trip with its time, plus a seeded random 50 %
copy of the trips without ``hour``/``dow``, so that the model also serves well without a pickup time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

PICKUP = "lpep_pickup_datetime"
TARGET = "duration"
AUGMENT_FRACTION = 0.5
AUGMENT_SEED = 42

# How each DictVectorizer feature is expressed in the bundle (docs/bundle-format.md, `features`).
NUMERIC = {
    # dict key:      (bundle input,      transform)
    "trip_distance": ("trip_distance", "identity"),
    "hour": ("pickup_datetime", "hour_of_day"),
    "dow": ("pickup_datetime", "day_of_week"),
}
CATEGORICAL = {
    # dict key: (bundle inputs,                       separator)
    "PU_DO": (["PULocationID", "DOLocationID"], "_"),
    "PU": (["PULocationID"], None),
    "DO": (["DOLocationID"], None),
}


def _int_or_none(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f):
        return None
    return int(f)


def trip_dict(pu, do, trip_distance, pickup=None) -> dict:
    """The feature dict of one trip. ``pickup`` is a datetime/Timestamp, or None/NaT when unknown."""
    d: dict = {}
    pu = _int_or_none(pu)
    do = _int_or_none(do)
    if pu is not None and do is not None:
        d["PU_DO"] = f"{pu}_{do}"
    if pu is not None:
        d["PU"] = str(pu)
    if do is not None:
        d["DO"] = str(do)
    if trip_distance is not None and not (
        isinstance(trip_distance, float) and math.isnan(trip_distance)
    ):
        d["trip_distance"] = float(trip_distance)
    if pickup is not None and not pd.isna(pickup):
        d["hour"] = float(pickup.hour) + pickup.minute / 60.0
        d["dow"] = float(pickup.weekday())  # Monday = 0 (datetime and pandas Timestamp)
    return d


def trip_dicts(df: pd.DataFrame, with_time: bool = True) -> list[dict]:
    """Feature dicts for every row of a trips frame (TLC column names)."""
    pu = df["PULocationID"].to_numpy()
    do = df["DOLocationID"].to_numpy()
    dist = df["trip_distance"].to_numpy(dtype=np.float64)
    n = len(df)
    if with_time and PICKUP in df.columns:
        ts = pd.DatetimeIndex(df[PICKUP])
        hour = ts.hour.to_numpy(dtype=np.float64) + ts.minute.to_numpy(dtype=np.float64) / 60.0
        dow = ts.day_of_week.to_numpy(dtype=np.float64)
        has_time = ~ts.isna()
    else:
        hour = dow = None
        has_time = np.zeros(n, dtype=bool)
    out = []
    for i in range(n):
        d = trip_dict(pu[i], do[i], dist[i])
        if has_time[i]:
            d["hour"] = float(hour[i])
            d["dow"] = float(dow[i])
        out.append(d)
    return out


def augment_indices(
    n: int, fraction: float = AUGMENT_FRACTION, seed: int = AUGMENT_SEED
) -> np.ndarray:
    """Sorted indices of the seeded random subset of trips copied without pickup time."""
    rng = np.random.default_rng(seed)
    k = int(round(n * fraction))
    return np.sort(rng.choice(n, size=k, replace=False))


def training_dicts(df: pd.DataFrame, fraction: float = AUGMENT_FRACTION, seed: int = AUGMENT_SEED):
    """Augmented training set: (dicts, target). All trips with time + a ``fraction`` copy without."""
    with_time = trip_dicts(df, with_time=True)
    y = df[TARGET].to_numpy(dtype=np.float64)
    if fraction <= 0:
        return with_time, y
    idx = augment_indices(len(df), fraction, seed)
    no_time = trip_dicts(df.iloc[idx], with_time=False)
    return with_time + no_time, np.concatenate([y, y[idx]])


def split_feature_name(name: str) -> tuple[str, str | None]:
    """DictVectorizer feature name → (dict key, category or None): ``"PU_DO=1_2"`` → ``("PU_DO", "1_2")``."""
    key, sep, cat = name.partition("=")
    return (key, cat) if sep else (key, None)
