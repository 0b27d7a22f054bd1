"""Reading NYC TLC green-taxi trip records for one month.

``load_month("2021-01")`` reads ``green_tripdata_2021-01.parquet`` from the directory named by the
``TAXI_DATA_DIR`` environment variable (or an explicit ``data_dir``). When the file is not there it
is downloaded once from the TLC CloudFront URL (``TAXI_DATA_URL`` overrides that base URL, e.g. a
mirror) into a cache directory (``TAXI_CACHE_DIR``, default ``~/.cache/taxi_duration``) and read
from there, with a progress bar on a terminal (:mod:`taxi_duration_ml.progress`).  A month that is
in neither place and cannot be downloaded raises :class:`MissingDataError`, whose one-line message
names ``TAXI_DATA_DIR``, the file and where the TLC publishes it.

The preprocessing of the MLOps Zoomcamp's NYC-taxi duration example ("the course", see
:mod:`taxi_duration_ml`) is applied: ``duration`` = dropoff − pickup in minutes, and only trips
with 1 ≤ duration ≤ 60 are kept (2021-01 → 73,908 rows, 2021-02 → 61,921 rows).

pandas and pyarrow are imported when a month is read, so month names can be checked and files
located without them (the command line does).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from . import progress

if TYPE_CHECKING:
    import pandas as pd

TLC_BASE_URL = "https://d37ci6vzurychx.cloudfront.net/trip-data"
TLC_URL = TLC_BASE_URL + "/green_tripdata_{month}.parquet"
TLC_PAGE = "https://www.nyc.gov/site/tlc/about/tlc-trip-record-data.page"
COLUMNS = [
    "lpep_pickup_datetime",
    "lpep_dropoff_datetime",
    "PULocationID",
    "DOLocationID",
    "trip_distance",
]
MIN_DURATION = 1.0
MAX_DURATION = 60.0
DOWNLOAD_TIMEOUT = 120  # seconds without data before a download is abandoned

_MONTH_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class MissingDataError(FileNotFoundError):
    """A month's parquet file is neither in TAXI_DATA_DIR nor in the cache, and could not be
    downloaded (or downloading was not allowed).  ``files`` are the TLC file names; the message is
    one line that says where the files were looked for and where to get them."""

    def __init__(self, message: str, files: list[str], reason: str | None = None):
        super().__init__(message)
        self.files = list(files)
        self.reason = reason  # why downloading failed; None when it was not tried

    def __str__(self) -> str:
        return self.args[0]


def check_month(month: str) -> str:
    """Return ``month`` if it is of the form ``YYYY-MM`` (month 01 to 12), else raise ValueError."""
    if not isinstance(month, str) or not _MONTH_RE.match(month):
        raise ValueError(f"month must be 'YYYY-MM' with a month from 01 to 12, got {month!r}")
    return month


def file_name(month: str) -> str:
    return f"green_tripdata_{check_month(month)}.parquet"


def cache_dir() -> Path:
    env = os.environ.get("TAXI_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "taxi_duration"


def download_url(month: str) -> str:
    """Where ``month`` is downloaded from: ``$TAXI_DATA_URL/<file>``, else the TLC's URL."""
    base = os.environ.get("TAXI_DATA_URL") or TLC_BASE_URL
    return f"{base.rstrip('/')}/{file_name(month)}"


def _download(url: str, dest: Path) -> None:
    import http.client
    import urllib.request

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp,
        ):
            size = int(resp.headers.get("Content-Length") or 0) or None
            with progress.bar(
                total=size, desc=dest.name, unit="B", unit_scale=True, unit_divisor=1024
            ) as bar:
                try:
                    while chunk := resp.read(1 << 16):
                        out.write(chunk)
                        bar.update(len(chunk))
                except http.client.HTTPException as e:  # IncompleteRead, ...
                    raise OSError(f"{url}: {e!r}") from e
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


def _missing(names: list[str], data_dir, reason: str | None) -> MissingDataError:
    """The one-line error for files found nowhere (``reason``: why downloading failed, None when
    it was not allowed)."""
    where = f"TAXI_DATA_DIR={data_dir}" if data_dir else "TAXI_DATA_DIR (not set)"
    if len(names) == 1:
        what, verb, get = names[0], "is", f"download it from {TLC_BASE_URL}/{names[0]}"
    else:
        what, verb = ", ".join(names), "are"
        get = f"download them from {TLC_BASE_URL}/<file name>"
    how = f"downloading failed: {reason}" if reason else "not downloaded"
    return MissingDataError(
        f"{what} {verb} not in {where} nor in the cache {cache_dir()} ({how}); {get} "
        f"(TLC trip record data, {TLC_PAGE}) into TAXI_DATA_DIR",
        names,
        reason,
    )


def _one_line(e: BaseException) -> str:
    """``e`` as one line; a URLError as its reason (``[Errno -2] Name or service not known``)."""
    from urllib.error import HTTPError, URLError

    if isinstance(e, URLError) and not isinstance(e, HTTPError):
        e = e.reason if isinstance(e.reason, BaseException) else OSError(str(e.reason))
    return " ".join(str(e).split()) or type(e).__name__


def month_path(
    month: str, data_dir: str | os.PathLike | None = None, download: bool = True
) -> Path:
    """Locate (or fetch into the cache) the parquet file of ``month``; MissingDataError if
    it is nowhere and cannot be downloaded."""
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
        raise _missing([name], data_dir, None)
    url = download_url(month)
    try:
        _download(url, cached)
    except OSError as e:  # URLError, HTTPError, timeouts, not a Parquet file, cache not writable
        reason = _one_line(e)
        if not url.startswith(TLC_BASE_URL):
            reason = f"{url}: {reason}"
        raise _missing([name], data_dir, reason) from e
    return cached


def locate_months(
    months, data_dir: str | os.PathLike | None = None, download: bool = True
) -> list[Path]:
    """:func:`month_path` of every month; one MissingDataError naming every missing file."""
    paths, missing, reasons = [], [], []
    if data_dir is None:
        data_dir = os.environ.get("TAXI_DATA_DIR")
    for m in dict.fromkeys(months):
        try:
            paths.append(month_path(m, data_dir, download))
        except MissingDataError as e:
            missing.extend(e.files)
            if e.reason and e.reason not in reasons:
                reasons.append(e.reason)
    if missing:
        raise _missing(missing, data_dir, "; ".join(reasons) or None)
    return paths


def read_raw(
    month: str, data_dir: str | os.PathLike | None = None, download: bool = True
) -> pd.DataFrame:
    """The month's trips (only the columns the model uses), unfiltered."""
    import pandas as pd
    import pyarrow.parquet as pq

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
