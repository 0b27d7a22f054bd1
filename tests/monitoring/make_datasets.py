"""Build the drift / regression-quality parity datasets (Evidently 0.7.23 vs our SQL).

    python3 tests/monitoring/make_datasets.py --out /tmp/td_monitoring/datasets
    python3 tests/monitoring/make_datasets.py --out DIR --only real_2023_01_vs_2023_02,nulls
    python3 tests/monitoring/make_datasets.py --out DIR --predictor mypkg.mymod:predict

Runs under the system python3 (pandas 3.x, pyarrow); no Evidently needed.  For every case it writes
``DIR/<case>/``:

    reference.parquet, current.parquet   the two windows, pandas dtypes exactly as built/read
    config.json                          the evidently_report.py config (columns, overrides, roles)
    schema.json                          column -> {"pandas_dtype", "pg_type"} for each window
    reference.tsv, current.tsv           the same rows in COPY text format (NaN -> \\N, +-inf -> Infinity)
    load.sql                             CREATE TABLE + \\copy for psql (tables td_mon_<case>_ref/_cur)

and ``DIR/manifest.json`` listing the cases.  ``load_into_postgres(conn, table, parquet_path)``
loads one parquet window into PostgreSQL from Python (psycopg 3) with the same type map and the
same value rules.

Value rules for the SQL side (so both sides see identical data):
  * pandas dtype -> PostgreSQL type: float64 -> double precision, int64/Int64 -> bigint,
    int32 -> integer, int16/int8 -> smallint, bool -> boolean, object/str/string -> text.
    (An int column with NULLs is float64 in pandas, and so double precision in SQL.)
  * NaN in a float column is loaded as SQL NULL: pandas cannot tell a parquet NULL from a NaN, and
    Evidently drops both alike.  +inf / -inf are loaded as 'Infinity' / '-Infinity'.
  * floats are written with repr() (shortest round-trip), so float8in() reproduces them bit for bit.

Cases (each is one reference/current pair; see each builder's docstring for the details):
  real_2023_01_vs_2023_02, real_2023_01_vs_2023_03, real_2021_01_vs_2021_02
      TLC green months, the columns below that exist in both months, target ``duration`` and a
      deterministic synthetic ``prediction`` (hook: --predictor).  Types left to inference.
  real_2023_01_vs_2023_02_overrides
      the same data with per-column type / stattest / threshold overrides.
  native_2023_01_vs_2023_04, native_2023_02_vs_2023_03, native_window_2023_01_09_vs_2023_04_10
      natively typed months: the SQL tables get the parquet file's own column types (int64 with
      NULLs -> bigint with NULLs), pandas reads the same rows as any reader does (float64).  The
      window case is 06:00-12:00 of one day each (small windows: n_r <= 1000).
  native_2023_01_vs_2023_04_integer, native_window_2023_01_09_vs_2023_04_10_integer
      the same with report option nullable_integers = "integer": Evidently is given the type that
      option implies (cat for an integer column with NULLs and <= 10 current values).
  ks_exact_equal_n, ks_exact_small_ref, ks_asymp_large_cur, few_unique_small_ref,
  few_unique_large_ref, binary, nulls, infinity, infinity_without_nan, new_category_small_ref,
  new_category_large_ref, constant_small_ref, constant_large_ref, text_categorical,
  type_inference, forced_tests, forced_sturges_pow2, drift_share_boundary, drift_share_075,
  regression_edge, empty_column
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]

REAL_COLUMNS = [
    "VendorID",
    "passenger_count",
    "payment_type",
    "RatecodeID",
    "trip_type",
    "store_and_fwd_flag",
    "PULocationID",
    "DOLocationID",
    "trip_distance",
    "fare_amount",
    "tip_amount",
    "total_amount",
    "congestion_surcharge",
]
REAL_PAIRS = [("2023-01", "2023-02"), ("2023-01", "2023-03"), ("2021-01", "2021-02")]

# --------------------------------------------------------------------------------------------
# dtype -> PostgreSQL type, and the COPY text serialisation
# --------------------------------------------------------------------------------------------

PG_TYPES = {
    "float64": "double precision",
    "Float64": "double precision",
    "float32": "real",
    "Float32": "real",
    "int64": "bigint",
    "Int64": "bigint",
    "uint32": "bigint",
    "UInt32": "bigint",
    "int32": "integer",
    "Int32": "integer",
    "uint16": "integer",
    "UInt16": "integer",
    "int16": "smallint",
    "Int16": "smallint",
    "int8": "smallint",
    "Int8": "smallint",
    "uint8": "smallint",
    "UInt8": "smallint",
    "bool": "boolean",
    "boolean": "boolean",
    "object": "text",
    "str": "text",
    "string": "text",
}


def pg_type(dtype) -> str:
    """PostgreSQL column type for a pandas dtype (see the module docstring)."""
    name = str(dtype)
    if name in PG_TYPES:
        return PG_TYPES[name]
    if name.startswith("datetime64"):
        return "timestamp"
    if name.startswith("string"):
        return "text"
    raise ValueError(f"no PostgreSQL type for pandas dtype {name!r}")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_text(value) -> str:
    """One field in PostgreSQL COPY text format (NULL is \\N)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return r"\N"
    if isinstance(value, (bool, np.bool_)):
        return "t" if value else "f"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return r"\N"  # NaN (or a parquet NULL, indistinguishable in pandas) -> SQL NULL
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    s = str(value)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_lines(df: pd.DataFrame):
    """Yield the rows of ``df`` as COPY text lines (tab separated, newline terminated)."""
    cols = [df[c].tolist() for c in df.columns]
    for row in zip(*cols, strict=True):
        yield "\t".join(_copy_text(v) for v in row) + "\n"


def create_table_sql(table: str, df: pd.DataFrame, types: dict | None = None) -> str:
    """CREATE TABLE for ``df``; ``types`` (column -> PostgreSQL type) overrides the dtype map."""
    types = types or {}
    cols = ",\n  ".join(
        f"{quote_ident(c)} {types.get(c) or pg_type(df[c].dtype)}" for c in df.columns
    )
    return f"CREATE TABLE {quote_ident(table)} (\n  {cols}\n)"


def load_into_postgres(conn, table: str, parquet_path) -> int:
    """(Re)create ``table`` with the mapped types and COPY every row of ``parquet_path`` into it.

    ``conn`` is a psycopg 3 connection; the caller commits (or uses autocommit).  NaN -> NULL,
    +-inf -> 'Infinity'/'-Infinity'.  Returns the number of rows loaded.
    """
    df = pd.read_parquet(parquet_path)
    cols = ", ".join(quote_ident(c) for c in df.columns)
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {quote_ident(table)}")
        cur.execute(create_table_sql(table, df))
        with cur.copy(f"COPY {quote_ident(table)} ({cols}) FROM STDIN") as cp:
            buf = []
            for line in copy_lines(df):
                buf.append(line)
                if len(buf) >= 5000:
                    cp.write("".join(buf))
                    buf = []
            if buf:
                cp.write("".join(buf))
    return len(df)


