"""Helpers for the model/ tests (tests/python): synthetic trips, reader inputs, CSR comparison.

    from model_testing import REPO, SCHEMA, synthetic_raw, frame_for_reader

The fixtures built on them (synthetic_months, synthetic_xgb, real_months, ...) are in
tests/conftest.py, which puts this directory on sys.path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BUNDLE = REPO / "python" / "taxi_duration_ml" / "default_bundle.json"
SCHEMA = REPO / "python" / "taxi_duration_ml" / "bundle.schema.json"


def synthetic_raw(n: int, seed: int, month: str = "2099-01") -> pd.DataFrame:
    """TLC-like raw trips (unfiltered): some durations fall outside 1..60 minutes."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(f"{month}-01 00:00:00")
    # whole minutes sometimes, so hour_of_day / day_of_week hit exact values (incl. 0.0)
    secs = rng.integers(0, 28 * 86400, size=n)
    secs[: n // 10] = (secs[: n // 10] // 60) * 60
    secs[0] = 0  # 2099-01-01 00:00 -> hour 0.0 (and a Thursday)
    pickup = start + pd.to_timedelta(secs, unit="s")
    zones = np.array([1, 7, 42, 74, 75, 130, 205, 244, 264, 265])
    pu = rng.choice(zones, size=n)
    do = rng.choice(zones, size=n)
    dist = np.round(rng.gamma(2.0, 1.5, size=n), 2)
    dist[1::37] = 0.0  # explicit zeros
    hour = pickup.hour.to_numpy() + pickup.minute.to_numpy() / 60
    minutes = (
        2 + 3.2 * dist + 4 * np.sin(hour / 24 * 2 * np.pi) + (pu % 7) + rng.normal(0, 2, size=n)
    )
    minutes[::53] = 0.5  # filtered out
    minutes[3::61] = 75.0  # filtered out
    dropoff = pickup + pd.to_timedelta(np.round(minutes * 60), unit="s")
    return pd.DataFrame(
        {
            "VendorID": np.full(n, 2, dtype=np.int64),
            "lpep_pickup_datetime": pickup.astype("datetime64[us]"),
            "lpep_dropoff_datetime": dropoff.astype("datetime64[us]"),
            "PULocationID": pu.astype(np.int64),
            "DOLocationID": do.astype(np.int64),
            "trip_distance": dist,
        }
    )


def frame_for_reader(df: pd.DataFrame, with_time: bool = True) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "PULocationID": df["PULocationID"].to_numpy(),
            "DOLocationID": df["DOLocationID"].to_numpy(),
            "trip_distance": df["trip_distance"].to_numpy(),
        }
    )
    if with_time:
        out["pickup_datetime"] = df["lpep_pickup_datetime"].to_numpy()
    return out


def records_for_reader(df: pd.DataFrame, with_time: bool = True) -> list[dict]:
    """Trip records as the brief describes them: dicts, pickup a Timestamp or None."""
    recs = []
    for pu, do, dist, ts in zip(
        df["PULocationID"],
        df["DOLocationID"],
        df["trip_distance"],
        df["lpep_pickup_datetime"],
        strict=True,
    ):
        recs.append(
            {
                "PULocationID": int(pu),
                "DOLocationID": int(do),
                "trip_distance": float(dist),
                "pickup_datetime": ts if with_time else None,
            }
        )
    return recs


def assert_csr_identical(a, b):
    """Same shape, row pointers, column indices and stored values (explicit zeros included)."""
    import scipy.sparse as sp

    a = sp.csr_matrix(a)
    b = sp.csr_matrix(b)
    assert a.shape == b.shape
    assert a.has_sorted_indices and b.has_sorted_indices
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data.astype(np.float32), b.data.astype(np.float32))
