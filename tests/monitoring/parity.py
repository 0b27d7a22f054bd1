"""Parity: taxi_duration.drift_report() in PostgreSQL against Evidently 0.7.23, case by case.

    python3 tests/monitoring/parity.py --dsn DSN [--data DIR] [--evidently DIR] [--only a,b]

For every dataset pair built by make_datasets.py (real TLC months — green 2023-01 against 2023-02
and 2023-03, 2021-01 against 2021-02, and 2023-01/02 with per-column overrides; natively typed
months and windows (the parquet files' own column types in SQL, nullable integers included), by
default and with nullable_integers = "integer" — and the synthetic
edge cases: small references (exact and asymptotic KS), few unique values, binary columns, NULLs,
±Infinity, a category only in current, constant columns, text categories, forced tests, the drift
share boundary), it

1. has Evidently's report computed by run_evidently_all.py (in the Evidently virtualenv; cached),
2. loads both windows into PostgreSQL with the column types pandas had (load.sql),
3. runs drift_report() with the same columns, prediction, target and overrides, in a parallel plan,
4. compares with compare.py: same columns, same test chosen, |score - Evidently's| <= 1e-6, same
   drifted flags, the same dataset verdict and counts, regression metrics within 1e-9 relative.

For the natively typed cases it also reads both tables back with pd.read_sql, as a user would,
and checks that those frames are what Evidently ran on (dtype family and values per column).

Where Evidently aborts the whole report (a column that is empty after cleaning), the SQL report must
name that column in skipped_columns with an error instead — our documented choice.
The real pairs' prediction column is the default model's prediction (python/taxi_duration_ml/default_bundle.json,
XGBoost through the Python reader, no pickup time), so regression quality is the model's.
Prints one line per case and ends with "N passed, N failed"; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from compare import compare, format_table  # noqa: E402

DATA = Path(os.environ.get("TD_MONITORING_DATA", "/tmp/td_monitoring/datasets"))
OUT = Path(os.environ.get("TD_MONITORING_OUT", "/tmp/td_monitoring/evidently"))


def model_prediction(raw, month: str):
    """The default model's prediction of every trip of a raw TLC month (no pickup time)."""
    from taxi_duration_ml.bundle import load_bundle

    bundle = load_bundle(str(REPO / "python" / "taxi_duration_ml" / "default_bundle.json"))
    trips = raw[["PULocationID", "DOLocationID", "trip_distance"]].copy()
    trips["trip_distance"] = trips["trip_distance"].astype("float64")
    return bundle.predict(trips).astype("float64")


def report_options(config: dict) -> dict:
    """drift_report() options equivalent to the Evidently run's config.

    ``sql_options`` are report options of ours with no Evidently counterpart (nullable_integers),
    and ``sql_omit_type`` the columns whose Evidently type override is what those options give,
    so it is not passed to SQL.
    """
    omit = set(config.get("sql_omit_type", []))
    per_column = {}
    for name, col in config["columns"].items():
        keys = ("stattest", "threshold") if name in omit else ("type", "stattest", "threshold")
        opts = {k: col[k] for k in keys if col.get(k) is not None}
        if opts:
            per_column[name] = opts
    options = {"drift_share": config.get("drift_share", 0.5)}
    options.update(config.get("sql_options", {}))
    if per_column:
        options["columns"] = per_column
    return options


def _dtype_family(dtype) -> str:
    """The dtype family Evidently's type inference looks at (int32 and int64 are alike)."""
    kind = getattr(dtype, "kind", "O")
    return {"i": "int", "u": "uint", "f": "float", "b": "bool"}.get(kind, "object/str")


def check_read_sql(conn, case: dict) -> list[str]:
    """The frames a user gets with pd.read_sql from the natively typed tables must be what
    Evidently ran on (the parquet frames): same dtype family per column, same values (NULLs
    counted, the rest compared sorted; Evidently's statistics ignore row order)."""
    import warnings

    import numpy as np
    import pandas as pd

    bad = []
    for role in ("reference", "current"):
        parquet = pd.read_parquet(case[role])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a DBAPI connection, not SQLAlchemy
            frame = pd.read_sql(f'SELECT * FROM "{case["tables"][role]}"', conn)
        for c in parquet.columns:
            a, b = parquet[c], frame[c]
            if _dtype_family(a.dtype) != _dtype_family(b.dtype):
                bad.append(f"read_sql {role}.{c}: dtype {b.dtype}, parquet frame {a.dtype}")
                continue
            if a.isna().sum() != b.isna().sum():
                bad.append(f"read_sql {role}.{c}: {b.isna().sum()} NULLs, parquet {a.isna().sum()}")
                continue
            va, vb = np.sort(a.dropna().to_numpy()), np.sort(b.dropna().to_numpy())
            if len(va) != len(vb) or not (va == vb).all():
                bad.append(f"read_sql {role}.{c}: values differ from the parquet frame")
    return bad


