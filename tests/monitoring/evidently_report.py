"""Run Evidently 0.7.23 on one reference/current pair and write its numbers in our SQL shape.

    /opt/td-evidently-venv/bin/python tests/monitoring/evidently_report.py \\
        --reference REF.parquet --current CUR.parquet --config CONFIG.json --out OUT.json
    /opt/td-evidently-venv/bin/python tests/monitoring/evidently_report.py --batch JOBS.json
        (JOBS.json: [{"reference", "current", "config", "out"}, ...]; one import for all pairs)

Needs the Evidently venv (evidently==0.7.23 with pandas < 3: 0.7.23 does not import under
pandas 3).  CONFIG.json:

    {"columns": {"<name>": {"type": "num"|"cat"|"text"|null, "stattest": "<name>"|null,
                            "threshold": float|null}},
     "prediction": "<name>"|null, "target": "<name>"|null, "drift_share": 0.5}

What runs (see EVIDENTLY_NOTES.md for why):
  * both frames are cut to the configured columns (plus prediction/target);
  * drift: ``Report([DataDriftPreset(drift_share, per_column_method, per_column_threshold)],
    include_tests=True)`` on ``Dataset.from_pandas(frame, DataDefinition(...))``.  Columns with type
    null keep Evidently's own inference (``infer_column_type`` on the CURRENT frame); if any type is
    forced, the definition lists every column explicitly, inferred ones with Evidently's function;
  * regression (only if prediction and target are given): a separate
    ``Report([RegressionPreset()])`` on fresh Datasets (a shared Report would let the regression
    metric's in-place row dropping leak into the drift numbers).

Output (OUT.json): the SQL function's shape, plus diagnostics and timings:

    {"columns": {name: {"column_type", "stattest", "score", "threshold", "drifted"}},
     "number_of_columns", "number_of_drifted_columns", "share_of_drifted_columns", "dataset_drift",
     "regression": {"current": {...}, "reference": {...}},        # only with prediction+target
     "evidently": {...diagnostics...}, "seconds": {...}, "peak_rss_mb": float}

If Evidently raises (e.g. an all-NULL column), OUT.json is {"error": {"type", "message"}, ...}
and the exit code is 3 (2: Evidently missing, wrong version or bad arguments).

seconds: import (evidently and its deps), load (two parquet reads), drift_report_run and
regression_report_run (Report.run alone), report_run (their sum), total (single run: from this
module's first line to the JSON, i.e. everything but the interpreter's own start; batch: import +
this pair).  peak_rss_mb: ru_maxrss of the process (in a batch, the high-water mark so far).
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

EVIDENTLY_VERSION = "0.7.23"

# our regression keys <- (Evidently metric class, field of its value)
REGRESSION_KEYS = {
    "mean_error": ("MeanError", "mean"),
    "error_std": ("MeanError", "std"),
    "mae": ("MAE", "mean"),
    "abs_error_std": ("MAE", "std"),
    "abs_error_max": ("AbsMaxError", None),
    "mape": ("MAPE", "mean"),
    "abs_perc_error_std": ("MAPE", "std"),
    "rmse": ("RMSE", None),
    "r2": ("R2Score", None),
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _num(x):
    """A JSON-able float (NaN/inf kept as Python floats; json writes NaN/Infinity)."""
    if x is None:
        return None
    return float(x)


def _load_config(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    cols = cfg.get("columns") or {}
    for name, spec in cols.items():
        spec = spec or {}
        if spec.get("type") not in (None, "num", "cat", "text"):
            raise SystemExit(f"column {name}: type must be num, cat, text or null")
        cols[name] = {
            "type": spec.get("type"),
            "stattest": spec.get("stattest"),
            "threshold": spec.get("threshold"),
        }
    cfg["columns"] = cols
    cfg.setdefault("drift_share", 0.5)
    return cfg


def _stattest_short_names():
    """display name -> registered short name, from Evidently's own registry."""
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests

    out = {}
    for name, by_type in _registered_stat_tests.items():
        for st in by_type.values():
            out[st.display_name] = name
            out[name] = name
    return out


