"""The training flow (Prefect): data → features → XGBoost (small search) → evaluate → MLflow →
registry → S3 → promotion.  See docs/model-lifecycle.md.

    taxi-duration train --train 2021-01 --valid 2021-02 [--trials N] [--max-rounds N] \\
        [--no-register] [--no-promote] [--env dev|prod]

Steps (Prefect tasks, named as in the Prefect UI):

1. ``load-month`` ×2: read the training and the validation month (:mod:`taxi_duration_ml.data`;
   downloaded from the TLC when not in ``TAXI_DATA_DIR`` or the cache);
2. ``start-mlflow-run``; ``train``: fit the DictVectorizer + XGBoost for each of ``trials``
   candidate parameter sets (the first is :data:`taxi_duration_ml.train.DEFAULT_PARAMS`) and keep
   the best by validation RMSE with pickup time (early stopping uses the same month, as the
   course does); ``log-trials``: one nested MLflow run per candidate;
3. ``log-run`` (params + metrics); ``register-version``: model version N (unless
   ``register_model=False``); ``export-bundle``: the bundle with ``model.version = "N"``,
   ``model.run_id`` = the run, scored with the reference reader; ``log-pyfunc-model``: version N
   as an MLflow pyfunc model holding that bundle (:mod:`taxi_duration_ml.pyfunc_model`, with a
   signature and an input example); ``publish-bundle``: the run
   artifact ``bundle/bundle.json``, the upload to ``s3://$TD_MODEL_BUCKET/<name>/<N>/bundle.json``
   with its sha256, the version's tags;
4. ``production-version``, ``read-production-bundle`` (from its ``bundle_uri``),
   ``decide-promotion``: score the current ``production`` bundle on the same validation month;
   ``promote``: move ``production`` to N only when N's RMSE is strictly lower (or when there is no
   production yet); ``finish-mlflow-run``.

Scheduled (``taxi-duration serve``, :mod:`taxi_duration_ml.deployments`) the flow runs without
months: it validates on the month ``lag_months`` (default 2) before the run's scheduled month and
trains on the month before that.

Tasks that touch the network (the TLC download, MLflow, S3) retry transient failures with
exponential backoff (:mod:`taxi_duration_ml.retries`) and are idempotent: a repeated attempt finds
what an earlier one registered or logged instead of doing it twice. Training and evaluation are
CPU-only tasks and do not retry.

Prefect: with ``PREFECT_API_URL`` set the flow reports to that server; otherwise Prefect 3 starts a
temporary local server (a few seconds, once per process; the command line asks for ``--local``
first). This module turns off Prefect's anonymous telemetry unless set (no network here) and
gives the temporary server 120 s to start (first start creates its SQLite database).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from . import bundle as B, data as D, registry as R, retries as RT, train as T  # noqa: E402

# Candidates of the small search, in order; trials=N uses the first N. All within MAX_DEPTH_LIMIT.
SEARCH_SPACE = [
    {
        "max_depth": T.DEFAULT_PARAMS["max_depth"],
        "learning_rate": T.DEFAULT_PARAMS["learning_rate"],
        "min_child_weight": T.DEFAULT_PARAMS["min_child_weight"],
    },
    {"max_depth": 6, "learning_rate": 0.3, "min_child_weight": 1.0},
    {"max_depth": 8, "learning_rate": 0.1, "min_child_weight": 3.0},
    {"max_depth": 7, "learning_rate": 0.2, "min_child_weight": 5.0},
    {"max_depth": 5, "learning_rate": 0.3, "min_child_weight": 1.0},
]
DEFAULT_TRIALS = 3
# scheduled runs: validate on the month this many months before the run's month
DEFAULT_LAG_MONTHS = 2


def candidates(params: dict | None, trials: int) -> list[dict]:
    """Parameter sets to try: ``params`` alone when given, else the first ``trials`` of the space."""
    if params:
        return [dict(params)]
    trials = max(1, min(int(trials), len(SEARCH_SPACE)))
    return [dict(p) for p in SEARCH_SPACE[:trials]]


def reader_frame(df: pd.DataFrame, with_time: bool = True) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "PULocationID": df["PULocationID"].to_numpy(),
            "DOLocationID": df["DOLocationID"].to_numpy(),
            "trip_distance": df["trip_distance"].to_numpy(),
        }
    )
    if with_time:
        out["pickup_datetime"] = df[D.COLUMNS[0]].to_numpy()
    return out


def evaluate_bundle(data: bytes, valid_df: pd.DataFrame) -> dict:
    """RMSE of a bundle on a month, through the reference reader (what serving computes)."""
    b = B.loads_bundle(data)
    y = valid_df["duration"].to_numpy(dtype=np.float64)
    return {
        "valid_rmse_with_time": T.rmse(y, b.predict(reader_frame(valid_df, True))),
        "valid_rmse_without_time": T.rmse(y, b.predict(reader_frame(valid_df, False))),
    }


def _flat_params(training: dict) -> dict:
    p = {f"xgb_{k}": v for k, v in (training.get("params") or {}).items()}
    for k in (
        "train_month",
        "valid_month",
        "num_boost_round_max",
        "early_stopping_rounds",
        "best_iteration",
        "n_trees",
    ):
        if training.get(k) is not None:
            p[k] = training[k]
    for k, v in (training.get("rows") or {}).items():
        p[f"rows_{k}"] = v
    return {k: str(v)[:6000] for k, v in p.items()}


def _log(
    c,
    run_id: str,
    params: dict | None = None,
    metrics: dict | None = None,
    tags: dict | None = None,
):
    import time

    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    c.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items() if v is not None],
        params=[Param(k, str(v)) for k, v in (params or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
    )


# --------------------------------------------------------------------------------------------
# months of a scheduled run
# --------------------------------------------------------------------------------------------


def shift_month(month: str, delta: int) -> str:
    """``YYYY-MM`` moved by ``delta`` months."""
    y, m = (int(x) for x in D.check_month(month).split("-"))
    i = y * 12 + (m - 1) + delta
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def resolve_months(
    train_month: str | None, valid_month: str | None, lag_months: int, when: datetime
) -> tuple[str, str]:
    """Both months as given, or — neither given, a scheduled run — the validation month
    ``lag_months`` before ``when``'s month and the training month before it (TLC publishes a
    month's trips some weeks after it ends)."""
    if train_month is not None and valid_month is not None:
        return D.check_month(train_month), D.check_month(valid_month)
    if train_month is not None or valid_month is not None:
        raise ValueError("give both train_month and valid_month, or neither (then lag_months)")
    if not isinstance(lag_months, int) or lag_months < 1:
        raise ValueError(f"lag_months must be an integer >= 1, got {lag_months!r}")
    valid = shift_month(f"{when.year:04d}-{when.month:02d}", -lag_months)
    return shift_month(valid, -1), valid


