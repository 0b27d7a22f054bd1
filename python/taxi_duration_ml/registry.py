"""MLflow model registry + S3 publishing of bundles (docs/model-lifecycle.md).

Publishing contract (the extension's C loader reads exactly this):

* registered model ``$TD_MODEL_NAME`` (default ``taxi-duration``), alias ``production``;
* version N's bundle (``model.version = "N"``, ``model.run_id`` = the run) is uploaded to
  ``s3://$TD_MODEL_BUCKET/<model name>/<N>/bundle.json`` with ``put_object(...,
  Metadata={"sha256": <hex>}, ContentType="application/json")``;
* model-version tags ``bundle_uri`` (that s3:// URI) and ``bundle_sha256`` (lower-case hex of the
  uploaded bytes); the bundle is also a run artifact ``bundle/bundle.json``.

Version N is itself an MLflow model (``source`` ``models:/<model_id>``, a LoggedModel of the run):
a pyfunc model whose artifact ``bundle`` is the same bytes (:mod:`taxi_duration_ml.pyfunc_model`,
:func:`register_pyfunc_version`, :func:`log_pyfunc_model`), so
``mlflow.pyfunc.load_model("models:/taxi-duration@production")`` predicts what serving does.

Rollback history: the registered-model tag ``production_history`` holds a JSON list of the version
numbers that were made ``production``, oldest first (last = current). :func:`promote` appends,
:func:`rollback` drops the current one and moves the alias to the one before it.

Configuration: ``MLFLOW_TRACKING_URI`` (none: a local SQLite store, :func:`tracking_uri`), the
standard AWS variables (``AWS_ENDPOINT_URL``, ``AWS_REGION``, ...), ``TD_MODEL_BUCKET``,
``TD_MODEL_NAME``, ``TD_EXPERIMENT`` (default ``taxi-duration``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

ALIAS = "production"
DEFAULT_MODEL_NAME = "taxi-duration"
DEFAULT_EXPERIMENT = "taxi-duration"
HISTORY_TAG = "production_history"
HISTORY_MAX = 100
BUNDLE_ARTIFACT_DIR = "bundle"
BUNDLE_FILE = "bundle.json"
S3_KEY_RE = re.compile(r"^[A-Za-z0-9._/-]+$")


class RegistryError(RuntimeError):
    """A lifecycle operation cannot be done (message says why)."""


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------


def local_store_dir() -> Path:
    from .data import cache_dir

    return cache_dir() / "mlflow"


def tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else a SQLite store ``<cache>/mlflow/mlflow.db`` (cache =
    ``$TAXI_CACHE_DIR`` or ``~/.cache/taxi_duration``), artifacts beside it in ``artifacts/``."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    d = local_store_dir()
    d.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{d / 'mlflow.db'}"


def model_name() -> str:
    name = os.environ.get("TD_MODEL_NAME") or DEFAULT_MODEL_NAME
    if not S3_KEY_RE.match(name) or name.startswith("/") or ".." in name.split("/"):
        raise RegistryError(
            f"TD_MODEL_NAME {name!r}: only [A-Za-z0-9._/-] (it is part of the S3 key)"
        )
    return name


def bucket() -> str | None:
    return os.environ.get("TD_MODEL_BUCKET") or None


def bundle_key(name: str, version) -> str:
    key = f"{name}/{version}/{BUNDLE_FILE}"
    if not S3_KEY_RE.match(key):
        raise RegistryError(f"S3 key {key!r} has characters outside [A-Za-z0-9._/-]")
    return key


def client():
    import mlflow
    from mlflow import MlflowClient

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri)


def ensure_experiment(c, name: str | None = None) -> str:
    """Experiment id of ``$TD_EXPERIMENT``; created if missing (next to the SQLite file for a
    local store, so artifacts never land in the current directory)."""
    name = name or os.environ.get("TD_EXPERIMENT") or DEFAULT_EXPERIMENT
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = None
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        location = (Path(uri[len("sqlite:///") :]).parent / "artifacts").as_uri()
    try:
        return c.create_experiment(name, artifact_location=location)
    except Exception:  # created concurrently
        exp = c.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def s3():
    import boto3

    # boto3 reads AWS_ENDPOINT_URL / AWS_REGION / credentials from the environment itself
    return boto3.client(
        "s3", region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )


# --------------------------------------------------------------------------------------------
# publishing
# --------------------------------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_bundle(data: bytes, name: str, version, bucket_name: str) -> tuple[str, str]:
    """put_object the bundle at the contract key; returns (s3 URI, sha256 hex)."""
    key = bundle_key(name, version)
    sha = sha256_hex(data)
    s3().put_object(
        Bucket=bucket_name,
        Key=key,
        Body=data,
        ContentType="application/json",
        Metadata={"sha256": sha},
    )
    return f"s3://{bucket_name}/{key}", sha


def read_uri(uri: str) -> bytes:
    """Bytes behind a bundle URI: s3://, file:// or anything MLflow can download."""
    p = urlparse(uri)
    if p.scheme == "s3":
        obj = s3().get_object(Bucket=p.netloc, Key=p.path.lstrip("/"))
        return obj["Body"].read()
    if p.scheme == "file":
        return Path(unquote(p.path)).read_bytes()
    if p.scheme == "":
        return Path(uri).read_bytes()
    import mlflow

    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=d)
        return Path(local).read_bytes()