# --------------------------------------------------------------------------------------------
# real months
# --------------------------------------------------------------------------------------------


def data_dir() -> Path:
    env = os.environ.get("TAXI_DATA_DIR")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "data"


def synthetic_prediction(df: pd.DataFrame, month: str) -> np.ndarray:
    """Deterministic stand-in for the model: 2 + 3.2 * trip_distance + N(0, 3) noise.

    The noise comes from a generator seeded by the month (e.g. 202301), so the numbers never
    change.  Replace with --predictor MODULE:FUNC (called as FUNC(df, month) -> array of float64,
    one per row of df; df holds the raw month's rows incl. the pickup/dropoff timestamps).
    """
    rng = np.random.default_rng(int(month.replace("-", "")))
    return 2.0 + 3.2 * df["trip_distance"].to_numpy(dtype="float64") + rng.normal(0.0, 3.0, len(df))


def load_real_month(month: str, columns: list[str], predictor: Callable) -> pd.DataFrame:
    raw = pd.read_parquet(data_dir() / f"green_tripdata_{month}.parquet")
    out = raw[columns].copy()  # dtypes exactly as read (int columns with NULLs are float64)
    out["duration"] = (
        (raw["lpep_dropoff_datetime"] - raw["lpep_pickup_datetime"]).dt.total_seconds() / 60.0
    ).astype("float64")
    pred = np.asarray(predictor(raw, month), dtype="float64")
    if pred.shape != (len(raw),):
        raise ValueError(f"predictor returned shape {pred.shape}, want ({len(raw)},)")
    out["prediction"] = pred
    return out.reset_index(drop=True)


def real_columns(ref_month: str, cur_month: str) -> list[str]:
    import pyarrow.parquet as pq

    a = set(pq.read_schema(data_dir() / f"green_tripdata_{ref_month}.parquet").names)
    b = set(pq.read_schema(data_dir() / f"green_tripdata_{cur_month}.parquet").names)
    return [c for c in REAL_COLUMNS if c in a and c in b]


def _auto_config(df: pd.DataFrame, target=None, prediction=None, drift_share=0.5, **extra) -> dict:
    cfg = {
        "columns": {c: {"type": None, "stattest": None, "threshold": None} for c in df.columns},
        "prediction": prediction,
        "target": target,
        "drift_share": drift_share,
    }
    cfg.update(extra)
    return cfg


def build_real(ref_month: str, cur_month: str, predictor: Callable):
    """Real TLC months; every column's type left to Evidently's inference (on current).

    Columns: REAL_COLUMNS present in both files, plus ``duration`` (target, minutes, float64, no
    filtering: negative, zero and multi-day durations stay, which exercises the MAPE zero/negative
    rules) and ``prediction``.  Both target and prediction are also drift columns, as they are in
    ``Report([DataDriftPreset()])`` on such a frame.
    """
    cols = real_columns(ref_month, cur_month)
    ref = load_real_month(ref_month, cols, predictor)
    cur = load_real_month(cur_month, cols, predictor)
    cfg = _auto_config(
        ref,
        target="duration",
        prediction="prediction",
        description=f"TLC green {ref_month} (reference) vs {cur_month} (current)",
    )
    return ref, cur, cfg


def build_real_overrides(predictor: Callable):
    """2023-01 vs 2023-02 with overrides: types, stattests and thresholds per column.

    passenger_count forced categorical (float64 column -> JS on value counts), VendorID forced
    numerical (int, 2 values -> numeric U<=5 -> JS), payment_type forced 'psi' on numeric with <= 20
    reference values (value-count path + epsilon fill), trip_distance forced 'psi' (numeric with
    > 20 values: Sturges bins over ~130k values), fare_amount 'kl_div' (Sturges + renormalisation),
    total_amount 'jensenshannon' (Sturges, no epsilon), tip_amount 'ks' on 68k vs 65k rows
    (asymptotic KS), PULocationID wasserstein with threshold 0.01, DOLocationID threshold 0.001
    (auto test), congestion_surcharge 'psi' threshold 0.5, store_and_fwd_flag 'kl_div'.
    """
    ref, cur, cfg = build_real("2023-01", "2023-02", predictor)
    ov = {
        "passenger_count": {"type": "cat"},
        "VendorID": {"type": "num"},
        "payment_type": {"stattest": "psi"},
        "trip_distance": {"stattest": "psi"},
        "fare_amount": {"stattest": "kl_div"},
        "total_amount": {"stattest": "jensenshannon"},
        "tip_amount": {"stattest": "ks"},
        "PULocationID": {"stattest": "wasserstein", "threshold": 0.01},
        "DOLocationID": {"threshold": 0.001},
        "congestion_surcharge": {"stattest": "psi", "threshold": 0.5},
        "store_and_fwd_flag": {"stattest": "kl_div"},
    }
    for c, o in ov.items():
        if c in cfg["columns"]:
            cfg["columns"][c].update(o)
    cfg["description"] = "2023-01 vs 2023-02 with per-column type/stattest/threshold overrides"
    return ref, cur, cfg


ARROW_PG_TYPES = {
    "int64": "bigint",
    "int32": "integer",
    "int16": "smallint",
    "int8": "smallint",
    "double": "double precision",
    "float": "real",
    "string": "text",
    "large_string": "text",
    "bool": "boolean",
}
PG_INTEGER_TYPES = ("bigint", "integer", "smallint")


def native_month(month: str, columns: list[str], predictor: Callable, window=None):
    """One month (or one window of it, [start, end) on lpep_pickup_datetime) as pandas reads it,
    and the PostgreSQL type of each column in the parquet file itself.

    pandas reads the filtered rows, so an integer column is int64/int32 when the window has no
    NULL in it and float64 when it has one -- what ``pd.read_sql`` of the same window from a
    natively typed table gives too (parity.py checks that).
    """
    import datetime as dt

    import pyarrow.parquet as pq

    path = data_dir() / f"green_tripdata_{month}.parquet"
    filters = None
    if window is not None:
        start, end = (dt.datetime.fromisoformat(t) for t in window)
        filters = [("lpep_pickup_datetime", ">=", start), ("lpep_pickup_datetime", "<", end)]
    raw = pd.read_parquet(path, filters=filters).reset_index(drop=True)
    out = raw[columns].copy()
    out["duration"] = (
        (raw["lpep_dropoff_datetime"] - raw["lpep_pickup_datetime"]).dt.total_seconds() / 60.0
    ).astype("float64")
    out["prediction"] = np.asarray(predictor(raw, month), dtype="float64")
    schema = pq.read_schema(path)
    types = {c: ARROW_PG_TYPES[str(schema.field(c).type)] for c in columns}
    types.update(duration="double precision", prediction="double precision")
    return out, types


