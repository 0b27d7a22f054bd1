"""Retry policy of the Prefect tasks that touch the network (docs/model-lifecycle.md, "Retries").

Every task that talks to the TLC download, S3, MLflow or PostgreSQL is declared with
``**network_retries()``:

* ``retries`` = ``$TD_TASK_RETRIES`` (default 3) more attempts after the first;
* ``retry_delay_seconds`` = exponential backoff from ``$TD_RETRY_BACKOFF_SECONDS`` (default 10):
  10 s, 20 s, 40 s, ... (Prefect's :func:`prefect.tasks.exponential_backoff`);
* ``retry_jitter_factor`` = 0.5: each delay is drawn around its value, at most 1.5 times it, so
  that runs failing together do not retry together;
* ``retry_condition_fn`` = :func:`retry_if_transient`: only an error that a later attempt can
  cure is retried (:func:`is_transient`: refused or reset connections, timeouts, HTTP 408/425/429
  and 5xx, S3 throttling, a PostgreSQL server that is down or restarting). Anything else — a bad
  month, a missing bucket or object, denied credentials, an MLflow 4xx, a bug — fails the task at
  once.

The two variables are read when the module declaring the tasks is imported (once per process;
a served deployment imports it afresh in each flow run's process). The clients keep their own
retries of single requests (boto3: ``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE``; MLflow:
``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, ``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``); Prefect's retries
come on top of them and repeat the whole task, which is why every retried task is idempotent.
"""

from __future__ import annotations

import os
import sys

DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 10.0
JITTER_FACTOR = 0.5

# HTTP statuses worth another attempt: timeout, too early, too many requests, server errors
RETRY_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# S3 error codes of throttling and transient server trouble (status aside)
S3_TRANSIENT_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "InternalError",
        "ServiceUnavailable",
        "PriorRequestNotComplete",
    }
)
# PostgreSQL errors a retry cannot cure although they are OperationalErrors: authentication,
# authorization, a database that does not exist
_PG_PERMANENT_SQLSTATE_PREFIXES = ("28", "3D")
_PG_PERMANENT_MESSAGES = (
    "authentication failed",
    "no pg_hba.conf entry",
    "does not exist",
    "permission denied",
    "invalid connection option",
    "invalid port number",
    "invalid sslmode value",
    "invalid integer value",
)


def _env_number(name: str, default, kind):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: not a number") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r}: must be >= 0")
    return value


def retries() -> int:
    """``$TD_TASK_RETRIES`` (default 3): attempts after the first."""
    return _env_number("TD_TASK_RETRIES", DEFAULT_RETRIES, int)


def backoff_seconds() -> float:
    """``$TD_RETRY_BACKOFF_SECONDS`` (default 10): the first delay; each next one doubles."""
    return _env_number("TD_RETRY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS, float)


def network_retries() -> dict:
    """Task options of a task that touches the network (see the module docstring)."""
    from prefect.tasks import exponential_backoff

    n = retries()
    return {
        "retries": n,
        "retry_delay_seconds": exponential_backoff(backoff_seconds())(n) if n else 0,
        "retry_jitter_factor": JITTER_FACTOR,
        "retry_condition_fn": retry_if_transient,
    }


# --------------------------------------------------------------------------------------------
# which errors are transient
# --------------------------------------------------------------------------------------------


def _loaded(module: str):
    """A module only if something already imported it (a botocore error implies botocore)."""
    return sys.modules.get(module)


def _classify(exc: BaseException) -> bool | None:
    """True: transient; False: permanent; None: this exception does not say (look at its cause)."""
    import http.client
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in RETRY_HTTP_STATUS
    if isinstance(exc, urllib.error.URLError):
        # refused, reset, timed out, name resolution failed: the URL itself came from code
        return True
    if isinstance(exc, http.client.HTTPException):  # IncompleteRead, RemoteDisconnected
        return True

    bex = _loaded("botocore.exceptions")
    if bex is not None:
        if isinstance(exc, bex.ClientError):
            resp = getattr(exc, "response", None) or {}
            code = (resp.get("Error") or {}).get("Code", "")
            status = (resp.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            return code in S3_TRANSIENT_CODES or status in RETRY_HTTP_STATUS
        if isinstance(exc, (bex.ConnectionError, bex.HTTPClientError, bex.IncompleteReadError)):
            return True
        if isinstance(exc, bex.BotoCoreError):  # no credentials, bad parameters, no region
            return False

    mex = _loaded("mlflow.exceptions")
    if mex is not None and isinstance(exc, mex.MlflowException):
        try:
            status = exc.get_http_status_code()
        except Exception:  # noqa: BLE001 - an unknown error code
            status = None
        if isinstance(exc, mex.RestException) or str(exc.message).startswith("API request to"):
            # the server answered (or the request failed): its status decides, unless the
            # failure underneath says more (a refused connection wrapped as "API request failed")
            if status in RETRY_HTTP_STATUS and exc.__context__ is None:
                return True
            if isinstance(exc, mex.RestException):
                return status in RETRY_HTTP_STATUS
        return None  # client-side: decided by what caused it, if anything

    rex = _loaded("requests.exceptions")
    if rex is not None and isinstance(exc, rex.RequestException):
        if isinstance(exc, (rex.ConnectionError, rex.Timeout, rex.ChunkedEncodingError)):
            return True
        if isinstance(exc, rex.RetryError):  # the client's own retries ran out on 429/5xx
            return True
        if isinstance(exc, rex.HTTPError) and exc.response is not None:
            return exc.response.status_code in RETRY_HTTP_STATUS
        return False  # invalid URL, missing schema, ...

    u3 = _loaded("urllib3.exceptions")
    if u3 is not None and isinstance(
        exc, (u3.MaxRetryError, u3.NewConnectionError, u3.ProtocolError, u3.TimeoutError)
    ):
        return True

    pg = _loaded("psycopg")
    if pg is not None and isinstance(exc, pg.Error):
        if not isinstance(exc, pg.OperationalError):
            return False
        state = getattr(exc, "sqlstate", None) or ""
        if state.startswith(_PG_PERMANENT_SQLSTATE_PREFIXES):
            return False
        text = str(exc).lower()
        return not any(m in text for m in _PG_PERMANENT_MESSAGES)

    if isinstance(exc, (ConnectionError, TimeoutError)):  # refused, reset, broken pipe, timeout
        return True
    return None


def is_transient(exc: BaseException | None) -> bool:
    """Whether another attempt may succeed: the first exception in ``exc``'s chain (itself, then
    what caused it) that says either way decides; an error nothing recognises is permanent."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        verdict = _classify(exc)
        if verdict is not None:
            return verdict
        exc = exc.__cause__ or exc.__context__
    return False


def failure_exception(state) -> BaseException | None:
    """The exception behind a Failed Prefect state."""
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    try:
        res = state.result(raise_on_failure=False)
    except BaseException as e:  # noqa: BLE001 - the result itself raises it
        return e
    return res if isinstance(res, BaseException) else None


def retry_if_transient(task, task_run, state) -> bool:
    """Prefect ``retry_condition_fn``: retry only when the failure is transient."""
    return is_transient(failure_exception(state))