# --------------------------------------------------------------------------------------------
# tasks: those that touch the network retry transient failures (retries.py) and are idempotent,
# so that a repeated attempt never registers, logs or promotes twice; CPU-only tasks do not retry
# --------------------------------------------------------------------------------------------

NETWORK = RT.network_retries()


@task(name="load-month", cache_policy=NO_CACHE, **NETWORK)
def load_month(month: str, data_dir: str | None = None) -> pd.DataFrame:
    """The month's trips (TAXI_DATA_DIR, the cache, else downloaded from the TLC)."""
    df = D.load_month(month, data_dir)
    get_run_logger().info("%s: %d trips after the duration filter", month, len(df))
    return df


@task(name="start-mlflow-run", cache_policy=NO_CACHE, **NETWORK)
def start_run(train_month: str, valid_month: str, estimator: str, extra_tags: dict) -> dict:
    c = R.client()
    exp = R.ensure_experiment(c)
    tags = {
        "train_month": train_month,
        "valid_month": valid_month,
        "estimator": estimator,
        **extra_tags,
    }
    run = None
    flow_run_id = extra_tags.get("prefect_flow_run_id")
    if flow_run_id:  # an earlier attempt of this task may have created it (its answer lost)
        earlier = c.search_runs([exp], f"tags.prefect_flow_run_id = '{flow_run_id}'", max_results=1)
        run = earlier[0] if earlier else None
    if run is None:
        run = c.create_run(exp, run_name=f"{estimator} {train_month} -> {valid_month}", tags=tags)
    get_run_logger().info(
        "MLflow run %s (experiment %s, %s)", run.info.run_id, exp, R.tracking_uri()
    )
    return {"run_id": run.info.run_id, "experiment_id": exp}


