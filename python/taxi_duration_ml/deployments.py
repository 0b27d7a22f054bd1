"""Prefect deployments of the training and the monitoring flow, with cron schedules, served by
one long-running process (``flow.to_deployment(...)`` + ``prefect.serve(...)``).

    taxi-duration serve [--train-cron CRON] [--monitor-cron CRON] [--timezone TZ] \\
        [--dsn DSN] [--monitor NAME ...] [--html OUT.html] \\
        [--train M --valid M | --lag-months N] [--no-training | --no-monitoring]

``serve`` needs a Prefect server (``PREFECT_API_URL``, e.g. ``http://127.0.0.1:4200/api``): it
registers (creates or updates) two deployments there,

* ``taxi-duration-training/training`` — the training flow (:mod:`taxi_duration_ml.flow`),
  monthly (``0 6 20 * *``: the 20th at 06:00). Without ``--train``/``--valid`` it validates on
  the month ``--lag-months`` (2) before the run's month and trains on the month before that;
* ``taxi-duration-monitoring/monitoring`` — the monitoring flow
  (:mod:`taxi_duration_ml.monitor_flow`), daily (``30 0 * * *``: 00:30, after the day's window
  closed) on ``--dsn``,

then polls the server for their runs and executes each in a subprocess of its own, until it is
stopped (Ctrl-C / SIGTERM; the schedules are then paused, so no runs pile up while nothing
serves them). The schedules live on the server: its scheduler creates the runs, this process
runs them; ``prefect deployment run 'taxi-duration-training/training'`` or the UI's "Quick run"
starts one now. Restarting ``serve`` updates both deployments from its options.

Every option defaults to an environment variable (also read from ``--env``'s file):

=================== ============================ ==========================================
option              variable                     default
=================== ============================ ==========================================
--train-cron        TD_TRAIN_CRON                ``0 6 20 * *``
--monitor-cron      TD_MONITOR_CRON              ``30 0 * * *``
--timezone          TD_SCHEDULE_TIMEZONE         ``UTC``
--train, --valid    TD_TRAIN_MONTH, TD_VALID_MONTH  none: relative to the run's month
--lag-months        TD_DATA_LAG_MONTHS           2
--dsn               TD_MONITOR_DSN               required unless --no-monitoring
--monitor           TD_MONITORS (comma-separated) every enabled monitor
--html              TD_MONITOR_HTML              no page
=================== ============================ ==========================================

The flow runs inherit this process's environment: MLflow, S3, ``TAXI_DATA_DIR``, ``PGPASSWORD``,
``TD_TASK_RETRIES``... The DSN is a deployment parameter, stored by the Prefect server: keep the
password out of it (PGPASSWORD, ~/.pgpass).
"""

from __future__ import annotations

import argparse
import os
import sys

TRAINING = "training"
MONITORING = "monitoring"
DEFAULT_TRAIN_CRON = "0 6 20 * *"
DEFAULT_MONITOR_CRON = "30 0 * * *"
DEFAULT_TIMEZONE = "UTC"
TAGS = ["taxi-duration"]


class UsageError(ValueError):
    """A bad option: reported as one ``error:`` line, exit status 2."""