def build_native(ref_month, cur_month, predictor, windows=None, nullable="float"):
    """Natively typed months (or windows of them): see native_month().  Each window's table gets
    its own month's parquet types (2023-01: passenger_count double; 2023-04: int64 with NULLs).

    nullable = "integer": the SQL report runs with option nullable_integers = "integer", and
    Evidently is told the type that option gives: cat for a current integer column with NULLs and
    at most 10 distinct current values (the other columns are inferred as usual).
    """
    cols = real_columns(ref_month, cur_month)
    ref, ref_types = native_month(ref_month, cols, predictor, windows and windows[0])
    cur, cur_types = native_month(cur_month, cols, predictor, windows and windows[1])
    what = (
        f"{windows[0][0]}..{windows[0][1]} vs {windows[1][0]}..{windows[1][1]}"
        if windows
        else f"{ref_month} vs {cur_month}"
    )
    cfg = _auto_config(
        ref,
        target="duration",
        prediction="prediction",
        description=f"TLC green {what}, natively typed (parquet column types in SQL)",
        pg_types={"reference": ref_types, "current": cur_types},
        read_sql_check=True,
    )
    if nullable == "integer":
        cfg["sql_options"] = {"nullable_integers": "integer"}
        cfg["sql_omit_type"] = []
        for c in cols:
            if cur_types[c] in PG_INTEGER_TYPES and cur[c].isna().any() and cur[c].nunique() <= 10:
                cfg["columns"][c]["type"] = "cat"
                cfg["sql_omit_type"].append(c)
        cfg["description"] += "; nullable_integers = integer"
    return ref, cur, cfg


NATIVE_WINDOWS = (
    ("2023-01-09 06:00", "2023-01-09 12:00"),
    ("2023-04-10 06:00", "2023-04-10 12:00"),
)


# --------------------------------------------------------------------------------------------
# synthetic edge cases
# --------------------------------------------------------------------------------------------


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:12], 16))


def case_ks_exact_equal_n():
    """KS exact, n_r = n_c = 1000 (n_r = 1000 is still the small branch -> 'ks';
    scipy _compute_prob_outside_square).  x_same: same normal; x_shift: +0.15 shift (p small);
    x_ties: normal rounded to 0.25 (ties, ~35 values); x_int: int64 with 60 values (numerical,
    since nunique > 10 in current)."""
    r = _rng("ks_exact_equal_n")
    n = 1000
    ref = pd.DataFrame(
        {
            "x_same": r.normal(size=n),
            "x_shift": r.normal(size=n),
            "x_ties": np.round(r.normal(size=n) * 4) / 4,
            "x_int": r.integers(0, 60, n),
        }
    )
    cur = pd.DataFrame(
        {
            "x_same": r.normal(size=n),
            "x_shift": r.normal(size=n) + 0.15,
            "x_ties": np.round(r.normal(0.1, 1, size=n) * 4) / 4,
            "x_int": r.integers(2, 62, n),
        }
    )
    return ref, cur, _auto_config(ref)


def case_ks_exact_small_ref():
    """KS exact with n_r = 800 != n_c = 5000 (scipy _compute_outer_prob_inside_method);
    a drifted column, an undrifted one, a heavily tied one and one with a tiny scale."""
    r = _rng("ks_exact_small_ref")
    ref = pd.DataFrame(
        {
            "a": r.normal(size=800),
            "b": r.exponential(size=800),
            "ties": r.integers(0, 8, 800).astype("float64"),
            "tiny": r.normal(0, 1e-6, 800),
        }
    )
    cur = pd.DataFrame(
        {
            "a": r.normal(size=5000),
            "b": r.exponential(1.3, size=5000),
            "ties": r.integers(0, 9, 5000).astype("float64"),
            "tiny": r.normal(1e-7, 1e-6, 5000),
        }
    )
    return ref, cur, _auto_config(ref)


def case_ks_asymp_large_cur():
    """KS with n_r = 500 (auto 'ks') but n_c = 12000 > 10000: scipy's 'auto' takes the asymptotic
    branch, kstwo.sf(D, round(n_r n_c / (n_r + n_c)))."""
    r = _rng("ks_asymp_large_cur")
    ref = pd.DataFrame({"a": r.normal(size=500), "b": r.gamma(2.0, size=500)})
    cur = pd.DataFrame({"a": r.normal(size=12000), "b": r.gamma(2.3, size=12000)})
    return ref, cur, _auto_config(ref)


def _few_unique(r, n, shift):
    return pd.DataFrame(
        {
            "num_3": r.choice([1.0, 2.0, 3.0], n, p=[0.5 - shift, 0.3, 0.2 + shift]),  # numeric U=3
            "num_2": r.choice([0.0, 1.0], n, p=[0.6 - shift, 0.4 + shift]),  # numeric U=2
            "num_5": r.choice([0.5, 1.5, 2.5, 3.5, 4.5], n),  # numeric U=5
            "num_6": r.choice([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], n),  # numeric U=6
            "cat_int4": r.integers(0, 4, n),  # int64 -> cat, U=4
            "cat_int2": r.integers(0, 2, n),  # int64 -> cat, U=2
        }
    )


def case_few_unique_small_ref():
    """<= 5 unique values with n_r <= 1000 (600 vs 900): numeric U=3 and U=5 -> 'chisquare'
    (registered for cat only, but the auto choice applies it to numeric too), numeric U=2 -> 'z',
    numeric U=6 -> 'ks' (boundary), int64 U=4 -> categorical -> 'chisquare', int64 U=2 -> 'z'."""
    r = _rng("few_unique_small_ref")
    ref, cur = _few_unique(r, 600, 0.0), _few_unique(r, 900, 0.08)
    return ref, cur, _auto_config(ref)


def case_few_unique_large_ref():
    """The same columns with n_r = 1001 (just above the boundary) vs 3000: numeric U<=5 and
    categorical -> 'jensenshannon' (value counts, no epsilon), numeric U=6 -> 'wasserstein'."""
    r = _rng("few_unique_large_ref")
    ref, cur = _few_unique(r, 1001, 0.0), _few_unique(r, 3000, 0.05)
    return ref, cur, _auto_config(ref)


