"""Retries of the network tasks under REAL faults, reported to a REAL Prefect server.

moto (S3) and an MLflow server (tests/lib/servers.py) are stopped while a task of the training
flow runs; the task's own retry condition (taxi_duration_ml.retries, wrapped here only to watch
its verdicts) restarts the stopped server between the attempts, and the next attempt succeeds.
A permanent failure (a missing S3 object, a bad month, a bad DSN option) fails at its first
attempt, and a fault that never ends stops after the configured retries. The Prefect server
(prefect server start, its own SQLite database) records each task run's attempts and states.

The policy is the production one (``retries.network_retries()``) with TD_TASK_RETRIES=2 and
TD_RETRY_BACKOFF_SECONDS=1 (delays 1 s, 2 s, jittered up to 1.5 times). boto3 and MLflow are
told not to retry single requests themselves (AWS_MAX_ATTEMPTS=1,
MLFLOW_HTTP_REQUEST_MAX_RETRIES=0), so that every attempt seen is Prefect's. Under a minute.
"""

from __future__ import annotations

import time

import pytest
from servers import LIFECYCLE_CLEARED, LIFECYCLE_KEYS, point_lifecycle_at

NAME = "retry-model"
CLEARED = LIFECYCLE_CLEARED
SERVER_KEYS = LIFECYCLE_KEYS


@pytest.fixture(scope="module")
def servers(make_servers, prefect_server, tmp_path_factory):
    """moto + MLflow (no signature checking: a restarted moto keeps the same keys), this
    process's environment pointing at them, and its Prefect client at the Prefect server."""
    s = make_servers(auth=False, mlflow=True)
    mp = pytest.MonkeyPatch()
    point_lifecycle_at(mp, s.env, tmp_path_factory.mktemp("cache"))
    mp.setenv("AWS_MAX_ATTEMPTS", "1")
    mp.setenv("AWS_RETRY_MODE", "standard")
    mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mp.setenv("TD_TASK_RETRIES", "2")
    mp.setenv("TD_RETRY_BACKOFF_SECONDS", "1")
    try:
        with prefect_server.settings():
            yield s
    finally:
        mp.undo()


def watched_policy(calls: list, between_attempts=None) -> dict:
    """The production retry options, with the condition wrapped to record each verdict and to
    end the fault (``between_attempts``) when it decides to retry."""
    from taxi_duration_ml import retries as RT

    opts = RT.network_retries()
    decide = opts["retry_condition_fn"]

    def condition(task, task_run, state):
        verdict = decide(task, task_run, state)
        calls.append(
            {"error": RT.failure_exception(state), "retry": verdict, "at": time.monotonic()}
        )
        if verdict and between_attempts is not None:
            between_attempts()
        return verdict

    opts["retry_condition_fn"] = condition
    return opts


def in_flow(fn):
    """Run fn() in a flow; its final State (the flow run is recorded by the Prefect server)."""
    from prefect import flow

    @flow(name="retries-under-faults", validate_parameters=False)
    def retries_under_faults():
        return fn()

    t0 = time.monotonic()
    state = retries_under_faults(return_state=True)
    return state, time.monotonic() - t0