def _env(name: str) -> str | None:
    v = os.environ.get(name)
    return v if v and v.strip() else None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``taxi-duration serve`` (defaults: see the module docstring)."""
    p.add_argument("--train-cron", default=None, metavar="CRON", help="training schedule")
    p.add_argument("--monitor-cron", default=None, metavar="CRON", help="monitoring schedule")
    p.add_argument("--timezone", default=None, metavar="TZ", help="time zone of both schedules")
    p.add_argument("--train", default=None, metavar="YYYY-MM", help="fixed training month")
    p.add_argument("--valid", default=None, metavar="YYYY-MM", help="fixed validation month")
    p.add_argument(
        "--lag-months",
        type=int,
        default=None,
        metavar="N",
        help="without fixed months: validate on the month N months before the run's",
    )
    p.add_argument("--dsn", default=None, help="libpq connection string of the monitored database")
    p.add_argument(
        "--monitor",
        action="extend",
        nargs="+",
        default=None,
        metavar="NAME",
        help="monitors to run (default: every enabled monitor)",
    )
    p.add_argument("--html", default=None, metavar="OUT.html", help="write the monitors' pages")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--no-training", action="store_true", help="serve monitoring only")
    only.add_argument("--no-monitoring", action="store_true", help="serve training only")


def options(a: argparse.Namespace) -> dict:
    """The served deployments' settings: the options, else the environment, else the defaults."""
    from .data import check_month

    o = {
        "training": not a.no_training,
        "monitoring": not a.no_monitoring,
        "train_cron": a.train_cron or _env("TD_TRAIN_CRON") or DEFAULT_TRAIN_CRON,
        "monitor_cron": a.monitor_cron or _env("TD_MONITOR_CRON") or DEFAULT_MONITOR_CRON,
        "timezone": a.timezone or _env("TD_SCHEDULE_TIMEZONE") or DEFAULT_TIMEZONE,
        "train_month": a.train or _env("TD_TRAIN_MONTH"),
        "valid_month": a.valid or _env("TD_VALID_MONTH"),
        "dsn": a.dsn or _env("TD_MONITOR_DSN"),
        "monitors": a.monitor
        or [m.strip() for m in (_env("TD_MONITORS") or "").split(",") if m.strip()]
        or None,
        "html_path": a.html or _env("TD_MONITOR_HTML"),
    }
    lag = a.lag_months if a.lag_months is not None else _env("TD_DATA_LAG_MONTHS")
    try:
        o["lag_months"] = int(lag) if lag is not None else None
    except ValueError:
        raise UsageError(f"TD_DATA_LAG_MONTHS={lag!r}: not an integer") from None
    if o["lag_months"] is not None and o["lag_months"] < 1:
        raise UsageError(f"--lag-months must be >= 1, got {o['lag_months']}")
    if (o["train_month"] is None) != (o["valid_month"] is None):
        raise UsageError(
            "give both --train and --valid (TD_TRAIN_MONTH, TD_VALID_MONTH) or neither"
        )
    try:
        for k in ("train_month", "valid_month"):
            if o[k] is not None:
                check_month(o[k])
    except ValueError as e:
        raise UsageError(str(e)) from None
    if o["monitoring"] and not o["dsn"]:
        raise UsageError(
            "the monitoring deployment needs --dsn (or TD_MONITOR_DSN); or pass --no-monitoring"
        )
    return o


def build(o: dict) -> list:
    """The RunnerDeployments described by ``o`` (:func:`options`)."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    deployments = []
    try:
        if o["training"]:
            from .flow import training_flow

            params = {}
            if o["train_month"] is not None:
                params.update(train_month=o["train_month"], valid_month=o["valid_month"])
            if o["lag_months"] is not None:
                params["lag_months"] = o["lag_months"]
            deployments.append(
                training_flow.to_deployment(
                    TRAINING,
                    schedule=Cron(o["train_cron"], timezone=o["timezone"]),
                    parameters=params,
                    description="Train, register, publish to S3, promote when better "
                    "(docs/model-lifecycle.md)",
                    tags=[*TAGS, TRAINING],
                    entrypoint_type=EntrypointType.MODULE_PATH,
                )
            )
        if o["monitoring"]:
            from .monitor_flow import monitoring_flow

            params = {"dsn": o["dsn"]}
            if o["monitors"]:
                params["monitors"] = o["monitors"]
            if o["html_path"]:
                params["html_path"] = o["html_path"]
            deployments.append(
                monitoring_flow.to_deployment(
                    MONITORING,
                    schedule=Cron(o["monitor_cron"], timezone=o["timezone"]),
                    parameters=params,
                    description="Run the drift monitors, log the alerts (docs/monitoring.md)",
                    tags=[*TAGS, MONITORING],
                    entrypoint_type=EntrypointType.MODULE_PATH,
                )
            )
    except ValueError as e:  # a bad cron string or time zone (pydantic: its first error)
        errors = getattr(e, "errors", None)
        msg = errors()[0]["msg"] if callable(errors) else str(e)
        raise UsageError(msg.removeprefix("Value error, ")) from None
    return deployments


def prefect_api_url() -> str | None:
    """The Prefect server this process reports to (``PREFECT_API_URL``, from the environment
    or the active Prefect profile), or None."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def cmd_serve(a: argparse.Namespace) -> int:
    """``taxi-duration serve``: register the deployments and run their scheduled runs."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    try:
        o = options(a)
        if prefect_api_url() is None:
            raise UsageError(
                "serve needs a Prefect server: set PREFECT_API_URL "
                "(e.g. http://127.0.0.1:4200/api, `prefect server start`)"
            )
        deployments = build(o)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from prefect import serve

    serve(*deployments)
    return 0