def case_binary():
    """Binary columns, n_r = 400, n_c = 700 -> 'z': bool (categorical), int64 {0,1}
    (categorical), text {'Y','N'}, float {0,1} (numeric U=2 -> z), a column that is all 0 in
    reference and {0,1} in current, and one that is constant 1 in both (the p = 1 branch)."""
    r = _rng("binary")

    def mk(n, p):
        return pd.DataFrame(
            {
                "flag_bool": r.random(n) < p,
                "flag_int": (r.random(n) < p).astype("int64"),
                "flag_text": pd.Series(np.where(r.random(n) < p, "Y", "N"), dtype="str"),
                "flag_float": (r.random(n) < p).astype("float64"),
                "one_sided": (r.random(n) < (0.0 if n == 400 else 0.1)).astype("int64"),
                "const_one": np.ones(n, dtype="int64"),
            }
        )

    ref, cur = mk(400, 0.3), mk(700, 0.38)
    return ref, cur, _auto_config(ref)


def case_nulls():
    """NULLs (NaN): n_r = 3000, n_c = 2500.  A float column with 20 % NaN (wasserstein on the
    non-null values; n_r is the non-null count), a text categorical with NULLs, an int column with
    NULLs (float64 in pandas -> numerical, U=4 -> JS), a float column with NaN only in current,
    a column whose reference is 99.9 % NULL (3 values left -> n_r = 3 <= 1000 -> small branch:
    'ks'), and a text column that is entirely NULL in current (object dtype all-None ->
    Evidently infers 'unknown' from current and silently leaves it out of the drift columns)."""
    r = _rng("nulls")

    def mk(n, shift):
        f = r.normal(shift, 1, n)
        f[r.random(n) < 0.2] = np.nan
        t = pd.Series(r.choice(["a", "b", "c"], n), dtype="object")
        t[r.random(n) < 0.15] = None
        i = r.integers(1, 5, n).astype("float64")
        i[r.random(n) < 0.1] = np.nan
        return pd.DataFrame({"f_nan": f, "t_null": t, "i_null": i})

    ref, cur = mk(3000, 0.0), mk(2500, 0.2)
    ref["nan_cur_only"] = r.normal(size=3000)
    c = r.normal(size=2500)
    c[:700] = np.nan
    cur["nan_cur_only"] = c
    m = np.full(3000, np.nan)
    m[:3] = [1.0, 2.0, 3.5]
    ref["mostly_null"] = m
    cur["mostly_null"] = r.normal(2, 1, 2500)
    ref["text_null_in_cur"] = pd.Series(r.choice(["x", "y"], 3000), dtype="str")
    cur["text_null_in_cur"] = pd.Series([None] * 2500, dtype="object")
    return ref, cur, _auto_config(ref)


def case_infinity():
    """+inf / -inf mixed in, every window that holds an inf also holds a NaN (so Evidently's two
    code paths, ValueDrift and the legacy DriftedColumnsCount, both clean and agree).  Columns:
    'wide' (wasserstein), 'inf_cur_only' (inf only in current), 'neg_inf' (-inf both windows);
    n_r = 2000, n_c = 2200; the infs are dropped like NaN before any statistic."""
    r = _rng("infinity")

    def mk(n, shift):
        a = r.normal(shift, 1, n)
        a[:5] = np.inf
        a[5:9] = -np.inf
        a[9:12] = np.nan
        b = r.normal(shift, 2, n)
        c = r.lognormal(shift, 1, n)
        c[:7] = -np.inf
        c[7] = np.nan
        return pd.DataFrame({"wide": a, "inf_cur_only": b, "neg_inf": c})

    ref, cur = mk(2000, 0.0), mk(2200, 0.3)
    cur.loc[20:30, "inf_cur_only"] = np.inf
    cur.loc[31, "inf_cur_only"] = np.nan
    ref.loc[31, "inf_cur_only"] = np.nan  # reference: NaN but no inf
    return ref, cur, _auto_config(ref)


def case_infinity_without_nan():
    """+inf in a column with no NaN, and a real shift.  Evidently 0.7.23 disagrees with itself:
    ValueDrift always cleans +-inf (score ~ W1 of the finite values, drifted), while the legacy
    DatasetDriftMetric behind DriftedColumnsCount cleans a window only if it holds a NaN, so it
    computes wasserstein with inf -> NaN score -> not drifted; the count then excludes a column
    that ValueDrift reports as drifted.  Also a column with inf in reference only and one with
    -inf (no NaN) in both windows but no shift."""
    r = _rng("infinity_without_nan")
    ref = pd.DataFrame(
        {
            "shifted": r.normal(0, 1, 2000),
            "ref_inf": r.normal(0, 1, 2000),
            "neg_inf_both": r.normal(0, 1, 2000),
        }
    )
    cur = pd.DataFrame(
        {
            "shifted": r.normal(1.0, 1, 2000),
            "ref_inf": r.normal(0.5, 1, 2000),
            "neg_inf_both": r.normal(0, 1, 2000),
        }
    )
    cur.loc[:9, "shifted"] = np.inf
    ref.loc[:4, "ref_inf"] = np.inf
    ref.loc[:2, "neg_inf_both"] = -np.inf
    cur.loc[:2, "neg_inf_both"] = -np.inf
    return ref, cur, _auto_config(ref)


def _new_cat(r, n, cur):
    cats = ["a", "b", "c", "d"] if cur else ["a", "b", "c"]
    cat_int_vals = [1, 2, 3, 7] if cur else [1, 2, 3]
    df = pd.DataFrame(
        {
            "cat_text": pd.Series(r.choice(cats, n), dtype="str"),
            "cat_int": r.choice(cat_int_vals, n).astype("int64"),
            # 'gone' is present only in reference: value-count keys are the union of both windows
            "ref_only": pd.Series(
                r.choice(["p", "q", "gone"] if not cur else ["p", "q"], n), dtype="str"
            ),
        }
    )
    return df


def case_new_category_small_ref():
    """A category present only in current, n_r = 300 <= 1000 -> 'chisquare': the expected count
    of the new key is 0, the statistic is inf, p = 0 (drifted).  Also an int categorical with a
    new value and a text column with a category present only in reference (finite chi2)."""
    r = _rng("new_category_small_ref")
    ref = _new_cat(r, 300, False)
    cur = _new_cat(r, 400, True)
    return ref, cur, _auto_config(ref)


def case_new_category_large_ref():
    """The same with n_r = 3000 -> 'jensenshannon' (the new key has p = 0, q > 0; no epsilon)."""
    r = _rng("new_category_large_ref")
    ref = _new_cat(r, 3000, False)
    cur = _new_cat(r, 2500, True)
    return ref, cur, _auto_config(ref)


