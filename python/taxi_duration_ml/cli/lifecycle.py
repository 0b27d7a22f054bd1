"""Commands on the MLflow model registry: ``versions``, ``promote``, ``rollback``
(python/taxi_duration_ml/registry.py; docs/model-lifecycle.md)."""

from __future__ import annotations

import json
import logging

from .errors import CommandFailed
from .parser import add_command

_WHERE = """

The registry is MLFLOW_TRACKING_URI's (unset: a local SQLite store in TAXI_CACHE_DIR); the model
is TD_MODEL_NAME (default taxi-duration).  Use --env dev|prod to load those from .env.<env>."""


def add_commands(sub, common) -> None:
    v = add_command(
        sub,
        "versions",
        parents=common,
        help="list the registered versions of the model",
        description="List the model's registered versions: aliases, validation month, "
        "validation RMSE with pickup time and bundle URI." + _WHERE,
    )
    v.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    v.set_defaults(func=cmd_versions)

    pr = add_command(
        sub,
        "promote",
        parents=common,
        help="point the production alias at a version",
        description="Point the 'production' alias at a published version (one with a "
        "bundle_uri); serving that follows models:/<name>@production picks it up.  Exit status "
        "1 when the version does not exist or was never published." + _WHERE,
    )
    pr.add_argument("--version", required=True, metavar="N", help="the registered version to serve")
    pr.set_defaults(func=cmd_promote)

    rb = add_command(
        sub,
        "rollback",
        parents=common,
        help="move production back to the previous production version",
        description="Move the 'production' alias back to the version that was production "
        "before the current one (the production_history tag).  Exit status 1 when there is "
        "none." + _WHERE,
    )
    rb.set_defaults(func=cmd_rollback)


def _registry():
    import mlflow  # noqa: F401 - configures the "mlflow" logger, which is then quietened

    from .. import registry as R

    # a first use of a local store logs its table creation at INFO: not a command's output
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    return R, R.client(), R.model_name()


def _not_found(e) -> bool:
    """Whether an MlflowException says that a model or version does not exist."""
    text = str(e)
    return (
        getattr(e, "error_code", None) == "RESOURCE_DOES_NOT_EXIST"
        or "RESOURCE_DOES_NOT_EXIST" in text
        or "not found" in text.lower()
    )


def cmd_versions(a) -> int:
    from mlflow.exceptions import MlflowException

    R, c, name = _registry()
    try:
        rows = R.list_versions(c, name)
    except MlflowException as e:
        if not _not_found(e):
            raise
        rows = []
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


def cmd_promote(a) -> int:
    from mlflow.exceptions import MlflowException

    R, c, name = _registry()
    try:
        r = R.promote(c, name, a.version)
    except MlflowException as e:
        if not _not_found(e):
            raise
        raise CommandFailed(
            f"{name} has no version {a.version} in the registry at {R.tracking_uri()} "
            "('taxi-duration versions' lists them)"
        ) from e
    print(f"{name}@{R.ALIAS}: {r['previous'] or '(none)'} -> {r['production']}")
    return 0


def cmd_rollback(a) -> int:
    R, c, name = _registry()
    r = R.rollback(c, name)
    print(f"{name}@{R.ALIAS}: {r['previous']} -> {r['production']} (rolled back)")
    return 0
