"""Command line of the training pipeline and of the model lifecycle (docs/model-lifecycle.md).

    taxi-duration train --train 2021-01 --valid 2021-02 --out python/taxi_duration_ml/default_bundle.json \\
        [--estimator xgboost|linear] [--version V] [--run-id R] [--max-rounds N] \\
        [--learning-rate LR] [--max-depth D]          # offline export: no MLflow, no Prefect
    taxi-duration train --train 2021-01 --valid 2021-02 [--trials N] [--max-rounds N] \\
        [--no-register] [--no-promote] [--json]        # the Prefect flow: MLflow, registry, S3
    taxi-duration versions [--json]
    taxi-duration promote --version N
    taxi-duration rollback

Every command takes ``--env dev|prod`` (or ``TD_ENV``): load ``.env.<env>`` without overriding
variables already set (:mod:`taxi_duration_ml.config`).
    taxi-duration predict --bundle python/taxi_duration_ml/default_bundle.json --month 2021-02 --out preds.csv \\
        [--no-time] [--limit N]
    taxi-duration check --bundle python/taxi_duration_ml/default_bundle.json
    taxi-duration monitor --dsn DSN [--monitor NAME ...] [--until TS] [--html OUT.html] [--json]
    taxi-duration report --dsn DSN --monitor NAME --out OUT.html [--window-start TS] \\
        [--since TS] [--until TS]                      # drift monitors (taxi_duration_ml.monitor_flow)

Data comes from $TAXI_DATA_DIR (or is downloaded into the cache, see taxi_duration_ml.data). ``predict``
writes one CSV row per filtered trip: the inputs, the true duration, and the bundle's prediction
(printed with 9 significant digits, which round-trips a float32 exactly).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def _cmd_train(a) -> int:
    if a.out is None:
        return _cmd_train_flow(a)
    from . import bundle, data, train

    tr = data.load_month(a.train)
    va = data.load_month(a.valid)
    params = {}
    if a.learning_rate is not None:
        params["learning_rate"] = a.learning_rate
    if a.max_depth is not None:
        params["max_depth"] = a.max_depth
    res = train.fit(
        tr,
        va,
        estimator=a.estimator,
        params=params,
        max_rounds=a.max_rounds,
        early_stopping_rounds=a.early_stopping_rounds,
        train_month=a.train,
        valid_month=a.valid,
        verbose=a.verbose,
    )
    info = bundle.export(res, a.out, version=a.version, run_id=a.run_id)
    m = res.training["metrics"]
    print(f"estimator               {res.estimator_type}")
    print(
        f"train rows              {len(tr)} (+{res.training['rows']['train_augmented_without_time']} without time)"
    )
    print(f"valid rows              {len(va)}")
    if res.estimator_type == "xgboost":
        print(
            f"best_iteration          {res.training['best_iteration']} (trees exported: {res.training['n_trees']}, "
            f"max_depth {res.training['params']['max_depth']})"
        )
    print(f"valid RMSE with time    {m['valid_rmse_with_time']:.4f}")
    print(f"valid RMSE without time {m['valid_rmse_without_time']:.4f}")
    print(f"training time           {res.seconds:.1f} s")
    print(f"bundle                  {info['path']} ({info['bytes']} bytes)")
    return 0


def _train_params(a) -> dict:
    params = {}
    if a.learning_rate is not None:
        params["learning_rate"] = a.learning_rate
    if a.max_depth is not None:
        params["max_depth"] = a.max_depth
    return params


def _flow_server(a) -> int:
    """0 if a flow may run: PREFECT_API_URL names a server (environment or Prefect profile), or
    --local allows a temporary local one; else one error line and 2."""
    if a.local:
        return 0
    from .deployments import prefect_api_url

    if prefect_api_url():
        return 0
    print(
        "error: no Prefect server: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api) "
        "or pass --local to run with a temporary local one",
        file=sys.stderr,
    )
    return 2


def _cmd_train_flow(a) -> int:
    if rc := _flow_server(a):
        return rc
    from . import flow

    if a.version is not None or a.run_id is not None:
        raise SystemExit(
            "--version/--run-id only apply to the offline export (--out FILE); "
            "the flow takes both from the MLflow registry"
        )
    r = flow.training_flow(
        a.train,
        a.valid,
        estimator=a.estimator,
        params=_train_params(a) or None,
        trials=a.trials,
        max_rounds=a.max_rounds,
        early_stopping_rounds=a.early_stopping_rounds,
        register_model=not a.no_register,
        auto_promote=not a.no_promote,
    )
    summary = {
        k: r.get(k)
        for k in (
            "tracking_uri",
            "run_id",
            "model_name",
            "version",
            "bundle_uri",
            "bundle_sha256",
            "metrics",
            "previous_production",
            "production_rmse",
            "promoted",
            "reason",
        )
    }
    if a.json:
        print(json.dumps(summary))
        return 0
    print(f"tracking URI            {summary['tracking_uri']}")
    print(f"MLflow run              {summary['run_id']}")
    for t in r["trials"]:
        print(
            f"trial {t['trial']}                 {t['params']} -> RMSE with time {t['valid_rmse_with_time']:.4f}"
            f" ({t['n_trees']} trees)"
        )
    print(f"valid RMSE with time    {summary['metrics']['valid_rmse_with_time']:.4f}")
    print(f"valid RMSE without time {summary['metrics']['valid_rmse_without_time']:.4f}")
    if summary["version"] is None:
        print(f"bundle                  {summary['bundle_uri']} (not registered)")
        return 0
    print(f"registered              {summary['model_name']} version {summary['version']}")
    print(f"bundle                  {summary['bundle_uri']} sha256 {summary['bundle_sha256']}")
    print(
        f"production              {'-> ' + summary['version'] if summary['promoted'] else 'unchanged'}"
        f" ({summary['reason']})"
    )
    return 0


def _registry():
    from . import registry as R

    return R, R.client(), R.model_name()


def _cmd_versions(a) -> int:
    R, c, name = _registry()
    try:
        rows = R.list_versions(c, name)
    except Exception as e:  # noqa: BLE001
        if "RESOURCE_DOES_NOT_EXIST" in str(e) or "not found" in str(e).lower():
            rows = []
        else:
            raise
    if a.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"no versions of {name} at {R.tracking_uri()}")
        return 0
    print(f"{'version':>7}  {'aliases':<12} {'valid':<8} {'rmse(time)':>10}  bundle_uri")
    for r in rows:
        rmse = "-" if r["valid_rmse_with_time"] is None else f"{r['valid_rmse_with_time']:.4f}"
        print(
            f"{r['version']:>7}  {','.join(r['aliases']) or '-':<12} {r['valid_month'] or '-':<8} "
            f"{rmse:>10}  {r['bundle_uri'] or '-'}"
        )
    return 0


def _cmd_promote(a) -> int:
    R, c, name = _registry()
    try:
        r = R.promote(c, name, a.version)
    except R.RegistryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{name}@{R.ALIAS}: {r['previous'] or '(none)'} -> {r['production']}")
    return 0


def _cmd_rollback(a) -> int:
    R, c, name = _registry()
    try:
        r = R.rollback(c, name)
    except R.RegistryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{name}@{R.ALIAS}: {r['previous']} -> {r['production']} (rolled back)")
    return 0


def _cmd_predict(a) -> int:
    import pandas as pd

    from . import bundle, data

    b = bundle.load_bundle(a.bundle)
    df = data.load_month(a.month)
    if a.limit:
        df = df.iloc[: a.limit]
    frame = pd.DataFrame(
        {
            "PULocationID": df["PULocationID"].to_numpy(),
            "DOLocationID": df["DOLocationID"].to_numpy(),
            "trip_distance": df["trip_distance"].to_numpy(),
        }
    )
    if not a.no_time:
        frame["pickup_datetime"] = df["lpep_pickup_datetime"].to_numpy()
    t0 = time.perf_counter()
    pred = b.predict(frame)
    dt = time.perf_counter() - t0
    out = frame.copy()
    if "pickup_datetime" in out:
        out["pickup_datetime"] = out["pickup_datetime"].dt.strftime("%Y-%m-%d %H:%M:%S")
    out["duration"] = df["duration"].to_numpy()
    out["prediction"] = pred
    rmse = float(np.sqrt(np.mean((out["duration"].to_numpy() - pred.astype(np.float64)) ** 2)))
    fmt = "%.9g" if pred.dtype == np.float32 else "%.17g"  # exact round trip
    out["prediction"] = [fmt % v for v in pred]
    out.to_csv(a.out, index=False)
    print(f"{len(out)} rows, RMSE {rmse:.4f}, predict {dt:.3f} s -> {a.out}", file=sys.stderr)
    return 0


def _cmd_check(a) -> int:
    from . import bundle

    b = bundle.load_bundle(a.bundle)
    print(
        json.dumps(
            {
                "model": b.model,
                "estimator": b.estimator_type,
                "iteration_range": b.iteration_range,
                "features": b.count,
                "inputs": [i["name"] for i in b.inputs],
            }
        )
    )
    return 0


def _cmd_monitor(a) -> int:
    if rc := _flow_server(a):
        return rc
    from . import monitor_flow

    r = monitor_flow.monitoring_flow(
        a.dsn, monitors=a.monitor or None, until=a.until, html_path=a.html
    )
    if a.json:
        print(json.dumps(r, default=str))
        return 1 if r["failed"] else 0
    print(f"until                   {r['until']}")
    if not r["results"]:
        print("no monitor to run (none enabled)")
    for m in r["results"]:
        state = (
            f"FAILED: {m['error']}"
            if m["error"]
            else f"{m['windows']} new window{'s' if m['windows'] != 1 else ''}"
        )
        print(f"monitor {m['monitor']:<16} {state}")
    for al in r["alerts"]:
        print(
            f"ALERT   {al['monitor']:<16} [{al['kind']}] window {al['window_start']}: {al['message']}"
        )
    if not r["alerts"]:
        print("no alert raised")
    for name, path in r["html"].items():
        print(f"page    {name:<16} {path}")
    return 1 if r["failed"] else 0


def _cmd_report(a) -> int:
    import datetime as dt

    import psycopg

    from . import monitor_report as MR

    with psycopg.connect(a.dsn, autocommit=True) as conn:
        # timestamps are read by the server, in its session time zone, as the monitors' windows are
        ws = None
        if a.window_start is not None:
            ws = conn.execute("SELECT %s::timestamptz", (a.window_start,)).fetchone()[0]
        try:
            data = MR.fetch(conn, a.monitor, since=a.since, until=a.until)
        except LookupError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    try:
        html = MR.render_html(**data, window_start=ws, generated_at=dt.datetime.now(dt.UTC))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    out = MR.write_html(a.out, html)
    print(
        f"{a.monitor}: {len(data['reports'])} windows, {len(data['alerts'])} alerts -> {out} "
        f"({len(html.encode())} bytes)"
    )
    return 0


def main(argv=None) -> int:
    from . import config, deployments, train as T

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--env",
        choices=config.ENVIRONMENTS,
        default=None,
        help="load .env.<env> (default $TD_ENV) without overriding set variables",
    )
    p = argparse.ArgumentParser(prog="taxi-duration", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser(
        "train",
        parents=[common],
        help="run the training flow (MLflow + registry + S3), or with --out a plain export",
    )
    t.add_argument("--train", required=True, help="training month YYYY-MM")
    t.add_argument("--valid", required=True, help="validation month YYYY-MM")
    t.add_argument(
        "--out",
        default=None,
        help="offline: write the bundle to this path (no MLflow, no Prefect, no registry)",
    )
    t.add_argument(
        "--trials",
        type=int,
        default=None,
        help="flow: parameter sets to try (default 3; 1 = the default parameters only)",
    )
    t.add_argument(
        "--no-register", action="store_true", help="flow: log the run only, register nothing"
    )
    t.add_argument(
        "--no-promote",
        action="store_true",
        help="flow: register and publish, never move the production alias",
    )
    t.add_argument("--json", action="store_true", help="flow: print a JSON summary")
    t.add_argument(
        "--local",
        action="store_true",
        help="flow: without PREFECT_API_URL, run with a temporary local Prefect server",
    )
    t.add_argument("--estimator", choices=["xgboost", "linear"], default="xgboost")
    t.add_argument("--version", default=None, help="model.version (default dev-<train month>)")
    t.add_argument("--run-id", default=None)
    t.add_argument("--max-rounds", type=int, default=T.DEFAULT_MAX_ROUNDS)
    t.add_argument("--early-stopping-rounds", type=int, default=T.DEFAULT_EARLY_STOPPING)
    t.add_argument("--learning-rate", type=float, default=None)
    t.add_argument("--max-depth", type=int, default=None)
    t.add_argument("-v", "--verbose", action="store_true")
    t.set_defaults(func=_cmd_train)
    v = sub.add_parser("versions", parents=[common], help="list registered versions")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_cmd_versions)
    pr = sub.add_parser("promote", parents=[common], help="set alias production to a version")
    pr.add_argument("--version", required=True)
    pr.set_defaults(func=_cmd_promote)
    rb = sub.add_parser(
        "rollback", parents=[common], help="move production to the previous production version"
    )
    rb.set_defaults(func=_cmd_rollback)
    q = sub.add_parser(
        "predict", parents=[common], help="predict a month with a bundle (reference reader)"
    )
    q.add_argument("--bundle", required=True)
    q.add_argument("--month", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--no-time", action="store_true", help="do not pass the pickup time")
    q.add_argument("--limit", type=int, default=0)
    q.set_defaults(func=_cmd_predict)
    c = sub.add_parser("check", parents=[common], help="load and validate a bundle")
    c.add_argument("--bundle", required=True)
    c.set_defaults(func=_cmd_check)
    mo = sub.add_parser(
        "monitor",
        parents=[common],
        help="run the drift monitors stored in the database (Prefect flow), log alerts",
    )
    mo.add_argument("--dsn", required=True, help="libpq connection string of the database")
    mo.add_argument(
        "--monitor",
        action="extend",
        nargs="+",
        default=None,
        metavar="NAME",
        help="run this monitor (repeatable; default: every enabled monitor)",
    )
    mo.add_argument(
        "--until",
        default=None,
        metavar="TS",
        help="compute the windows that end by this timestamptz (default: now)",
    )
    mo.add_argument(
        "--html",
        default=None,
        metavar="OUT.html",
        help="write each monitor's page there (several monitors: OUT.<name>.html, or use {monitor})",
    )
    mo.add_argument("--json", action="store_true", help="print a JSON summary")
    mo.add_argument(
        "--local",
        action="store_true",
        help="without PREFECT_API_URL, run with a temporary local Prefect server",
    )
    mo.set_defaults(func=_cmd_monitor)
    rp = sub.add_parser(
        "report", parents=[common], help="write a monitor's stored reports as one HTML page"
    )
    rp.add_argument("--dsn", required=True, help="libpq connection string of the database")
    rp.add_argument("--monitor", required=True, metavar="NAME")
    rp.add_argument("--out", required=True, metavar="OUT.html")
    rp.add_argument(
        "--window-start",
        default=None,
        metavar="TS",
        help="the window shown in detail (default: the latest with rows)",
    )
    rp.add_argument("--since", default=None, metavar="TS", help="only the windows ending after TS")
    rp.add_argument(
        "--until", default=None, metavar="TS", help="only the windows starting before TS"
    )
    rp.set_defaults(func=_cmd_report)
    sv = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the training and monitoring deployments (cron schedules) on $PREFECT_API_URL",
    )
    deployments.add_arguments(sv)
    sv.set_defaults(func=deployments.cmd_serve)
    a = p.parse_args(argv)
    config.load_env(getattr(a, "env", None))
    if a.cmd == "train" and a.out is None and a.trials is None:
        from .flow import DEFAULT_TRIALS

        a.trials = DEFAULT_TRIALS
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