def _definition(frame, cfg, force_explicit: bool):
    from evidently import DataDefinition, Regression
    from evidently.core.datasets import infer_column_type
    from evidently.legacy.core import ColumnType

    regression = None
    if cfg.get("prediction") and cfg.get("target"):
        regression = [Regression(target=cfg["target"], prediction=cfg["prediction"])]
    if not force_explicit:
        return DataDefinition(regression=regression)
    lists = {t: [] for t in ("num", "cat", "text", "datetime", "unknown", "list")}
    tmap = {
        ColumnType.Numerical: "num",
        ColumnType.Categorical: "cat",
        ColumnType.Text: "text",
        ColumnType.Datetime: "datetime",
        ColumnType.List: "list",
    }
    for col in frame.columns:
        forced = cfg["columns"].get(col, {}).get("type")
        t = forced or tmap.get(infer_column_type(frame[col]), "unknown")
        lists[t].append(col)
    return DataDefinition(
        numerical_columns=lists["num"],
        categorical_columns=lists["cat"],
        text_columns=lists["text"],
        datetime_columns=lists["datetime"],
        unknown_columns=lists["unknown"],
        list_columns=lists["list"],
        regression=regression,
    )


def _seed_mmd_permutations():
    """Evidently's empirical_mmd draws its 100 permutations from numpy's global generator without
    seeding it, so its p-value changes from run to run.  Cases with "seed_mmd" seed it with 0
    before every MMD computation (np.random.seed(0) then Evidently's own mmd_pval), the draws
    the SQL side reproduces; nothing else of Evidently's computation changes."""
    import numpy as np
    from evidently.legacy.calculations.stattests import mmd_stattest

    original = mmd_stattest.mmd_pval
    if getattr(original, "_td_seeded", False):
        return

    def seeded(x, y):
        np.random.seed(0)
        return original(x, y)

    seeded._td_seeded = True
    mmd_stattest.mmd_pval = seeded


def run_drift(ref, cur, cfg) -> dict:
    from evidently import Dataset, Report
    from evidently.legacy.metrics.data_drift.data_drift_table import DataDriftTableResults
    from evidently.legacy.metrics.data_drift.dataset_drift_metric import DatasetDriftMetricResults
    from evidently.presets import DataDriftPreset

    if cfg.get("seed_mmd"):
        _seed_mmd_permutations()
    force = any(spec["type"] for spec in cfg["columns"].values())
    per_method = {c: s["stattest"] for c, s in cfg["columns"].items() if s["stattest"]}
    per_thr = {
        c: float(s["threshold"]) for c, s in cfg["columns"].items() if s["threshold"] is not None
    }
    preset = DataDriftPreset(
        drift_share=float(cfg["drift_share"]),
        per_column_method=per_method or None,
        per_column_threshold=per_thr or None,
    )
    cur_ds = Dataset.from_pandas(cur, data_definition=_definition(cur, cfg, force))
    ref_ds = Dataset.from_pandas(ref, data_definition=_definition(cur, cfg, force))
    t = time.perf_counter()
    snap = Report([preset], include_tests=True).run(cur_ds, ref_ds)
    seconds = time.perf_counter() - t

    short = _stattest_short_names()
    definition = snap.context.data_definition
    d = snap.dict()
    status = {}
    for test in d["tests"]:
        params = (test.get("metric_config") or {}).get("params") or {}
        if params.get("type") == "evidently:metric_v2:ValueDrift":
            status[params["column"]] = getattr(test["status"], "value", test["status"])
    columns, count = {}, None
    for m in d["metrics"]:
        cfgm = m["config"]
        if cfgm["type"] == "evidently:metric_v2:DriftedColumnsCount":
            count = m["value"]
        elif cfgm["type"] == "evidently:metric_v2:ValueDrift":
            col = cfgm["column"]
            columns[col] = {
                "column_type": definition.get_column_type(col).value,
                "stattest": short.get(cfgm["method"], cfgm["method"]),
                "score": _num(m["value"]),
                "threshold": _num(cfgm["threshold"]),
                "drifted": status.get(col) == "FAIL",
            }
    legacy_ds, legacy_table = None, None
    for res, _widgets in snap.context._legacy_metrics.values():
        if isinstance(res, DatasetDriftMetricResults):
            legacy_ds = res
        elif isinstance(res, DataDriftTableResults):
            legacy_table = res
    n_vd = sum(1 for c in columns.values() if c["drifted"])
    share_vd = n_vd / len(columns) if columns else float("nan")
    out = {
        "columns": columns,
        # the dataset-level numbers exactly as Evidently reports them (DriftedColumnsCount, backed
        # by the legacy DatasetDriftMetric; dataset_drift = share >= drift_share)
        "number_of_columns": int(legacy_ds.number_of_columns),
        "number_of_drifted_columns": int(round(count["count"])),
        "share_of_drifted_columns": _num(count["share"]),
        "dataset_drift": bool(legacy_ds.dataset_drift),
    }
    diag = {
        "drift_share": float(cfg["drift_share"]),
        "column_types_from": "current",
        "ignored_columns": sorted(set(cur.columns) - set(columns)),
        "ignored_column_types": {
            c: definition.get_column_type(c).value for c in sorted(set(cur.columns) - set(columns))
        },
        # the same verdict recomputed from the per-column ValueDrift results
        "from_value_drift": {
            "number_of_drifted_columns": n_vd,
            "share_of_drifted_columns": share_vd,
            "dataset_drift": bool(share_vd >= float(cfg["drift_share"])),
        },
        "consistent": (
            n_vd == out["number_of_drifted_columns"] and len(columns) == out["number_of_columns"]
        ),
        "dataset_drift_test": None,
    }
    for test in d["tests"]:
        params = (test.get("metric_config") or {}).get("params") or {}
        if params.get("type") == "evidently:metric_v2:DriftedColumnsCount":
            diag["dataset_drift_test"] = getattr(test["status"], "value", test["status"])
    if legacy_table is not None:
        diag["legacy_columns"] = {
            c: {
                "stattest": short.get(r.stattest_name, r.stattest_name),
                "score": _num(r.drift_score),
                "drifted": bool(r.drift_detected),
            }
            for c, r in legacy_table.drift_by_columns.items()
        }
    return {"result": out, "diag": diag, "seconds": seconds}


