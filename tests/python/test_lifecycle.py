"""Model lifecycle against REAL servers (tests/lib/servers.py: moto_server with SigV4 checking,
an MLflow tracking server with its artifacts in that moto): train → register → publish to S3 →
promote only when better → promote / rollback; and the flow with no MLflow server at all.

Needs TAXI_DATA_DIR (real TLC months 2021-01 and 2021-02; skipped with a reason otherwise). Tiny
models (few rounds, small depth) keep the file at well under a minute of training. The Prefect
flows run in this process: Prefect's temporary local API starts once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from model_testing import REPO, frame_for_reader
from servers import LIFECYCLE_CLEARED, LIFECYCLE_KEYS, point_lifecycle_at

# Prefect's INFO lines (and its "stopping temporary server" line at exit, after pytest has closed
# the captured stream) are noise here.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

SERVER_KEYS = LIFECYCLE_KEYS
CLEARED = LIFECYCLE_CLEARED
NAME = "taxi-duration"


@pytest.fixture(scope="module")
def servers(data_dir, make_servers, tmp_path_factory):
    """moto + MLflow servers, and this process's environment pointing at them."""
    s = make_servers(auth=True, mlflow=True)
    mp = pytest.MonkeyPatch()
    point_lifecycle_at(mp, s.env, tmp_path_factory.mktemp("cache"))
    try:
        yield s.env
    finally:
        mp.undo()


def _flow(**kw):
    from taxi_duration_ml import flow

    args = dict(params={"max_depth": 4}, max_rounds=15, early_stopping_rounds=5, trials=1)
    args.update(kw)
    return flow.training_flow("2021-01", "2021-02", **args)


def _s3():
    from taxi_duration_ml import registry

    return registry.s3()


def _client():
    from taxi_duration_ml import registry

    return registry.client()


def _alias():
    from taxi_duration_ml import registry

    mv = registry.production_version(_client(), NAME)
    return None if mv is None else str(mv.version)


def _check_published(r, env):
    """S3 object at the contract key, sha256 metadata, tags, artifact: all agree."""
    from taxi_duration_ml import bundle

    v = r["version"]
    key = f"{NAME}/{v}/bundle.json"
    uri = f"s3://{env['TD_MODEL_BUCKET']}/{key}"
    assert r["bundle_uri"] == uri
    obj = _s3().get_object(Bucket=env["TD_MODEL_BUCKET"], Key=key)
    body = obj["Body"].read()
    sha = hashlib.sha256(body).hexdigest()
    assert obj["Metadata"] == {"sha256": sha}
    assert obj["ContentType"] == "application/json"
    assert r["bundle_sha256"] == sha
    mv = _client().get_model_version(NAME, v)
    assert mv.tags["bundle_uri"] == uri and mv.tags["bundle_sha256"] == sha
    assert mv.run_id == r["run_id"]
    assert float(mv.tags["valid_rmse_with_time"]) == pytest.approx(
        r["metrics"]["valid_rmse_with_time"]
    )
    # the same bytes are the run's artifact. The MLflow server proxies artifacts to
    # s3://<bucket>/mlflow-artifacts (servers.py); read the object directly, because moto 5.2.1
    # with signature checking rejects list calls whose query has a '/' (MLflow's download lists).
    run = _client().get_run(r["run_id"])
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    art_key = (
        "mlflow-artifacts/"
        + run.info.artifact_uri[len("mlflow-artifacts:/") :].strip("/")
        + "/bundle/bundle.json"
    )
    assert _s3().get_object(Bucket=env["TD_MODEL_BUCKET"], Key=art_key)["Body"].read() == body
    b = bundle.loads_bundle(body)
    assert b.model["name"] == NAME and b.model["version"] == v and b.model["run_id"] == r["run_id"]
    return body


def test_first_version_published_and_promoted(servers, real_months, tmp_path):
    from taxi_duration_ml import bundle, features as F

    r = _flow()
    assert r["version"] == "1" and r["promoted"] is True and r["previous_production"] is None
    assert r["tracking_uri"] == servers["MLFLOW_TRACKING_URI"]
    body = _check_published(r, servers)
    assert _alias() == "1"
    # the uploaded bundle, read with the reference reader, predicts exactly what the booster does
    path = tmp_path / "bundle.json"
    path.write_bytes(body)
    b = bundle.load_bundle(path)
    res = r["result"]
    _, va = real_months
    rows = va.iloc[:5000]
    for with_time in (True, False):
        want = res.model.inplace_predict(
            res.dv.transform(F.trip_dicts(rows, with_time=with_time)),
            iteration_range=(0, res.n_iterations),
        )
        got = b.predict(frame_for_reader(rows, with_time))
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    # MLflow has the params and metrics
    run = _client().get_run(r["run_id"])
    assert run.data.params["xgb_max_depth"] == "4" and run.data.params["train_month"] == "2021-01"
    assert run.data.metrics["valid_rmse_with_time"] == pytest.approx(
        res.training["metrics"]["valid_rmse_with_time"]
    )
    assert run.data.tags["promoted"] == "true"