@task(name="train", cache_policy=NO_CACHE)
def train_candidates(
    train_df,
    valid_df,
    *,
    estimator,
    configs,
    max_rounds,
    early_stopping_rounds,
    train_month,
    valid_month,
) -> tuple:
    """Fit every candidate; return (best TrainResult, trial summaries, what to log per trial)."""
    log = get_run_logger()
    trials, logs = [], []
    best = None
    for i, params in enumerate(configs if estimator == "xgboost" else [{}]):
        res = T.fit(
            train_df,
            valid_df,
            estimator=estimator,
            params=params,
            max_rounds=max_rounds,
            early_stopping_rounds=early_stopping_rounds,
            train_month=train_month,
            valid_month=valid_month,
        )
        m = res.training["metrics"]
        logs.append(
            {
                "params": _flat_params(res.training),
                "metrics": {
                    **m,
                    "train_seconds": res.seconds,
                    "n_trees": res.training.get("n_trees"),
                },
            }
        )
        trials.append(
            {
                "trial": i,
                "params": params,
                "n_trees": res.training.get("n_trees"),
                "seconds": res.seconds,
                **m,
            }
        )
        log.info(
            "trial %d %s: valid RMSE with time %.4f (%s trees, %.1f s)",
            i,
            params,
            m["valid_rmse_with_time"],
            res.training.get("n_trees"),
            res.seconds,
        )
        if (
            best is None
            or m["valid_rmse_with_time"] < best.training["metrics"]["valid_rmse_with_time"]
        ):
            best = res
    return best, trials, logs


@task(name="log-trials", cache_policy=NO_CACHE, **NETWORK)
def log_trials(run: dict, logs: list[dict]) -> list[str]:
    """One nested MLflow run per trial. A trial an earlier attempt finished logging is kept, one
    it left unfinished is completed: never two nested runs for one trial."""
    c = R.client()
    earlier = {
        r.data.tags.get("trial"): r
        for r in c.search_runs(
            [run["experiment_id"]],
            f"tags.mlflow.parentRunId = '{run['run_id']}'",
            max_results=1000,
        )
    }
    ids = []
    for i, entry in enumerate(logs):
        prev = earlier.get(str(i))
        if prev is not None and prev.info.status == "FINISHED":
            ids.append(prev.info.run_id)
            continue
        child_id = (
            prev.info.run_id
            if prev is not None
            else c.create_run(
                run["experiment_id"],
                run_name=f"trial {i}",
                tags={"mlflow.parentRunId": run["run_id"], "trial": str(i)},
            ).info.run_id
        )
        _log(c, child_id, params=entry["params"], metrics=entry["metrics"])
        c.set_terminated(child_id)
        ids.append(child_id)
    return ids


@task(name="log-run", cache_policy=NO_CACHE, **NETWORK)
def log_run(run_id: str, params=None, metrics=None, tags=None) -> None:
    """Params, metrics and tags of the MLflow run (a param logged again with the same value is
    accepted; a metric logged again is one more point of the same value)."""
    _log(R.client(), run_id, params=params, metrics=metrics, tags=tags)