def run_regression(ref, cur, cfg) -> dict:
    from evidently import Dataset, Report
    from evidently.presets import RegressionPreset

    dd = _definition(cur, cfg, any(spec["type"] for spec in cfg["columns"].values()))
    cur_ds = Dataset.from_pandas(cur, data_definition=dd)
    ref_ds = Dataset.from_pandas(ref, data_definition=dd)
    t = time.perf_counter()
    snap = Report([RegressionPreset()]).run(cur_ds, ref_ds)
    seconds = time.perf_counter() - t
    by_class = {}
    for mid in snap._top_level_metrics:
        res = snap.metric_results[mid]
        name = res.to_dict()["config"]["type"].rsplit(":", 1)[-1]
        try:
            ref_res = snap.context.get_reference_metric_result(mid)
        except Exception:  # no reference result
            ref_res = None
        by_class[name] = (
            res.to_dict()["value"],
            None if ref_res is None else ref_res.to_dict()["value"],
        )
    out = {"current": {}, "reference": {}}
    for key, (cls, field) in REGRESSION_KEYS.items():
        if cls not in by_class:
            continue
        for window, value in zip(("current", "reference"), by_class[cls], strict=True):
            if value is None:
                continue
            v = value[field] if field else value
            out[window][key] = _num(v)
    return {"result": out, "seconds": seconds}