def _constant(r, n, cur):
    return pd.DataFrame(
        {
            "const_float": np.full(n, 7.5),  # same constant both
            "const_int": np.full(n, 3, dtype="int64"),  # int -> cat
            "const_text": pd.Series(["k"] * n, dtype="str"),
            # constant in reference, varying in current
            "const_ref_vary_cur": r.normal(7.5, 1, n) if cur else np.full(n, 7.5),
            # constant in both but different values
            "const_diff": np.full(n, 2.0 if cur else 1.0),
        }
    )


def case_constant_small_ref():
    """Constant columns with n_r = 500 (small branch): same constant in both (U=1 -> 'z',
    p = 1 by the special case), int/text constants (cat -> 'z', p = 1), constant reference vs
    varying current (numeric U > 5 -> 'ks'), two different constants (U=2 -> 'z' with
    P(1-P) > 0 -> p ~ 0)."""
    r = _rng("constant_small_ref")
    ref, cur = _constant(r, 500, False), _constant(r, 600, True)
    return ref, cur, _auto_config(ref)


def case_constant_large_ref():
    """Constant columns with n_r = 1500: same constant -> 'jensenshannon' = 0; constant
    reference vs varying current -> 'wasserstein' with sigma_ref = 0 -> divided by 0.001 (huge);
    two different constants -> JS = sqrt(ln 2)."""
    r = _rng("constant_large_ref")
    ref, cur = _constant(r, 1500, False), _constant(r, 1400, True)
    return ref, cur, _auto_config(ref)


def case_text_categorical():
    """Text (str) categoricals, n_r = 2500 -> 'jensenshannon': a 6-value borough-like column
    with shifted frequencies; a 40-value zone-name column; a column with characters needing
    escaping in COPY (tab, backslash, quote, newline, unicode).  nunique <= 0.5 * count keeps all
    of them 'cat' (above that Evidently would call them text and use a text-content test)."""
    r = _rng("text_categorical")
    boroughs = ["Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island", "EWR"]
    zones = [f"zone {i:02d}" for i in range(40)]
    odd = ["tab\there", "back\\slash", 'quo"te', "new\nline", "ünïcødé", "plain"]

    def mk(n, p):
        return pd.DataFrame(
            {
                "borough": pd.Series(r.choice(boroughs, n, p=p), dtype="str"),
                "zone": pd.Series(r.choice(zones, n), dtype="str"),
                "odd": pd.Series(r.choice(odd, n), dtype="str"),
            }
        )

    ref = mk(2500, [0.4, 0.3, 0.15, 0.1, 0.04, 0.01])
    cur = mk(2000, [0.3, 0.3, 0.2, 0.12, 0.06, 0.02])
    return ref, cur, _auto_config(ref)


def case_type_inference():
    """Evidently infers types from the CURRENT window only (Dataset.from_pandas on each window,
    Report uses current's definition).  int64 with 50 values in reference but 5 in current ->
    categorical (JS over the union of 50 keys); int64 with 5 in reference and 50 in current ->
    numerical (wasserstein); int64 with exactly 10 values -> cat, 11 -> num; int32 in reference
    and int64 in current (both ints); a str column whose nunique is exactly 0.5 * count in
    current (-> cat, text needs strictly more); a float column with integral values and 3 values
    (float is always num -> JS since U <= 5)."""
    r = _rng("type_inference")
    n = 2000
    ref = pd.DataFrame(
        {
            "int_50_5": r.integers(0, 50, n),
            "int_5_50": r.integers(0, 5, n),
            "int_10": r.integers(0, 10, n),
            "int_11": r.integers(0, 11, n),
            "int32_64": r.integers(0, 30, n).astype("int32"),
            "str_half": pd.Series([f"s{i}" for i in r.integers(0, 1000, n)], dtype="str"),
            "float_int3": r.integers(0, 3, n).astype("float64"),
        }
    )
    cur = pd.DataFrame(
        {
            "int_50_5": r.integers(0, 5, n),
            "int_5_50": r.integers(0, 50, n),
            "int_10": r.integers(0, 10, n),
            "int_11": r.integers(0, 11, n),
            "int32_64": r.integers(0, 30, n).astype("int64"),
            "str_half": pd.Series(
                [f"s{i}" for i in np.concatenate([np.arange(1000), r.integers(0, 1000, n - 1000)])],
                dtype="str",
            ),
            "float_int3": r.integers(0, 3, n).astype("float64"),
        }
    )
    return ref, cur, _auto_config(ref)


def case_forced_tests():
    """Forced stattests and thresholds, n_r = 5000, n_c = 4000 (each column its own override):
    psi / kl_div / jensenshannon on numeric columns with > 20 reference values (Sturges bins over
    the combined 9000 values; psi and kl_div with the epsilon fill, kl_div renormalised), psi on an
    int64 column with 200 values (integer dtype -> numpy clamps the Sturges width to >= 1),
    psi / kl_div on a categorical with a category missing from current (epsilon fill), ks forced on
    the large reference (exact: max(n) <= 10000), wasserstein with threshold 0.5, chisquare forced
    on a categorical with threshold 0.2, z forced on a binary categorical with threshold 0.01,
    jensenshannon on a numeric with 12 values (<= 20 -> value-count path)."""
    r = _rng("forced_tests")

    def mk(n, cur):
        s = 0.1 if cur else 0.0
        return pd.DataFrame(
            {
                "num_psi": r.normal(s, 1, n),
                "num_kl": r.gamma(2 + s, 1, n),
                "num_js": r.lognormal(s, 0.5, n),
                "int_psi": r.integers(0, 200, n),
                "cat_psi": pd.Series(
                    r.choice(["a", "b", "c"] if cur else ["a", "b", "c", "z"], n), dtype="str"
                ),
                "cat_kl": pd.Series(
                    r.choice(["a", "b", "c"] if cur else ["a", "b", "c", "z"], n), dtype="str"
                ),
                "num_ks": r.normal(s / 2, 1, n),
                "num_w": r.normal(s, 1, n),
                "cat_chi": r.choice([1, 2, 3, 4], n).astype("int64"),
                "bin_z": (r.random(n) < 0.3 + s / 5).astype("int64"),
                "num12_js": r.integers(0, 12, n).astype("float64"),
            }
        )

    ref, cur = mk(5000, False), mk(4000, True)
    cfg = _auto_config(ref)
    forced = {
        "num_psi": ("psi", None),
        "num_kl": ("kl_div", None),
        "num_js": ("jensenshannon", None),
        "int_psi": ("psi", None),
        "cat_psi": ("psi", None),
        "cat_kl": ("kl_div", None),
        "num_ks": ("ks", None),
        "num_w": ("wasserstein", 0.5),
        "cat_chi": ("chisquare", 0.2),
        "bin_z": ("z", 0.01),
        "num12_js": ("jensenshannon", None),
    }
    for c, (t, thr) in forced.items():
        cfg["columns"][c].update({"stattest": t, "threshold": thr})
    return ref, cur, cfg