@task(name="register-version", cache_policy=NO_CACHE, **NETWORK)
def register_version(run_id: str, name: str, tags: dict, description: str) -> str:
    """Version N of the registered model for this run: the one an earlier attempt created if
    there is one (the run's only version), else a new one."""
    c = R.client()
    try:
        earlier = c.search_model_versions(f"name='{name}' and run_id='{run_id}'")
    except Exception as e:  # noqa: BLE001 - no such registered model yet: nothing earlier
        if RT.is_transient(e):
            raise
        earlier = []
    if earlier:
        version = str(max(int(v.version) for v in earlier))
        get_run_logger().info("version %s was registered by an earlier attempt", version)
        return version
    # an MLflow model (pyfunc) of the run, filled by log-pyfunc-model once the bundle is built
    mv = R.register_pyfunc_version(c, name, run_id, tags=tags, description=description)
    return str(mv.version)


@task(name="log-pyfunc-model", cache_policy=NO_CACHE, **NETWORK)
def log_pyfunc_model(name: str, version: str, data: bytes, valid_df) -> None:
    """Version N as an MLflow pyfunc model holding its bundle, with a signature and an input
    example (:mod:`taxi_duration_ml.pyfunc_model`); a model an earlier attempt finished is kept."""
    c = R.client()
    mv = c.get_model_version(name, version)
    model_id = mv.model_id or (mv.source or "").removeprefix("models:/")
    try:
        if str(c.get_logged_model(model_id).status).endswith("READY"):
            get_run_logger().info(
                "the pyfunc model of version %s was logged by an earlier attempt", version
            )
            return
    except Exception as e:  # noqa: BLE001 - unknown status: log it (again)
        if RT.is_transient(e):
            raise
    R.log_pyfunc_model(c, mv, data, example=valid_df)


@task(name="export-bundle", cache_policy=NO_CACHE)
def export_bundle(result, valid_df, *, version: str, run_id: str, name: str) -> tuple:
    """The bundle's bytes and its RMSE on the validation month, through the reference reader."""
    data = B.bundle_bytes(result, version=version, run_id=run_id, name=name)
    return data, evaluate_bundle(data, valid_df)


@task(name="publish-bundle", cache_policy=NO_CACHE, **NETWORK)
def publish_bundle(run_id: str, name: str, version: str | None, data: bytes, metrics: dict) -> dict:
    """Log the bundle as the run artifact; with a registered version, upload it to S3 and tag
    the version (every step overwrites what an earlier attempt wrote: safe to repeat)."""
    import tempfile
    from pathlib import Path

    log = get_run_logger()
    c = R.client()
    _log(c, run_id, metrics={f"bundle_{k}": v for k, v in metrics.items()})
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / R.BUNDLE_FILE
        p.write_bytes(data)
        c.log_artifact(run_id, str(p), R.BUNDLE_ARTIFACT_DIR)
    artifact_uri = (
        c.get_run(run_id).info.artifact_uri.rstrip("/")
        + f"/{R.BUNDLE_ARTIFACT_DIR}/{R.BUNDLE_FILE}"
    )
    if version is None:
        log.info("not registered (--no-register); bundle logged as %s", artifact_uri)
        return {"bundle_uri": artifact_uri, "bundle_sha256": R.sha256_hex(data)}
    for k, v in metrics.items():
        c.set_model_version_tag(name, version, k, repr(float(v)))
    pub = R.publish_version(c, name, version, data, run_id, fallback_uri=artifact_uri)
    if not pub["s3"]:
        log.warning(
            "TD_MODEL_BUCKET is not set: version %s not uploaded to S3; bundle_uri = %s",
            version,
            pub["bundle_uri"],
        )
    _log(
        c,
        run_id,
        tags={
            "registered_model": name,
            "registered_version": version,
            "bundle_uri": pub["bundle_uri"],
            "bundle_sha256": pub["bundle_sha256"],
        },
    )
    log.info(
        "registered %s version %s; bundle %s (sha256 %s, %d bytes)",
        name,
        version,
        pub["bundle_uri"],
        pub["bundle_sha256"],
        len(data),
    )
    return {"bundle_uri": pub["bundle_uri"], "bundle_sha256": pub["bundle_sha256"]}