def version_bundle_bytes(mv, *, verify: bool = True) -> bytes:
    """The published bundle of a model version (checked against ``bundle_sha256``)."""
    uri = mv.tags.get("bundle_uri")
    if not uri:
        raise RegistryError(f"version {mv.version} has no bundle_uri tag (never published)")
    data = read_uri(uri)
    want = mv.tags.get("bundle_sha256")
    if verify and want and sha256_hex(data) != want:
        raise RegistryError(f"version {mv.version}: {uri} does not hash to bundle_sha256 {want}")
    return data


def register_version(
    c,
    name: str,
    run_id: str,
    source: str,
    tags: dict | None = None,
    description: str | None = None,
    model_id: str | None = None,
):
    """Create the registered model if needed, then a new version; returns the ModelVersion.
    ``model_id``: the MLflow LoggedModel the version is (``source`` ``models:/<model_id>``)."""
    from mlflow.exceptions import MlflowException

    try:
        c.get_registered_model(name)
    except MlflowException:
        try:
            c.create_registered_model(
                name, description="NYC taxi trip duration (taxi_duration bundles)"
            )
        except MlflowException:  # created concurrently
            c.get_registered_model(name)
    return c.create_model_version(
        name,
        source=source,
        run_id=run_id,
        tags={k: str(v) for k, v in (tags or {}).items()},
        description=description,
        model_id=model_id,
    )


def register_pyfunc_version(
    c, name: str, run_id: str, tags: dict | None = None, description: str | None = None
):
    """Register version N of ``name`` as an MLflow model (pyfunc, :mod:`taxi_duration_ml.pyfunc_model`):
    a LoggedModel of the run is created, still empty (PENDING), and the version registered on it
    (``source`` ``models:/<model_id>``), because the bundle to put inside must carry
    ``model.version = "N"``; :func:`log_pyfunc_model` then fills it. Returns the ModelVersion."""
    from .pyfunc_model import LOGGED_MODEL_NAME

    experiment_id = c.get_run(run_id).info.experiment_id
    lm = c.create_logged_model(experiment_id, name=LOGGED_MODEL_NAME, source_run_id=run_id)
    return register_version(
        c,
        name,
        run_id,
        source=f"models:/{lm.model_id}",
        tags=tags,
        description=description,
        model_id=lm.model_id,
    )


def log_pyfunc_model(c, mv, data: bytes, example=None):
    """Log the pyfunc model of version ``mv`` (from :func:`register_pyfunc_version`) holding the
    bundle ``data`` (the bytes :func:`publish_version` then publishes), with the run as its
    source; ``example``: trips for the input example. Returns the MLflow ModelInfo."""
    from mlflow.entities import LoggedModelOutput

    from . import pyfunc_model

    # the REST API's ModelVersion does not return model_id: the source names it
    src = mv.source or ""
    model_id = mv.model_id or (src[len("models:/") :] if src.startswith("models:/") else None)
    if not model_id or "/" in model_id:
        raise RegistryError(f"version {mv.version} (source {src!r}) is not an MLflow LoggedModel")
    info = pyfunc_model.log_model(model_id, data, example)
    if mv.run_id:  # the run lists the model among its outputs (the MLflow UI's "Logged models")
        c.log_outputs(mv.run_id, [LoggedModelOutput(model_id, step=0)])
    return info


