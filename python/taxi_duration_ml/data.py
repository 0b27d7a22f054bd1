"""Reading NYC TLC green-taxi trip records for one month.

``load_month("2021-01")`` reads ``green_tripdata_2021-01.parquet`` from the directory named by the
``TAXI_DATA_DIR`` environment variable (or an explicit ``data_dir``). When the file is not there it
is downloaded once from the TLC CloudFront URL into a cache directory (``TAXI_CACHE_DIR``, default
``~/.cache/taxi_duration``) and read from there.

The preprocessing of the MLOps Zoomcamp's NYC-taxi duration example ("the course", see
:mod:`taxi_duration_ml`) is applied: ``duration`` = dropoff − pickup in minutes, and only trips
with 1 ≤ duration ≤ 60 are kept (2021-01 → 73,908 rows, 2021-02 → 61,921 rows).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.request
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

TLC_URL = "https://d37ci6vzurychx.cloudfront.net/trip-data/green_tripdata_{month}.parquet"
COLUMNS = [
    "lpep_pickup_datetime",
    "lpep_dropoff_datetime",
    "PULocationID",
    "DOLocationID",
    "trip_distance",
]
MIN_DURATION = 1.0
MAX_DURATION = 60.0

_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_month(month: str) -> str:
    """Return ``month`` if it is of the form ``YYYY-MM``, else raise ValueError."""
    if not isinstance(month, str) or not _MONTH_RE.match(month):
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
    return month


def file_name(month: str) -> str:
    return f"green_tripdata_{check_month(month)}.parquet"


def cache_dir() -> Path:
    env = os.environ.get("TAXI_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "taxi_duration"


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=120) as resp:
            shutil.copyfileobj(resp, out)
        with open(tmp, "rb") as f:
            head = f.read(4)
            f.seek(-4, os.SEEK_END)
            tail = f.read(4)
        if head != b"PAR1" or tail != b"PAR1":
            raise OSError(f"{url} did not return a Parquet file")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def month_path(
    month: str, data_dir: str | os.PathLike | None = None, download: bool = True
) -> Path:
    """Locate (or fetch into the cache) the parquet file of ``month``."""
    name = file_name(month)
    if data_dir is None:
        data_dir = os.environ.get("TAXI_DATA_DIR")
    if data_dir:
        p = Path(data_dir) / name
        if p.is_file():
            return p
    cached = cache_dir() / name
    if cached.is_file():
        return cached
    if not download:
        raise FileNotFoundError(
            f"{name} not found in TAXI_DATA_DIR={data_dir!r} nor in {cache_dir()}"
        )
    _download(TLC_URL.format(month=month), cached)
    return cached


def read_raw(
    month: str, data_dir: str | os.PathLike | None = None, download: bool = True
) -> pd.DataFrame:
    """The month's trips (only the columns the model uses), unfiltered."""
    path = month_path(month, data_dir, download)
    df = pq.read_table(path, columns=COLUMNS).to_pandas()
    for col in ("lpep_pickup_datetime", "lpep_dropoff_datetime"):
        df[col] = pd.to_datetime(df[col])
    return df


def add_duration(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``duration`` (minutes) and keep 1 ≤ duration ≤ 60, as the MLOps Zoomcamp does."""
    df = df.copy()
    delta = df["lpep_dropoff_datetime"] - df["lpep_pickup_datetime"]
    df["duration"] = delta.dt.total_seconds() / 60.0
    keep = (df["duration"] >= MIN_DURATION) & (df["duration"] <= MAX_DURATION)
    return df.loc[keep].reset_index(drop=True)


def load_month(
    month: str, data_dir: str | os.PathLike | None = None, download: bool = True
) -> pd.DataFrame:
    """Filtered trips of ``month`` with a ``duration`` column (minutes)."""
    return add_duration(read_raw(month, data_dir, download))