@task(name="production-version", cache_policy=NO_CACHE, **NETWORK)
def production_version(name: str) -> dict | None:
    """The current ``production`` version with its bundle tags, or None."""
    mv = R.production_version(R.client(), name)
    if mv is None:
        return None
    return {"version": str(mv.version), "tags": dict(mv.tags or {})}


@task(name="read-production-bundle", cache_policy=NO_CACHE, **NETWORK)
def read_production_bundle(prod: dict) -> bytes:
    """The production version's published bundle, checked against its sha256."""
    from types import SimpleNamespace

    return R.version_bundle_bytes(SimpleNamespace(version=prod["version"], tags=prod["tags"]))


@task(name="decide-promotion", cache_policy=NO_CACHE)
def decide_promotion(new_rmse: float, prod: dict | None, valid_df) -> dict:
    """Compare with the production bundle on this validation month: promote if strictly better
    (or when there is no production version). ``prod`` may carry ``error`` instead of ``data``:
    an unreadable production bundle is never automatically replaced."""
    out = {
        "previous_production": None if prod is None else prod["version"],
        "production_rmse": None,
        "should_promote": prod is None,
        "reason": "no production version yet" if prod is None else "",
    }
    if prod is None:
        return out
    try:
        if "error" in prod:
            raise RuntimeError(prod["error"])
        out["production_rmse"] = evaluate_bundle(prod["data"], valid_df)["valid_rmse_with_time"]
    except Exception as e:  # noqa: BLE001 - unreadable production bundle: never auto-promote over it
        out["reason"] = f"production version {prod['version']} could not be evaluated: {e}"
        get_run_logger().warning(out["reason"])
        return out
    better = new_rmse < out["production_rmse"]
    out["should_promote"] = better
    out["reason"] = (
        f"valid RMSE with time {new_rmse:.4f} {'<' if better else '>='} "
        f"production v{prod['version']} {out['production_rmse']:.4f}"
    )
    return out


@task(name="promote", cache_policy=NO_CACHE, **NETWORK)
def promote_version(name: str, version: str) -> dict:
    """Move ``production`` to the version (idempotent: promoting the current version again
    changes neither the alias nor the rollback history)."""
    return R.promote(R.client(), name, version)


@task(name="finish-mlflow-run", cache_policy=NO_CACHE, **NETWORK)
def finish_run(run_id: str, status: str = "FINISHED") -> None:
    R.client().set_terminated(run_id, status)


# --------------------------------------------------------------------------------------------
# the flow
# --------------------------------------------------------------------------------------------