def sql_report(conn, case: dict, config: dict) -> dict:
    columns = list(config["columns"])
    row = conn.execute(
        "SELECT taxi_duration.drift_report(%s, %s, %s, %s, %s, %s::jsonb)",
        (
            case["tables"]["reference"],
            case["tables"]["current"],
            columns,
            config.get("prediction"),
            config.get("target"),
            json.dumps(report_options(config)),
        ),
    ).fetchone()
    return row[0]


def load_case(dsn: str, case: dict) -> None:
    subprocess.run(
        ["psql", "-X", "-q", dsn, "-f", str(Path(case["dir"]) / "load.sql")],
        check=True,
        stdout=subprocess.DEVNULL,
        env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"),
    )


def check_skipped(ours: dict, evidently: dict) -> list[str]:
    """Evidently aborted on an empty column: ours must skip exactly such columns, with an error."""
    message = str(evidently["error"].get("message", ""))
    skipped = ours.get("skipped_columns", [])
    bad = []
    if not skipped:
        bad.append(f"evidently aborted ({message}); ours skipped no column")
    for name in skipped:
        if f"'{name}'" not in message and name not in message:
            bad.append(f"ours skipped {name}, which evidently did not complain about ({message})")
        if "error" not in ours["columns"][name]:
            bad.append(f"skipped column {name} carries no error")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--evidently", default=str(OUT))
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument(
        "--verbose", action="store_true", help="print the comparison table of every case"
    )
    ap.add_argument("--save", help="directory to write each case's SQL report to (<case>.json)")
    args = ap.parse_args(argv)

    data, out = Path(args.data), Path(args.evidently)
    # The datasets are cached between runs (they take a while to build); a cache written by
    # another version of make_datasets.py would silently run its own, older set of cases.
    generator = hashlib.sha256((HERE / "make_datasets.py").read_bytes()).hexdigest()
    stamp = data / "generator.sha256"
    if (data / "manifest.json").exists() and (
        not stamp.exists() or stamp.read_text().strip() != generator
    ):
        print(f"datasets in {data} were built by another make_datasets.py: rebuilding")
        (data / "manifest.json").unlink()
    if not (data / "manifest.json").exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_datasets.py"),
                "--out",
                str(data),
                "--predictor",
                "parity:model_prediction",
            ],
            check=True,
            cwd=HERE,
            env=dict(
                os.environ,
                PYTHONPATH=os.pathsep.join(
                    filter(
                        None,
                        [str(HERE), str(REPO), str(REPO / "python"), os.environ.get("PYTHONPATH")],
                    )
                ),
            ),
        )
        stamp.write_text(generator + "\n")
    cmd = [
        sys.executable,
        str(HERE / "run_evidently_all.py"),
        "--data",
        str(data),
        "--out",
        str(out),
        "-j",
        "2",
    ]
    if args.only:
        cmd += ["--only", args.only]
    subprocess.run(cmd, check=True)

    manifest = json.loads((data / "manifest.json").read_text())
    names = args.only.split(",") if args.only else list(manifest)
    passed = failed = 0
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        # A parallel plan wherever the planner can use one, as in production.
        for setting in (
            "parallel_setup_cost = 0",
            "parallel_tuple_cost = 0",
            "min_parallel_table_scan_size = 0",
            "max_parallel_workers_per_gather = 2",
        ):
            conn.execute("SET " + setting)
        for name in names:
            case = manifest[name]
            config = json.loads(Path(case["config"]).read_text())
            evidently = json.loads((out / f"{name}.json").read_text())
            load_case(args.dsn, case)
            try:
                ours = sql_report(conn, case, config)
            except psycopg.Error as e:
                ours = {"error": f"{e.sqlstate}: {e.diag.message_primary}"}
            notes: list[str] = []
            if "error" in evidently and "error" not in ours:
                bad = check_skipped(ours, evidently)
            else:
                # A column Evidently types "unknown" (an all-NULL text column in current) is not
                # a drift column there; ours lists it in skipped_columns with its error.
                for column in ours.get("skipped_columns", []):
                    if column not in evidently.get("columns", {}):
                        notes.append(
                            f"{column}: skipped by ours ({ours['columns'][column].get('error')}),"
                            " not a drift column in Evidently"
                        )
                        ours["columns"].pop(column, None)
                if args.save:
                    Path(args.save).mkdir(parents=True, exist_ok=True)
                    (Path(args.save) / f"{name}.json").write_text(json.dumps(ours, indent=1))
                bad = compare(ours, evidently, notes)
            if config.get("read_sql_check"):
                bad += check_read_sql(conn, case)
            if args.verbose or bad:
                if "columns" in ours and "columns" in evidently:
                    print(format_table(ours, evidently))
            status = "ok" if not bad else "FAIL"
            ncols = len(ours.get("columns", {}))
            print(
                f"{status:4} {name}: {ncols} columns"
                + (
                    f", dataset drift {ours.get('dataset_drift')}"
                    if "dataset_drift" in ours
                    else ""
                )
                + "".join(f"\n       note: {n}" for n in notes)
                + "".join(f"\n       {b}" for b in bad)
            )
            passed += not bad
            failed += bool(bad)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