def publish_version(
    c, name: str, version, data: bytes, run_id: str | None = None, fallback_uri: str | None = None
) -> dict:
    """Upload the version's bundle to S3 (when ``$TD_MODEL_BUCKET`` is set) and set the
    ``bundle_uri`` / ``bundle_sha256`` tags. Without a bucket, ``bundle_uri`` is
    ``fallback_uri`` (the run artifact) — fine for local experiments, not for serving from S3."""
    b = bucket()
    if b:
        uri, sha = upload_bundle(data, name, version, b)
    elif fallback_uri:
        uri, sha = fallback_uri, sha256_hex(data)
    else:
        raise RegistryError("TD_MODEL_BUCKET is not set and no fallback bundle URI given")
    c.set_model_version_tag(name, str(version), "bundle_uri", uri)
    c.set_model_version_tag(name, str(version), "bundle_sha256", sha)
    return {"bundle_uri": uri, "bundle_sha256": sha, "s3": bool(b)}


# --------------------------------------------------------------------------------------------
# aliases: promote / rollback / list
# --------------------------------------------------------------------------------------------


def production_version(c, name: str):
    """The ModelVersion with alias ``production``, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return c.get_model_version_by_alias(name, ALIAS)
    except MlflowException:
        return None


def history(c, name: str) -> list[str]:
    rm = c.get_registered_model(name)
    raw = (rm.tags or {}).get(HISTORY_TAG)
    if not raw:
        return []
    try:
        h = json.loads(raw)
        return [str(v) for v in h] if isinstance(h, list) else []
    except ValueError:
        return []


def _set_history(c, name: str, h: list[str]) -> None:
    h = h[-HISTORY_MAX:]
    c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(h, separators=(",", ":")))


def promote(c, name: str, version) -> dict:
    """Point ``production`` at ``version`` (which must be published) and record it."""
    version = str(version)
    mv = c.get_model_version(name, version)
    if not mv.tags.get("bundle_uri") or not mv.tags.get("bundle_sha256"):
        raise RegistryError(
            f"version {version} has no bundle_uri/bundle_sha256 tags: not published, not promoted"
        )
    cur = production_version(c, name)
    h = history(c, name)
    if cur is not None and (not h or h[-1] != str(cur.version)):
        h.append(str(cur.version))  # alias was moved outside these commands: keep it rollback-able
    if cur is None or str(cur.version) != version:
        h.append(version)
    c.set_registered_model_alias(name, ALIAS, version)
    _set_history(c, name, h)
    return {
        "previous": None if cur is None else str(cur.version),
        "production": version,
        "history": h[-HISTORY_MAX:],
    }


def rollback(c, name: str) -> dict:
    """Move ``production`` back to the version that was production before the current one."""
    cur = production_version(c, name)
    if cur is None:
        raise RegistryError(f"{name} has no {ALIAS!r} alias: nothing to roll back")
    cur_v = str(cur.version)
    h = history(c, name)
    while h and h[-1] == cur_v:
        h.pop()
    if not h:
        raise RegistryError(
            f"no earlier production version of {name} recorded (history tag {HISTORY_TAG!r})"
        )
    target = h[-1]
    c.get_model_version(name, target)  # still exists?
    c.set_registered_model_alias(name, ALIAS, target)
    _set_history(c, name, h)
    return {"previous": cur_v, "production": target, "history": h}


def list_versions(c, name: str) -> list[dict]:
    rm = c.get_registered_model(name)
    by_version: dict[str, list[str]] = {}
    for alias, v in (rm.aliases or {}).items():
        by_version.setdefault(str(v), []).append(alias)
    rows = []
    for mv in c.search_model_versions(f"name='{name}'"):
        t = mv.tags or {}
        rmse = t.get("valid_rmse_with_time")
        rows.append(
            {
                "version": str(mv.version),
                "aliases": sorted(by_version.get(str(mv.version), [])),
                "valid_rmse_with_time": float(rmse) if rmse else None,
                "valid_month": t.get("valid_month"),
                "train_month": t.get("train_month"),
                "run_id": mv.run_id,
                "bundle_uri": t.get("bundle_uri"),
                "bundle_sha256": t.get("bundle_sha256"),
                "created": mv.creation_timestamp,
            }
        )
    rows.sort(key=lambda r: int(r["version"]))
    return rows