@flow(name="taxi-duration-training")
def training_flow(
    train_month: str | None = None,
    valid_month: str | None = None,
    *,
    estimator: str = "xgboost",
    params: dict | None = None,
    trials: int = DEFAULT_TRIALS,
    max_rounds: int = T.DEFAULT_MAX_ROUNDS,
    early_stopping_rounds: int = T.DEFAULT_EARLY_STOPPING,
    register_model: bool = True,
    auto_promote: bool = True,
    data_dir: str | None = None,
    lag_months: int = DEFAULT_LAG_MONTHS,
) -> dict:
    """Train on ``train_month``, validate on ``valid_month``; register, publish, promote if
    better. Without months (a scheduled run), the validation month is ``lag_months`` before the
    run's scheduled month and the training month the one before it."""
    log = get_run_logger()
    tags = {}
    when = datetime.now(UTC)
    try:
        from prefect.runtime import flow_run

        tags = {
            "prefect_flow_run_id": str(flow_run.id),
            "prefect_flow_run_name": str(flow_run.name),
        }
        when = flow_run.scheduled_start_time or when
    except Exception:  # noqa: BLE001 - informative only
        pass
    train_month, valid_month = resolve_months(train_month, valid_month, lag_months, when)
    if estimator not in ("xgboost", "linear"):
        raise ValueError(f"estimator must be 'xgboost' or 'linear', got {estimator!r}")
    log.info("training on %s, validating on %s", train_month, valid_month)
    tr = load_month(train_month, data_dir)
    va = load_month(valid_month, data_dir)
    run = start_run(train_month, valid_month, estimator, tags)
    run_id = run["run_id"]
    try:
        result, trials_out, trial_logs = train_candidates(
            tr,
            va,
            estimator=estimator,
            configs=candidates(params, trials),
            max_rounds=max_rounds,
            early_stopping_rounds=early_stopping_rounds,
            train_month=train_month,
            valid_month=valid_month,
        )
        log_trials(run, trial_logs)
        tr_info = result.training
        log_run(
            run_id,
            params={
                **_flat_params(tr_info),
                "estimator": result.estimator_type,
                "trials": len(trials_out),
            },
            metrics={
                **tr_info["metrics"],
                "train_seconds": result.seconds,
                "n_trees": tr_info.get("n_trees"),
            },
        )
        name = R.model_name()
        version = None
        if register_model:
            version = register_version(
                run_id,
                name,
                tags={
                    "train_month": tr_info.get("train_month"),
                    "valid_month": tr_info.get("valid_month"),
                    "estimator": result.estimator_type,
                },
                description=f"{result.estimator_type} trained on {tr_info.get('train_month')}, "
                f"validated on {tr_info.get('valid_month')}",
            )
        data, metrics = export_bundle(
            result,
            va,
            version=version or f"dev-{tr_info.get('train_month')}",
            run_id=run_id,
            name=name,
        )
        if version is not None:
            log_pyfunc_model(name, version, data, va)
        pub = publish_bundle(run_id, name, version, data, metrics)
        published = {
            "run_id": run_id,
            "model_name": name,
            "version": version,
            "metrics": metrics,
            "bundle_bytes": data,
            **pub,
        }
        if register_model:
            prod = production_version(name)
            if prod is not None:
                try:
                    prod["data"] = read_production_bundle(prod)
                except Exception as e:  # noqa: BLE001 - decided below: never promote over it
                    prod["error"] = f"{type(e).__name__}: {e}"
            decision = decide_promotion(metrics["valid_rmse_with_time"], prod, va)
            promoted = False
            if decision["should_promote"] and auto_promote:
                promote_version(name, version)
                promoted = True
            elif decision["should_promote"]:
                decision["reason"] += " (not promoted: --no-promote)"
            decision = {
                "previous_production": decision["previous_production"],
                "production_rmse": decision["production_rmse"],
                "promoted": promoted,
                "reason": decision["reason"],
            }
            log_run(
                run_id,
                metrics={"production_valid_rmse_with_time": decision["production_rmse"]},
                tags={
                    "promoted": str(promoted).lower(),
                    "promotion_reason": decision["reason"][:5000],
                },
            )
            log.info(
                "version %s %s: %s",
                version,
                "PROMOTED to production" if promoted else "not promoted",
                decision["reason"],
            )
        else:
            decision = {
                "promoted": False,
                "previous_production": None,
                "production_rmse": None,
                "reason": "not registered",
            }
    except BaseException:
        try:
            R.client().set_terminated(run_id, "FAILED")
        except Exception as e:  # noqa: BLE001 - the original failure matters more
            log.warning("could not mark MLflow run %s FAILED: %s", run_id, e)
        raise
    finish_run(run_id)
    return {
        **published,
        **decision,
        "trials": trials_out,
        "result": result,
        "tracking_uri": R.tracking_uri(),
    }
