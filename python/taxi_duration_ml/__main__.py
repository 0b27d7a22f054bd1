"""The ``taxi-duration`` command (``python -m taxi_duration_ml``): training, bundles, the model
lifecycle, trips in PostgreSQL and the drift monitors.  docs/model-lifecycle.md lists the
commands; ``taxi-duration --help`` and ``taxi-duration COMMAND --help`` describe them.

    taxi-duration train --train 2021-01 --valid 2021-02 --out python/taxi_duration_ml/default_bundle.json \\
        [--estimator xgboost|linear] [--version V] [--run-id R] [--max-rounds N] \\
        [--learning-rate LR] [--max-depth D]          # offline export: no MLflow, no Prefect
    taxi-duration train --train 2021-01 --valid 2021-02 [--trials N] [--max-rounds N] \\
        [--no-register] [--no-promote] [--json]        # the Prefect flow: MLflow, registry, S3
    taxi-duration versions [--json]
    taxi-duration promote --version N
    taxi-duration rollback
    taxi-duration predict --bundle FILE --month 2021-02 --out preds.csv [--no-time] [--limit N]
    taxi-duration check --bundle FILE
    taxi-duration load-trips [--dsn DSN] [--month 2021-02] [--table taxi_trips] [--copies N]
    taxi-duration score [--dsn DSN] [--table taxi_trips]
    taxi-duration monitor [--dsn DSN] [--monitor NAME ...] [--until TS] [--html OUT.html] [--json]
    taxi-duration report [--dsn DSN] --monitor NAME --out OUT.html [--window-start TS] \\
        [--since TS] [--until TS]

Every command takes ``--env dev|prod`` (or ``TD_ENV``: load ``.env.<env>`` without overriding
variables already set) and ``-q/--quiet`` (no progress bars).  ``--dsn`` defaults to an empty
conninfo: libpq's PG* environment variables apply.  Exit status: 0 done, 1 the command failed
(registry, server, database, invalid bundle), 2 the command line is wrong (bad value, missing
file or data month); errors are one ``error: ...`` line on stderr.

The implementation is in :mod:`taxi_duration_ml.cli`, which imports numpy, pandas, XGBoost,
MLflow and Prefect only inside the commands that need them.
"""

from __future__ import annotations

import sys

from .cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