def case_forced_sturges_pow2():
    """Sturges with N = n_r + n_c = 4096 = 2^12 (log2 N exact: the bin count is
    ceil(range / (range / 13)) which can come out as 14), psi / kl_div / jensenshannon forced;
    plus ks forced on n_r = 2048 with a current of 2048 (exact, equal n)."""
    r = _rng("forced_sturges_pow2")

    def mk(s):
        return pd.DataFrame(
            {
                "p": r.normal(s, 1, 2048),
                "k": r.uniform(0, 1 + s, 2048),
                "j": r.exponential(1 + s, 2048),
                "ks": r.normal(s, 1, 2048),
            }
        )

    ref, cur = mk(0.0), mk(0.05)
    cfg = _auto_config(ref)
    for c, t in {"p": "psi", "k": "kl_div", "j": "jensenshannon", "ks": "ks"}.items():
        cfg["columns"][c]["stattest"] = t
    return ref, cur, cfg


def _share_frames(name):
    r = _rng(name)
    n = 1500
    ref = pd.DataFrame({f"c{i}": r.normal(0, 1, n) for i in range(4)})
    cur = pd.DataFrame({f"c{i}": r.normal(1.0 if i < 2 else 0.0, 1, n) for i in range(4)})
    return ref, cur


def case_drift_share_boundary():
    """4 numeric columns, 2 drifted -> share = 0.5; drift_share = 0.5 -> dataset drift (>=)."""
    ref, cur = _share_frames("drift_share")
    return ref, cur, _auto_config(ref, drift_share=0.5)


def case_drift_share_075():
    """The same data with drift_share = 0.75 -> share 0.5 < 0.75 -> no dataset drift."""
    ref, cur = _share_frames("drift_share")
    return ref, cur, _auto_config(ref, drift_share=0.75)


def case_regression_edge():
    """Regression metrics edge rows, n = 3000 per window, target 'y', prediction 'p':
    y = 0 exactly and |y| = 1e-17 (<= machine eps -> near zero: current 'replace' APE := 1.0,
    reference 'drop'), negative y (APE = |e| / max(y, eps) = |e| / 2.2e-16, huge), NaN y, +inf
    prediction, -inf y (rows dropped, inf -> NaN first), and a feature column 'x'.  The drift
    columns are x, y and p (types inferred)."""
    r = _rng("regression_edge")

    def mk(n, shift):
        y = r.gamma(2, 5, n) + shift
        p = y + r.normal(0.5, 2, n)
        y[:5] = 0.0
        y[5:8] = 1e-17
        y[8:10] = -1e-17
        y[10:14] = -r.uniform(1, 5, 4)
        y[14:18] = np.nan
        p[18:20] = np.inf
        y[20] = -np.inf
        p[21] = np.nan
        return pd.DataFrame({"x": r.normal(shift, 1, n), "y": y, "p": p})

    ref, cur = mk(3000, 0.0), mk(3000, 0.5)
    return ref, cur, _auto_config(ref, target="y", prediction="p")


def case_empty_column():
    """A float column that is entirely NULL in reference.  Evidently 0.7.23 raises
    ValueError("An empty column 'empty' was provided for drift calculation in the reference
    dataset.") and produces no report at all; evidently_report.py records {"error": ...}."""
    r = _rng("empty_column")
    ref = pd.DataFrame({"ok": r.normal(0, 1, 1500), "empty": np.full(1500, np.nan)})
    cur = pd.DataFrame({"ok": r.normal(0, 1, 1500), "empty": r.normal(0, 1, 1500)})
    return ref, cur, _auto_config(ref, expect_error=True)


def _raw_month(month: str, columns: list[str]) -> pd.DataFrame:
    raw = pd.read_parquet(data_dir() / f"green_tripdata_{month}.parquet")
    return raw[columns].copy().reset_index(drop=True)


def _force(cfg: dict, tests: dict) -> dict:
    for c, spec in tests.items():
        cfg["columns"][c].update(spec)
    return cfg


# The stattest catalogue beyond the auto choice, forced on suitable columns of real months.
CATALOGUE_NUM = {
    "trip_distance": {"stattest": "anderson"},
    "fare_amount": {"stattest": "cramer_von_mises"},
    "total_amount": {"stattest": "ed"},
    "tip_amount": {"stattest": "es"},
    "PULocationID": {"stattest": "mannw"},
    "DOLocationID": {"stattest": "t_test"},
    "congestion_surcharge": {"stattest": "hellinger"},
    "passenger_count": {"type": "cat", "stattest": "hellinger"},
}


def case_catalogue_num_real():
    """TLC green 2023-01 vs 2023-02, whole months, numerical tests forced: anderson
    (trip_distance), cramer_von_mises asymptotic (fare_amount), ed (total_amount), es
    (tip_amount), mannw (PULocationID, ties: asymptotic with tie correction), t_test
    (DOLocationID), hellinger on a numerical (congestion_surcharge: Sturges over the distinct
    values) and a categorical column (passenger_count forced cat)."""
    cols = list(CATALOGUE_NUM)
    ref, cur = _raw_month("2023-01", cols), _raw_month("2023-02", cols)
    return ref, cur, _force(_auto_config(ref), CATALOGUE_NUM)


CATALOGUE_CAT = {
    "store_and_fwd_flag": {"type": "cat", "stattest": "fisher_exact"},
    "VendorID": {"type": "cat", "stattest": "TVD"},
    "payment_type": {"type": "cat", "stattest": "g_test"},
    "RatecodeID": {"type": "cat", "stattest": "hellinger"},
}


def case_catalogue_cat_equal_real():
    """TLC green 2023-01 vs 2023-02, the first 5000 rows of each month with no NULL in the four
    columns (Evidently's fisher_exact and g_test need windows of equal length), each window
    sorted by VendorID: TVD's permutation p-value then draws the same rows as the SQL side,
    which lays each window's rows out in value order (numpy seeded with 0 by Evidently).
    fisher_exact on store_and_fwd_flag (N/Y), TVD on VendorID, g_test on payment_type,
    hellinger on RatecodeID, all forced categorical."""
    cols = list(CATALOGUE_CAT)

    def window(month):
        df = _raw_month(month, cols).dropna().head(5000)
        return df.sort_values("VendorID", kind="stable").reset_index(drop=True)

    ref, cur = window("2023-01"), window("2023-02")
    return ref, cur, _force(_auto_config(ref), CATALOGUE_CAT)