def run_one(
    reference: str,
    current: str,
    config: str,
    out_path: str,
    no_regression: bool,
    import_seconds: float,
    rss_after_import: float,
    batch: bool,
) -> int:
    """One pair: load, drift report, regression report, write OUT.  Returns 0, or 3 if Evidently raised."""
    import evidently
    import pandas as pd

    t_pair = time.perf_counter()
    seconds = {"import": import_seconds}
    cfg = _load_config(config)
    t = time.perf_counter()
    ref = pd.read_parquet(reference)
    cur = pd.read_parquet(current)
    keep = list(cfg["columns"])
    for role in ("target", "prediction"):
        if cfg.get(role) and cfg[role] not in keep:
            keep.append(cfg[role])
    ref, cur = ref[keep], cur[keep]
    seconds["load"] = time.perf_counter() - t

    out: dict = {}
    code = 0
    try:
        drift = run_drift(ref, cur, cfg)
        out.update(drift["result"])
        seconds["drift_report_run"] = drift["seconds"]
        evid = drift["diag"]
        if cfg.get("prediction") and cfg.get("target") and not no_regression:
            reg = run_regression(ref, cur, cfg)
            out["regression"] = reg["result"]
            seconds["regression_report_run"] = reg["seconds"]
    except Exception as e:  # Evidently refused the whole report
        out = {
            "error": {
                "type": type(e).__name__,
                "message": str(e),
                "traceback": traceback.format_exc().splitlines()[-6:],
            }
        }
        evid = {}
        code = 3
    seconds["report_run"] = seconds.get("drift_report_run", 0.0) + seconds.get(
        "regression_report_run", 0.0
    )
    # single run: interpreter-internal start to JSON (Python's own start-up is not included);
    # batch: import + this pair's load and reports
    seconds["total"] = (
        (import_seconds + time.perf_counter() - t_pair) if batch else time.perf_counter() - _T0
    )
    evid.update(
        {
            "version": evidently.__version__,
            "pandas": pd.__version__,
            "rows": {"reference": len(ref), "current": len(cur)},
        }
    )
    out["evidently"] = evid
    out["seconds"] = seconds
    out["peak_rss_mb"] = _rss_mb()
    out["rss_after_import_mb"] = rss_after_import
    if batch:  # ru_maxrss is per process: in a batch it is the high-water mark so far
        out["rss_is_process_cumulative"] = True
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write("\n")
    return code


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description="Evidently 0.7.23 drift + regression in our JSON shape"
    )
    ap.add_argument("--reference")
    ap.add_argument("--current")
    ap.add_argument("--config")
    ap.add_argument("--out")
    ap.add_argument(
        "--batch",
        help="JSON list of {reference, current, config, out}: many pairs, "
        "one import (timings per pair; peak_rss_mb is the process's high-water mark)",
    )
    ap.add_argument("--no-regression", action="store_true", help="skip the regression report")
    ap.add_argument(
        "--any-version", action="store_true", help=f"allow evidently != {EVIDENTLY_VERSION}"
    )
    args = ap.parse_args(argv)
    if not args.batch and not all((args.reference, args.current, args.config, args.out)):
        ap.error("--reference, --current, --config and --out are required (or --batch)")

    warnings.filterwarnings("ignore")
    t = time.perf_counter()
    import numpy as np  # noqa: F401
    import pandas as pd

    try:
        import evidently
        from evidently import Report  # noqa: F401  (import cost belongs to 'import')
        from evidently.presets import DataDriftPreset, RegressionPreset  # noqa: F401
    except ImportError as e:
        print(
            f"evidently_report.py: cannot import evidently ({e}); evidently 0.7.23 needs "
            f"pandas < 3 (this is pandas {pd.__version__})",
            file=sys.stderr,
        )
        return 2
    if evidently.__version__ != EVIDENTLY_VERSION and not args.any_version:
        print(
            f"evidently_report.py: evidently {evidently.__version__} is not {EVIDENTLY_VERSION} "
            f"(--any-version to run anyway)",
            file=sys.stderr,
        )
        return 2
    import_seconds = time.perf_counter() - t
    rss_after_import = _rss_mb()

    if not args.batch:
        return run_one(
            args.reference,
            args.current,
            args.config,
            args.out,
            args.no_regression,
            import_seconds,
            rss_after_import,
            batch=False,
        )
    with open(args.batch, encoding="utf-8") as f:
        jobs = json.load(f)
    worst = 0
    for job in jobs:
        code = run_one(
            job["reference"],
            job["current"],
            job["config"],
            job["out"],
            args.no_regression,
            import_seconds,
            rss_after_import,
            batch=True,
        )
        print(f"{job['out']}: {'ok' if code == 0 else 'evidently raised'}", flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
