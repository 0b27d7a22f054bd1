"""The environment files and their loader (python/taxi_duration_ml/config.py); registry helpers without servers."""

import pytest
from model_testing import REPO

from taxi_duration_ml import config, registry


def test_env_files_contract():
    dev = config.parse_env_file(REPO / ".env.dev")
    prod = config.parse_env_file(REPO / ".env.prod")
    for env in (dev, prod):
        assert env["AWS_REGION"] == "eu-north-1"
        assert env["TD_MODEL_NAME"] == "taxi-duration"
        assert env["TD_MODEL_URI"] == "models:/taxi-duration@production"
        assert env["MLFLOW_TRACKING_URI"]
    assert dev["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert (dev["AWS_ACCESS_KEY_ID"], dev["AWS_SECRET_ACCESS_KEY"]) == ("test", "test")
    assert dev["TD_MODEL_BUCKET"] == "rll-models-dev"
    assert (dev["TD_TRIPS_STREAM"], dev["TD_PREDICTIONS_STREAM"]) == (
        "stg_taxi_trip_events",
        "stg_taxi_predictions",
    )
    assert prod["TD_MODEL_BUCKET"] == "rll-models-prod"
    assert (prod["TD_TRIPS_STREAM"], prod["TD_PREDICTIONS_STREAM"]) == (
        "prod_taxi_trip_events",
        "prod_taxi_predictions",
    )
    # prod: real AWS, credentials from the environment / IAM role only
    for k in (
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "MLFLOW_S3_ENDPOINT_URL",
    ):
        assert k not in prod


def test_load_env_does_not_override():
    environ = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9999"}
    added = config.load_env("dev", environ)
    assert environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9999"
    assert "AWS_ENDPOINT_URL" not in added
    assert environ["TD_MODEL_BUCKET"] == "rll-models-dev" and environ["TD_ENV"] == "dev"
    environ = {"TD_ENV": "prod"}
    config.load_env(None, environ)
    assert environ["TD_MODEL_BUCKET"] == "rll-models-prod"
    assert config.load_env(None, {}) == {}
    with pytest.raises(ValueError):
        config.load_env("staging", {})


def test_parse_env_file_syntax(tmp_path):
    p = tmp_path / "e"
    p.write_text("# c\n\nexport A=1\nB = 'x y'\nC=\"q\"\nD=v # trailing\n")
    assert config.parse_env_file(p) == {"A": "1", "B": "x y", "C": "q", "D": "v"}
    p.write_text("not a line\n")
    with pytest.raises(ValueError):
        config.parse_env_file(p)


def test_registry_names(monkeypatch, tmp_path):
    monkeypatch.delenv("TD_MODEL_NAME", raising=False)
    assert registry.model_name() == "taxi-duration"
    assert registry.bundle_key("taxi-duration", 7) == "taxi-duration/7/bundle.json"
    monkeypatch.setenv("TD_MODEL_NAME", "bad name")
    with pytest.raises(registry.RegistryError):
        registry.model_name()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("TAXI_CACHE_DIR", str(tmp_path))
    assert registry.tracking_uri() == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert registry.tracking_uri() == "http://127.0.0.1:5000"