def case_catalogue_mmd_small():
    """TLC green 2023-02, its first 1000 trips with a trip_distance against the next 1000,
    sorted by it: empirical_mmd (Evidently builds the (n_r + n_c)^2 kernel matrix, so only small
    windows; consecutive trips, so the p-value is not 0), mannw on fare_amount,
    cramer_von_mises on tip_amount.  Evidently never seeds numpy
    for the MMD permutations; the config asks evidently_report.py to seed it with 0 before each
    MMD call, which the SQL side reproduces (rows in value order)."""
    cols = ["trip_distance", "fare_amount", "tip_amount"]

    rows = _raw_month("2023-02", cols).dropna()

    def window(df):
        return df.sort_values("trip_distance", kind="stable").reset_index(drop=True)

    ref, cur = window(rows.iloc[:1000]), window(rows.iloc[1000:2000])
    cfg = _force(
        _auto_config(ref, seed_mmd=True),
        {
            "trip_distance": {"stattest": "empirical_mmd"},
            "fare_amount": {"stattest": "mannw"},
            "tip_amount": {"stattest": "cramer_von_mises"},
        },
    )
    return ref, cur, cfg


def case_catalogue_tiny_real():
    """The first 15 (reference, 2023-01) and 18 (current, 2023-02) trips: cramer_von_mises on
    its exact path (max n <= 20, numpy 2's float32 table), es with the small-sample correction
    (max n < 25), anderson (capped or interpolated p), mannw, t_test, ed."""
    cols = ["fare_amount", "total_amount", "tip_amount", "trip_distance", "PULocationID", "extra"]
    ref = _raw_month("2023-01", cols).head(15)
    cur = _raw_month("2023-02", cols).head(18)
    cfg = _force(
        _auto_config(ref),
        {
            "fare_amount": {"stattest": "cramer_von_mises"},
            "total_amount": {"stattest": "es"},
            "tip_amount": {"stattest": "anderson"},
            "trip_distance": {"stattest": "mannw"},
            "PULocationID": {"type": "num", "stattest": "t_test"},
            "extra": {"stattest": "ed"},
        },
    )
    return ref, cur, cfg


PAYMENT_WORDS = {1: "credit card", 2: "cash", 3: "no charge", 4: "dispute", 5: "unknown"}


def _trip_notes(month: str, n: int, start: int = 0) -> pd.DataFrame:
    """n consecutive trips of a TLC green month from `start`, with a free-text "note" written
    from each trip's own fields and the zone lookup ("Pickup East Harlem North (Manhattan) at
    06:31, 2.3 miles to Central Harlem; paid by credit card, tip 1.5"), plus trip_distance and
    fare_amount.  Nearly every note is distinct, so Evidently types the column as text."""
    zones = pd.read_csv(data_dir() / "taxi_zone_lookup.csv").set_index("LocationID")
    cols = [
        "lpep_pickup_datetime",
        "PULocationID",
        "DOLocationID",
        "trip_distance",
        "fare_amount",
        "tip_amount",
        "payment_type",
    ]
    df = _raw_month(month, cols).iloc[start : start + n].reset_index(drop=True)

    def note(r):
        pu, do = zones.loc[r.PULocationID], zones.loc[r.DOLocationID]
        paid = (
            PAYMENT_WORDS.get(int(r.payment_type), "unknown")
            if pd.notna(r.payment_type)
            else "unknown"
        )
        return (
            f"Pickup {pu.Zone} ({pu.Borough}) at {r.lpep_pickup_datetime:%H:%M}, "
            f"{r.trip_distance} miles to {do.Zone}; paid by {paid}, tip {r.tip_amount}"
        )

    return pd.DataFrame(
        {
            "note": pd.Series([note(r) for r in df.itertuples()], dtype="str"),
            "trip_distance": df["trip_distance"],
            "fare_amount": df["fare_amount"],
        }
    )


def _by_note(df: pd.DataFrame) -> pd.DataFrame:
    # Evidently's text classifier splits the rows at random: each window's rows in note order,
    # the order in which the SQL side lays a value map's rows out
    return df.sort_values("note", kind="stable").reset_index(drop=True)


def case_text_notes_real():
    """Free text written from real trips (see _trip_notes): 3000 trips of TLC green 2023-01
    against 2500 of 2023-04.  Evidently types "note" as text and, with more than 1000 reference
    rows, tests it with abs_text_content_drift (a TF-IDF + SGD domain classifier's ROC AUC on a
    seeded half of the rows, drift above 0.55); the two numeric columns count in the same share."""
    ref, cur = _by_note(_trip_notes("2023-01", 3000)), _by_note(_trip_notes("2023-04", 2500))
    return ref, cur, _auto_config(ref)


def case_text_notes_small_real():
    """The same notes, 600 consecutive trips of 2023-02 against the next 700: at most 1000
    reference rows, so perc_text_content_drift (the AUC against the 95th percentile of 1000
    random classifiers' AUCs on the same test rows), then the same notes forced to
    abs_text_content_drift with threshold 0.6 in a second column."""

    def window(start, n):
        df = _trip_notes("2023-02", n, start)
        df["note_abs"] = df["note"]
        return _by_note(df)

    ref, cur = window(0, 600), window(600, 700)
    cfg = _force(
        _auto_config(ref), {"note_abs": {"stattest": "abs_text_content_drift", "threshold": 0.6}}
    )
    return ref, cur, cfg


def case_text_forced_type():
    """A short-text column Evidently would type categorical (few distinct values) declared text
    ({"type": "text"}): 1200 reference rows of four phrases against 1100 of five, so the domain
    classifier sees many identical rows (tied scores); plus the same column left categorical."""
    r = _rng("text_forced_type")
    a = ["late driver", "smooth ride to JFK", "rude driver, very late", "clean taxi"]
    b = a + ["snow storm delay on the bridge"]
    ref = pd.DataFrame({"phrase": pd.Series(r.choice(a, 1200), dtype="str")})
    cur = pd.DataFrame({"phrase": pd.Series(r.choice(b, 1100), dtype="str")})
    ref["phrase_cat"], cur["phrase_cat"] = ref["phrase"], cur["phrase"]
    ref, cur = ref.sort_values("phrase", kind="stable"), cur.sort_values("phrase", kind="stable")
    cfg = _force(_auto_config(ref), {"phrase": {"type": "text"}})
    return ref.reset_index(drop=True), cur.reset_index(drop=True), cfg