def recorded_task_run(state, task_name: str, timeout: float = 20.0):
    """The flow run's task run of that task as the Prefect server has it, once final; with its
    state history."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    flow_run_id = state.state_details.flow_run_id
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = [
                t
                for t in client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
                )
                if t.name.startswith(task_name)
            ]
            if runs and runs[0].state is not None and runs[0].state.is_final():
                history = [s.name for s in client.read_task_run_states(runs[0].id)]
                return runs[0], history
            if time.monotonic() > deadline:
                raise AssertionError(f"task run {task_name} not final on the server: {runs}")
            time.sleep(0.5)


def published(servers, body: bytes, version: str) -> dict:
    from taxi_duration_ml import registry as R

    uri, sha = R.upload_bundle(body, NAME, version, servers.env["TD_MODEL_BUCKET"])
    return {"version": version, "tags": {"bundle_uri": uri, "bundle_sha256": sha}}


def test_s3_read_retried_until_moto_is_back(servers, note):
    from taxi_duration_ml import flow as F, registry as R

    body = b'{"bundle": "v1"}'
    prod = published(servers, body, "1")
    servers.stop_moto()

    def moto_back():  # same port; a fresh moto: the bucket and the object are put back
        servers.start_moto()
        R.upload_bundle(body, NAME, "1", servers.env["TD_MODEL_BUCKET"])

    calls: list = []
    task = F.read_production_bundle.with_options(**watched_policy(calls, moto_back))
    state, seconds = in_flow(lambda: task(prod))
    assert state.is_completed(), state
    assert state.result() == body
    assert [c["retry"] for c in calls] == [True]
    assert type(calls[0]["error"]).__name__ == "EndpointConnectionError", calls
    run, history = recorded_task_run(state, "read-production-bundle")
    assert run.run_count == 2 and run.state.is_completed(), (run.run_count, history)
    assert "AwaitingRetry" in history, history
    note(f"retries: S3 read failed (moto stopped), retried once, completed in {seconds:.1f} s")


def test_mlflow_registry_retried_across_a_server_restart(servers, note):
    from taxi_duration_ml import flow as F, registry as R

    c = R.client()
    run_id = c.create_run(R.ensure_experiment(c)).info.run_id
    servers.stop_mlflow()
    calls: list = []
    task = F.register_version.with_options(**watched_policy(calls, servers.start_mlflow))
    state, seconds = in_flow(lambda: task(run_id, NAME, {"train_month": "2021-01"}, "retried"))
    assert state.is_completed(), state
    version = state.result()
    assert [c["retry"] for c in calls] == [True]
    assert type(calls[0]["error"]).__name__ == "MlflowException", calls
    assert "Connection refused" in str(calls[0]["error"]) or "Max retries" in str(calls[0]["error"])
    run, history = recorded_task_run(state, "register-version")
    assert run.run_count == 2 and "AwaitingRetry" in history, history
    # idempotent: the same run again finds its version instead of registering another one
    again, _ = in_flow(lambda: F.register_version(run_id, NAME, {}, "again"))
    assert again.result() == version
    assert [v.version for v in R.client().search_model_versions(f"name='{NAME}'")] == [version]
    note(f"retries: MLflow registry refused (server stopped), retried once, {seconds:.1f} s")


@pytest.mark.parametrize(
    "what",
    ["missing S3 object", "bad month", "bad DSN option"],
)
def test_permanent_failure_is_not_retried(servers, what):
    from taxi_duration_ml import flow as F, monitor_flow as MF

    calls: list = []
    if what == "missing S3 object":
        prod = published(servers, b"{}", "7")
        prod["tags"]["bundle_uri"] = prod["tags"]["bundle_uri"].replace("/7/", "/8/")
        task = F.read_production_bundle.with_options(**watched_policy(calls))
        name, call, error = "read-production-bundle", lambda: task(prod), "NoSuchKey"
    elif what == "bad month":
        task = F.load_month.with_options(**watched_policy(calls))
        name, call, error = "load-month", lambda: task("2021-13"), "ValueError"
    else:
        task = MF.alert_watermark.with_options(**watched_policy(calls))
        name, call, error = "alert-watermark", lambda: task("no_such_option=1"), "ProgrammingError"
    state, seconds = in_flow(call)
    assert state.is_failed(), state
    assert [c["retry"] for c in calls] == [False], calls
    assert type(calls[0]["error"]).__name__ == error, calls
    assert seconds < 5, f"failed at once, not after a backoff: {seconds:.1f} s"
    run, history = recorded_task_run(state, name)
    assert run.run_count == 1 and "AwaitingRetry" not in history, history


def test_fault_that_never_ends_stops_after_the_retries(servers, note):
    from taxi_duration_ml import flow as F

    prod = published(servers, b"{}", "9")
    servers.stop_moto()
    calls: list = []
    try:
        task = F.read_production_bundle.with_options(**watched_policy(calls))
        state, seconds = in_flow(lambda: task(prod))
    finally:
        servers.start_moto()
    assert state.is_failed(), state
    # TD_TASK_RETRIES=2: three attempts, two retry decisions, then Failed
    assert [c["retry"] for c in calls] == [True, True], calls
    # between the two decisions: the first delay, 1 s jittered into [0.63, 1.5] s, and an attempt
    gap = calls[1]["at"] - calls[0]["at"]
    assert 0.6 <= gap <= 3.5, f"first delay about 1 s: {gap:.2f} s"
    run, history = recorded_task_run(state, "read-production-bundle")
    assert run.run_count == 3 and history.count("AwaitingRetry") == 2, (run.run_count, history)
    assert history[-1] == "Failed", history
    assert seconds < 20, seconds
    note(f"retries: moto down throughout: 3 attempts, gave up after {seconds:.1f} s")
