"""Shared fixtures for the model/ tests: synthetic trips, small trained bundles, real-data access.

Real-data tests need ``TAXI_DATA_DIR`` (e.g. /work/shared/data) holding the TLC green parquet files;
without it they are skipped with a reason. Nothing is ever downloaded by the tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_BUNDLE = REPO / "model" / "default_bundle.json"
SCHEMA = REPO / "docs" / "bundle.schema.json"


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


@pytest.fixture(scope="session")
def synthetic_months():
    from model import data

    return (
        data.add_duration(synthetic_raw(3000, 1, "2099-01")),
        data.add_duration(synthetic_raw(1500, 2, "2099-02")),
    )


@pytest.fixture(scope="session")
def synthetic_xgb(synthetic_months):
    from model import train

    tr, va = synthetic_months
    return train.fit(
        tr,
        va,
        params={"max_depth": 4},
        max_rounds=40,
        early_stopping_rounds=5,
        train_month="2099-01",
        valid_month="2099-02",
    )


@pytest.fixture(scope="session")
def synthetic_xgb_bundle(synthetic_xgb, tmp_path_factory):
    from model import bundle

    path = tmp_path_factory.mktemp("bundles") / "synthetic.json"
    bundle.export(synthetic_xgb, path, version="test")
    return path


@pytest.fixture(scope="session")
def data_dir():
    d = os.environ.get("TAXI_DATA_DIR")
    if not d:
        pytest.skip("TAXI_DATA_DIR is not set: real TLC data tests skipped")
    for m in ("2021-01", "2021-02"):
        if not (Path(d) / f"green_tripdata_{m}.parquet").is_file():
            pytest.skip(f"green_tripdata_{m}.parquet not in TAXI_DATA_DIR={d}")
    return d


@pytest.fixture(scope="session")
def real_months(data_dir):
    from model import data

    return data.load_month("2021-01", data_dir, download=False), data.load_month(
        "2021-02", data_dir, download=False
    )


@pytest.fixture(scope="session")
def real_small_xgb(real_months):
    """A small XGBoost model trained on a few thousand real rows."""
    from model import train

    tr, va = real_months
    return train.fit(
        tr.iloc[:4000],
        va.iloc[:3000],
        params={"max_depth": 6},
        max_rounds=40,
        early_stopping_rounds=5,
        train_month="2021-01",
        valid_month="2021-02",
    )


@pytest.fixture(scope="session")
def real_small_bundle(real_small_xgb, tmp_path_factory):
    from model import bundle

    path = tmp_path_factory.mktemp("bundles") / "real_small.json"
    bundle.export(real_small_xgb, path)
    return path


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