SYNTHETIC = {
    "ks_exact_equal_n": case_ks_exact_equal_n,
    "ks_exact_small_ref": case_ks_exact_small_ref,
    "ks_asymp_large_cur": case_ks_asymp_large_cur,
    "few_unique_small_ref": case_few_unique_small_ref,
    "few_unique_large_ref": case_few_unique_large_ref,
    "binary": case_binary,
    "nulls": case_nulls,
    "infinity": case_infinity,
    "infinity_without_nan": case_infinity_without_nan,
    "new_category_small_ref": case_new_category_small_ref,
    "new_category_large_ref": case_new_category_large_ref,
    "constant_small_ref": case_constant_small_ref,
    "constant_large_ref": case_constant_large_ref,
    "text_categorical": case_text_categorical,
    "type_inference": case_type_inference,
    "forced_tests": case_forced_tests,
    "forced_sturges_pow2": case_forced_sturges_pow2,
    "drift_share_boundary": case_drift_share_boundary,
    "drift_share_075": case_drift_share_075,
    "regression_edge": case_regression_edge,
    "empty_column": case_empty_column,
    "catalogue_num_real": case_catalogue_num_real,
    "catalogue_cat_equal_real": case_catalogue_cat_equal_real,
    "catalogue_mmd_small": case_catalogue_mmd_small,
    "catalogue_tiny_real": case_catalogue_tiny_real,
    "text_notes_real": case_text_notes_real,
    "text_notes_small_real": case_text_notes_small_real,
    "text_forced_type": case_text_forced_type,
}


def all_cases(predictor: Callable) -> dict[str, Callable]:
    cases: dict[str, Callable] = {}
    for a, b in REAL_PAIRS:
        name = f"real_{a.replace('-', '_')}_vs_{b.replace('-', '_')}"
        cases[name] = lambda a=a, b=b: build_real(a, b, predictor)
    cases["real_2023_01_vs_2023_02_overrides"] = lambda: build_real_overrides(predictor)
    for a, b in (("2023-01", "2023-04"), ("2023-02", "2023-03")):
        name = f"native_{a.replace('-', '_')}_vs_{b.replace('-', '_')}"
        cases[name] = lambda a=a, b=b: build_native(a, b, predictor)
    cases["native_2023_01_vs_2023_04_integer"] = lambda: build_native(
        "2023-01", "2023-04", predictor, nullable="integer"
    )
    window = "native_window_2023_01_09_vs_2023_04_10"
    cases[window] = lambda: build_native("2023-01", "2023-04", predictor, NATIVE_WINDOWS)
    cases[window + "_integer"] = lambda: build_native(
        "2023-01", "2023-04", predictor, NATIVE_WINDOWS, nullable="integer"
    )
    for name, fn in SYNTHETIC.items():
        cases[name] = fn
    return cases


def _doc(fn) -> str:
    return " ".join((fn.__doc__ or "").split())


def write_case(out: Path, name: str, ref: pd.DataFrame, cur: pd.DataFrame, cfg: dict) -> dict:
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    ref.to_parquet(d / "reference.parquet", index=False)
    cur.to_parquet(d / "current.parquet", index=False)
    # what the SQL side must load: re-read, so the dtypes are what any reader of the files sees
    ref_r = pd.read_parquet(d / "reference.parquet")
    cur_r = pd.read_parquet(d / "current.parquet")
    tables = {"reference": f"td_mon_{name}_ref", "current": f"td_mon_{name}_cur"}
    schema = {}
    sql = [f"-- {name}: generated by tests/monitoring/make_datasets.py", "\\set ON_ERROR_STOP on"]
    for role, df in (("reference", ref_r), ("current", cur_r)):
        # natively typed cases: the parquet file's own types (an int64 column with NULLs is
        # float64 in pandas and bigint in SQL; its values are written as integers)
        types = (cfg.get("pg_types") or {}).get(role, {})
        schema[role] = {
            "table": tables[role],
            "rows": len(df),
            "columns": {
                c: {
                    "pandas_dtype": str(df[c].dtype),
                    "pg_type": types.get(c) or pg_type(df[c].dtype),
                }
                for c in df.columns
            },
        }
        rows = df.copy()
        for c, t in types.items():
            if t in ("bigint", "integer", "smallint") and rows[c].dtype.kind == "f":
                rows[c] = rows[c].astype("Int64")  # exact: refuses a fractional value
        tsv = d / f"{role}.tsv"
        with open(tsv, "w", encoding="utf-8", newline="") as f:
            for line in copy_lines(rows):
                f.write(line)
        cols = ", ".join(quote_ident(c) for c in df.columns)
        sql.append(f"DROP TABLE IF EXISTS {quote_ident(tables[role])};")
        sql.append(create_table_sql(tables[role], df, types) + ";")
        sql.append(f"\\copy {quote_ident(tables[role])} ({cols}) FROM '{tsv.resolve()}'")
    (d / "schema.json").write_text(json.dumps(schema, indent=1) + "\n")
    (d / "load.sql").write_text("\n".join(sql) + "\n")
    (d / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
    return {
        "dir": str(d.resolve()),
        "reference": str((d / "reference.parquet").resolve()),
        "current": str((d / "current.parquet").resolve()),
        "config": str((d / "config.json").resolve()),
        "tables": tables,
        "rows": {"reference": len(ref_r), "current": len(cur_r)},
        "expect_error": bool(cfg.get("expect_error", False)),
    }


def _load_predictor(spec: str | None) -> Callable:
    if not spec:
        return synthetic_prediction
    mod, _, func = spec.partition(":")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return getattr(importlib.import_module(mod), func)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out", default=os.environ.get("TD_MONITORING_DATA", "/tmp/td_monitoring/datasets")
    )
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--predictor", help="MODULE:FUNC, called as FUNC(raw_month_df, 'YYYY-MM')")
    ap.add_argument("--list", action="store_true", help="list the cases with their description")
    args = ap.parse_args(argv)
    predictor = _load_predictor(args.predictor)
    cases = all_cases(predictor)
    if args.list:
        for name in cases:
            doc_fn = SYNTHETIC.get(name) or (
                build_real_overrides
                if name.endswith("_overrides")
                else build_native
                if name.startswith("native_")
                else build_real
            )
            print(f"{name}: {_doc(doc_fn)}")
        return 0
    names = list(cases) if not args.only else [s.strip() for s in args.only.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() and args.only else {}
    for name in names:
        if name not in cases:
            raise SystemExit(f"unknown case {name!r}; --list shows them")
        ref, cur, cfg = cases[name]()
        fn = SYNTHETIC.get(name)
        if fn is not None:
            cfg.setdefault("description", _doc(fn))
        manifest[name] = write_case(out, name, ref, cur, cfg)
        print(f"{name}: {len(ref)} vs {len(cur)} rows, {len(ref.columns)} columns")
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