def test_worse_version_published_not_promoted(servers):
    r = _flow(max_rounds=2)
    assert r["version"] == "2" and r["promoted"] is False and r["previous_production"] == "1"
    assert r["metrics"]["valid_rmse_with_time"] > r["production_rmse"]
    _check_published(r, servers)
    assert _alias() == "1"


def test_better_version_promoted(servers):
    r = _flow(params={"max_depth": 6}, max_rounds=40)
    assert r["version"] == "3" and r["promoted"] is True and r["previous_production"] == "1"
    assert r["metrics"]["valid_rmse_with_time"] < r["production_rmse"]
    _check_published(r, servers)
    assert _alias() == "3"


def test_search_and_no_register(servers):
    """Two candidates → nested runs; --no-register logs the run only."""
    r = _flow(params=None, max_rounds=5, trials=2, register_model=False)
    assert r["version"] is None and r["promoted"] is False
    assert len(r["trials"]) == 2
    best = min(t["valid_rmse_with_time"] for t in r["trials"])
    assert r["result"].training["metrics"]["valid_rmse_with_time"] == best
    runs = _client().search_runs(
        [_client().get_run(r["run_id"]).info.experiment_id],
        f"tags.mlflow.parentRunId = '{r['run_id']}'",
    )
    assert len(runs) == 2
    assert _alias() == "3" and len(_client().search_model_versions(f"name='{NAME}'")) == 3


def test_promote_rollback_versions_cli(servers, capsys):
    from taxi_duration_ml import __main__ as cli

    assert cli.main(["promote", "--version", "2"]) == 0
    assert _alias() == "2"
    assert cli.main(["rollback"]) == 0 and _alias() == "3"
    assert cli.main(["rollback"]) == 0 and _alias() == "1"
    capsys.readouterr()
    assert cli.main(["rollback"]) == 1 and _alias() == "1"
    assert "no earlier production version" in capsys.readouterr().err
    assert cli.main(["promote", "--version", "3"]) == 0 and _alias() == "3"
    # a version that was never published cannot be promoted
    c = _client()
    rid = c.get_model_version(NAME, "1").run_id
    mv = c.create_model_version(NAME, source=f"runs:/{rid}/bundle", run_id=rid)
    assert cli.main(["promote", "--version", str(mv.version)]) == 1 and _alias() == "3"
    c.delete_model_version(NAME, str(mv.version))
    capsys.readouterr()
    assert cli.main(["versions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [x["version"] for x in rows] == ["1", "2", "3"]
    assert [x["aliases"] for x in rows] == [[], [], ["production"]]
    for x in rows:
        assert (
            x["bundle_uri"]
            == f"s3://{servers['TD_MODEL_BUCKET']}/{NAME}/{x['version']}/bundle.json"
        )
        assert x["valid_rmse_with_time"] > 0 and x["valid_month"] == "2021-02"
    assert cli.main(["versions"]) == 0
    out = capsys.readouterr().out
    assert "production" in out and "bundle_uri" in out


def test_cli_train_with_env_dev(servers, tmp_path):
    """`taxi-duration train --env dev --local` in a fresh process: .env.dev fills what is not set
    (the test sets the server endpoints and keys, .env.dev gives the model name and the rest);
    no Prefect server: --local runs it with a temporary one."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update({k: servers[k] for k in SERVER_KEYS})
    env["TAXI_CACHE_DIR"] = str(tmp_path / "cache")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "taxi_duration_ml",
            "train",
            "--train",
            "2021-01",
            "--valid",
            "2021-02",
            "--env",
            "dev",
            "--trials",
            "1",
            "--max-rounds",
            "2",
            "--max-depth",
            "3",
            "--json",
            "--local",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-4000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    # version 4 was created and deleted above; MLflow does not reuse numbers
    assert r["version"] == "5" and r["promoted"] is False and r["previous_production"] == "3"
    assert r["bundle_uri"] == f"s3://{servers['TD_MODEL_BUCKET']}/{NAME}/5/bundle.json"
    assert _alias() == "3"


def test_flow_without_mlflow_server(data_dir, tmp_path, monkeypatch):
    """No MLFLOW_TRACKING_URI, no bucket, no Prefect server: local SQLite store in the cache dir,
    bundle_uri = the run artifact (file://)."""
    from taxi_duration_ml import bundle, registry

    for k in CLEARED:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("TAXI_CACHE_DIR", str(tmp_path / "cache"))
    r = _flow(max_rounds=3)
    assert r["tracking_uri"] == f"sqlite:///{tmp_path / 'cache' / 'mlflow' / 'mlflow.db'}"
    assert r["version"] == "1" and r["promoted"] is True
    assert r["bundle_uri"].startswith(f"file://{tmp_path}/cache/mlflow/artifacts/")
    data = registry.read_uri(r["bundle_uri"])
    assert hashlib.sha256(data).hexdigest() == r["bundle_sha256"]
    assert bundle.loads_bundle(data).model["version"] == "1"
    r2 = _flow(max_rounds=2)
    assert r2["version"] == "2" and r2["promoted"] is False
    c = registry.client()
    assert str(registry.production_version(c, NAME).version) == "1"
