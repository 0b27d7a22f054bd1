"""Security review of serving (issue 10, items 3-5), on throwaway clusters (tests/conftest.py).

3. No lock is held across the network: while one session fetches the configured model from a
   server that never answers, the sessions waiting for it honour statement_timeout,
   pg_cancel_backend and termination; a FIFO as model_uri fails at once; the loader worker's
   retry path keeps the same worker alive.
4. file:// URIs through ALTER SYSTEM and load_model(): the pg_read_server_files rule.
5. What ordinary roles see: no server path or superuser-only setting in errors, model_info()
   or model_loads; no credentials in, and no PUBLIC view of, taxi_duration.mlflow_tracking_uri;
   the loader worker's search_path is pinned.

Run: python3 -m pytest -q tests/security (pg_config on PATH names the installation to test).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from td_cluster import give_to_postgres, wait_until

REPO = Path(__file__).resolve().parents[2]
PREDICT = "SELECT taxi_duration.predict_duration(130, 205, 3.66)"
LOADER = "taxi_duration model loader"


# -- helpers ----------------------------------------------------------------------------------


class NeverAnsweringServer:
    """Fault injector: a TCP listener that accepts connections and never answers.

    No real component hangs on demand, so this stands in for a registry that stopped
    responding (a stuck load balancer, a half-open connection)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # kept open, never read from or written to

    def close(self):
        self.closed = True
        for s in [self.sock, *self.held]:
            s.close()


class Call:
    """One statement running in a thread, so that the test can watch it from outside."""

    def __init__(self, conn: psycopg.Connection, query: str, params=None):
        self.conn = conn
        self.pid = conn.info.backend_pid
        self.error: BaseException | None = None
        self.rows = None
        self.done = threading.Event()
        threading.Thread(target=self._run, args=(query, params), daemon=True).start()

    def _run(self, query, params):
        try:
            self.rows = self.conn.execute(query, params).fetchall()
        except BaseException as e:  # noqa: BLE001 - reported by wait()
            self.error = e
        finally:
            self.done.set()

    def wait(self, seconds: float, what: str) -> BaseException | None:
        assert self.done.wait(seconds), f"{what}: still running after {seconds} s"
        return self.error


def activity(cluster, pid: int):
    rows = cluster.sql(
        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", (pid,)
    )
    return rows[0] if rows else None


def is_fetching(cluster, pid: int) -> bool:
    """Running its statement and not waiting on anything PostgreSQL knows of: in the fetch."""
    a = activity(cluster, pid)
    return a is not None and a[0] == "active" and a[1] is None


def is_waiting(cluster, pid: int):
    """Running its statement and waiting (on the loader, if all is well): the wait event."""
    a = activity(cluster, pid)
    return a is not None and a[0] == "active" and a[1] is not None and (a[1], a[2])


def session(cluster, **settings) -> psycopg.Connection:
    conn = cluster.connect()
    for name, value in settings.items():
        conn.execute(f"SET {name} = '{value}'")
    return conn


def sqlstate(err: BaseException | None) -> str | None:
    return getattr(err, "sqlstate", None)


def client_text(err: psycopg.Error) -> str:
    """Everything of an error that reaches the client."""
    d = err.diag
    return " | ".join(
        str(x) for x in (d.message_primary, d.message_detail, d.message_hint, d.context) if x
    )


def private_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="td_sec_files_"))
    os.chmod(d, 0o755)
    give_to_postgres(d)
    return d


def record_a_failed_load(cluster) -> None:
    """Fail a load_model() of the configured model, as postgres, and wait for its row in
    model_loads (the worker's own start-up failure came before CREATE EXTENSION)."""
    with cluster.connect() as conn, pytest.raises(psycopg.Error):
        conn.execute("SELECT taxi_duration.load_model()")
    wait_until(
        lambda: cluster.sql(
            "SELECT count(*) FROM taxi_duration.model_loads WHERE outcome = 'failed'"
        )[0][0],
        20,
        "the failed load recorded",
    )


# -- 3. no lock held across I/O ---------------------------------------------------------------


@pytest.fixture
def hung_registry():
    server = NeverAnsweringServer()
    yield server
    server.close()


def test_waiters_honour_timeout_cancel_and_termination(make_cluster, hung_registry):
    c = make_cluster(
        [
            "taxi_duration.model_uri = 'models:/taxi-duration@production'",
            f"taxi_duration.mlflow_tracking_uri = 'http://127.0.0.1:{hung_registry.port}'",
            "taxi_duration.fetch_timeout = 60",
            "taxi_duration.poll_interval = 0",
        ]
    )
    # every session may retry at once: only the loading protocol decides who loads
    retry_now = {"taxi_duration.load_retry_interval": "0"}

    # A becomes the loader and blocks in the fetch (the registry never answers)
    a = Call(session(c, **retry_now), PREDICT)
    wait_until(lambda: is_fetching(c, a.pid), 10, "session A fetching")
    time.sleep(0.5)
    assert not a.done.is_set() and is_fetching(c, a.pid)

    # B waits for A with statement_timeout = 2s: it must time out while A still waits
    b = Call(session(c, statement_timeout="2s", **retry_now), PREDICT)
    waited_on = wait_until(lambda: is_waiting(c, b.pid), 5, "session B waiting for the loader")
    assert waited_on[0] != "LWLock", f"B waits on an LWLock held across I/O: {waited_on}"
    err = b.wait(15, "B with statement_timeout = 2s")
    assert sqlstate(err) == "57014", err
    assert "statement timeout" in str(err)
    assert is_fetching(c, a.pid) and not a.done.is_set(), "A should still be loading"

    # a third waiter, cancelled, returns promptly
    w = Call(session(c, **retry_now), PREDICT)
    wait_until(lambda: is_waiting(c, w.pid), 5, "third session waiting")
    c.sql("SELECT pg_cancel_backend(%s)", (w.pid,))
    assert sqlstate(w.wait(5, "cancelled waiter")) == "57014"
    assert is_fetching(c, a.pid), "A should still be loading"

    # the loader itself, cancelled, returns promptly
    c.sql("SELECT pg_cancel_backend(%s)", (a.pid,))
    assert sqlstate(a.wait(5, "cancelled loader")) == "57014"

    # terminating the loader does not leave its waiters stuck: one of them loads next
    a2 = Call(session(c, **retry_now), PREDICT)
    wait_until(lambda: is_fetching(c, a2.pid), 5, "second loader fetching")
    w2 = Call(session(c, **retry_now), PREDICT)
    wait_until(lambda: is_waiting(c, w2.pid), 5, "waiter of the second loader")
    c.sql("SELECT pg_terminate_backend(%s)", (a2.pid,))
    assert a2.wait(5, "terminated loader") is not None
    wait_until(lambda: is_fetching(c, w2.pid), 5, "the waiter taking over the load")
    c.sql("SELECT pg_cancel_backend(%s)", (w2.pid,))
    assert sqlstate(w2.wait(5, "cancelled second waiter")) == "57014"

    # and a later call becomes the loader
    p = Call(session(c, **retry_now), PREDICT)
    wait_until(lambda: is_fetching(c, p.pid), 5, "a later call loading")
    c.sql("SELECT pg_cancel_backend(%s)", (p.pid,))
    assert sqlstate(p.wait(5, "cancelled later loader")) == "57014"
    assert "is not held" not in c.log_text()


def test_burst_of_first_calls_loads_once(make_cluster):
    """The protocol still does its job: many first calls, one load, every call served."""
    d = private_dir()
    bundle = d / "small.json"
    try:
        c = make_cluster(
            [
                f"taxi_duration.model_uri = 'file://{bundle}'",
                "taxi_duration.load_retry_interval = 3600",
                "taxi_duration.poll_interval = 0",
            ]
        )
        record_a_failed_load(c)  # the file is not there yet: nothing is served
        shutil.copy(REPO / "tests/fixtures/bundles/small_xgb.json", bundle)
        give_to_postgres(bundle)
        calls = [
            Call(session(c, **{"taxi_duration.load_retry_interval": "0"}), PREDICT)
            for _ in range(8)
        ]
        for call in calls:
            assert call.wait(20, "a first call") is None, call.error
        assert len({call.rows[0][0] for call in calls}) == 1
        wait_until(
            lambda: c.sql(
                "SELECT count(*) FROM taxi_duration.model_loads WHERE outcome = 'loaded'"
            )[0][0],
            10,
            "the load recorded",
        )
        loads = c.sql("SELECT trigger FROM taxi_duration.model_loads WHERE outcome = 'loaded'")
        assert loads == [("first use",)], loads
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_fifo_model_uri_fails_promptly(make_cluster):
    d = private_dir()
    fifo = d / "bundle.json"
    os.mkfifo(fifo)
    give_to_postgres(fifo)
    try:
        c = make_cluster(
            [
                f"taxi_duration.model_uri = 'file://{fifo}'",
                "taxi_duration.load_retry_interval = 3600",
                "taxi_duration.poll_interval = 0",
            ]
        )
        # the first call: the worker's failure (or its own load) explains it, at once
        first = Call(session(c), PREDICT)
        err = first.wait(10, "predict with a FIFO as model_uri")
        assert sqlstate(err) in ("55000", "22023"), err
        assert "not a regular file" in client_text(err) and "FIFO" in client_text(err)
        # its own attempt, with the retry interval out of the way
        again = Call(session(c, **{"taxi_duration.load_retry_interval": "0"}), PREDICT)
        err = again.wait(10, "predict retrying the FIFO")
        assert sqlstate(err) == "22023", err
        assert err.diag.message_primary == "model bundle is not a regular file"
        assert "FIFO" in (err.diag.message_detail or "")
        loaded = Call(session(c), "SELECT taxi_duration.load_model(%s)", (f"file://{fifo}",))
        assert sqlstate(loaded.wait(10, "load_model of a FIFO")) == "22023"
        # the worker is alive and not stuck in open()
        assert (
            c.sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = %s", (LOADER,))[0][0]
            == 1
        )
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_worker_retry_path_keeps_the_worker(make_cluster):
    c = make_cluster(
        [
            "taxi_duration.model_uri = 'file:///nonexistent/td-security/bundle.json'",
            "taxi_duration.load_retry_interval = 1",
            "taxi_duration.poll_interval = 0",
        ]
    )

    def worker_pid():
        rows = c.sql("SELECT pid FROM pg_stat_activity WHERE backend_type = %s", (LOADER,))
        return rows[0][0] if rows else None

    pid = wait_until(worker_pid, 10, "the loader worker")

    def failures():
        rows = c.sql(
            "SELECT pid FROM taxi_duration.model_loads WHERE outcome = 'failed' AND role IS NULL"
        )
        return len(rows) >= 4 and rows

    rows = wait_until(failures, 20, "four failed automatic loads recorded")
    assert {r[0] for r in rows} == {pid}, f"the worker restarted: pids {rows}, first {pid}"
    assert worker_pid() == pid
    log = c.log_text()
    assert "is not held" not in log
    assert "exited with exit code" not in log


# -- 4. file:// through ALTER SYSTEM and load_model() -----------------------------------------


@pytest.fixture(scope="module")
def files_cluster(make_module_cluster):
    c = make_module_cluster(["taxi_duration.poll_interval = 0"])
    wait_until(
        lambda: c.sql("SELECT generation FROM taxi_duration.model_info()")[0][0],
        20,
        "the default bundle served",
    )
    d = private_dir()
    small = d / "small.json"
    shutil.copy(REPO / "tests/fixtures/bundles/small_xgb.json", small)
    give_to_postgres(small)
    c.default_uri = c.sql("SELECT source FROM taxi_duration.model_info()")[0][0]
    c.small_uri = f"file://{small}"
    yield c
    shutil.rmtree(d, ignore_errors=True)


def alter_model_uri(cluster, role: str | None, value: str | None) -> None:
    with cluster.connect() as conn:
        if role:
            conn.execute(f'SET ROLE "{role}"')
        if value is None:
            conn.execute("ALTER SYSTEM RESET taxi_duration.model_uri")
        else:
            conn.execute(f"ALTER SYSTEM SET taxi_duration.model_uri = '{value}'")


def load_configured(cluster, role: str):
    with cluster.connect() as conn:
        conn.execute(f'SET ROLE "{role}"')
        return conn.execute(
            "SELECT model_version, source FROM taxi_duration.load_model()"
        ).fetchone()


def configure(cluster, value: str | None) -> None:
    alter_model_uri(cluster, None, value)
    cluster.reload()
    want = value or ""
    wait_until(lambda: cluster.sql("SHOW taxi_duration.model_uri")[0][0] == want, 5, "reload")


def test_alter_system_file_uri_needs_pg_read_server_files(files_cluster):
    c = files_cluster
    admin = c.fresh_role("taxi_duration_admin")
    try:
        for uri in ("file:///etc/passwd", c.small_uri, "file://localhost/etc/passwd"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
                alter_model_uri(c, admin, uri)
            assert "pg_read_server_files" in (err.value.diag.message_detail or "")
        assert (
            c.sql("SELECT count(*) FROM pg_file_settings WHERE name = 'taxi_duration.model_uri'")[
                0
            ][0]
            == 0
        )
    finally:
        configure(c, None)


def test_alter_system_file_uri_with_pg_read_server_files(files_cluster):
    c = files_cluster
    admin = c.fresh_role("taxi_duration_admin", "pg_read_server_files")
    try:
        alter_model_uri(c, admin, c.small_uri)
        c.reload()
        wait_until(
            lambda: (
                c.sql("SELECT model_version FROM taxi_duration.model_info()")[0][0] == "test-small"
            ),
            10,
            "the worker serving the file the admin configured",
        )
        assert load_configured(c, admin)[0] == "test-small"
    finally:
        configure(c, None)


def test_load_model_without_argument_checks_the_configured_file(files_cluster):
    c = files_cluster
    admin = c.fresh_role("taxi_duration_admin")
    admin_files = c.fresh_role("taxi_duration_admin", "pg_read_server_files")
    try:
        configure(c, "file:///etc/passwd")  # a superuser may
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            load_configured(c, admin)
        configure(c, c.small_uri)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            load_configured(c, admin)
        assert load_configured(c, admin_files)[0] == "test-small"
    finally:
        configure(c, None)


def test_default_bundle_and_other_schemes_stay_allowed(files_cluster):
    c = files_cluster
    admin = c.fresh_role("taxi_duration_admin")
    try:
        alter_model_uri(c, admin, c.default_uri)
        c.reload()
        wait_until(
            lambda: c.sql("SHOW taxi_duration.model_uri")[0][0] == c.default_uri, 5, "reload"
        )
        assert load_configured(c, admin)[1] == c.default_uri
        with c.connect() as conn:
            conn.execute(f'SET ROLE "{admin}"')
            conn.execute("SELECT taxi_duration.load_model(%s)", (c.default_uri,))
        alter_model_uri(c, admin, "")
        alter_model_uri(c, admin, None)
        alter_model_uri(c, admin, "s3://rll-models-dev/taxi-duration/1/bundle.json")
        alter_model_uri(c, admin, "models:/taxi-duration@production")
        alter_model_uri(c, admin, None)
        assert load_configured(c, admin)[1] == c.default_uri
    finally:
        configure(c, None)


# -- 5. what ordinary roles see -----------------------------------------------------------------


def test_mlflow_tracking_uri_is_superuser_only_and_refuses_credentials(make_cluster):
    c = make_cluster(["taxi_duration.mlflow_tracking_uri = 'http://127.0.0.1:1/mlflow'"])
    reader = c.fresh_role()
    settings_reader = c.fresh_role("pg_read_all_settings")
    with c.connect(user=reader) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SHOW taxi_duration.mlflow_tracking_uri")
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_settings WHERE name = 'taxi_duration.mlflow_tracking_uri'"
            ).fetchone()[0]
            == 0
        )
    with c.connect(user=settings_reader) as conn:
        assert (
            conn.execute("SHOW taxi_duration.mlflow_tracking_uri").fetchone()[0].endswith("/mlflow")
        )
    secret = "pa55-" + os.urandom(6).hex()
    for setting in ("mlflow_tracking_uri", "aws_endpoint_url", "model_uri"):
        with c.connect() as conn, pytest.raises(psycopg.errors.InvalidParameterValue) as err:
            conn.execute(
                f"ALTER SYSTEM SET taxi_duration.{setting} = 'http://alice:{secret}@127.0.0.1:1/'"
                if setting != "model_uri"
                else f"ALTER SYSTEM SET taxi_duration.{setting} = 's3://alice:{secret}@bucket/key'"
            )
        assert "must not contain credentials" in err.value.diag.message_primary
        assert secret not in client_text(err.value)
    with c.connect() as conn, pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute(f"SET taxi_duration.mlflow_tracking_uri = 'http://alice:{secret}@h/'")
    # the refused statements are not logged (log_min_error_statement would log a failed
    # statement's text), nor is the value
    assert secret not in c.log_text()
    # and through the configuration file: refused at reload, and never logged
    file_secret = "pa55-" + os.urandom(6).hex()
    with open(c.data / "postgresql.auto.conf", "a") as f:
        f.write(
            f"taxi_duration.mlflow_tracking_uri = 'https://bob:{file_secret}@mlflow.example/'\n"
        )
    c.reload()
    wait_until(lambda: "must not contain credentials" in c.log_text(), 5, "the reload refused")
    assert c.sql("SHOW taxi_duration.mlflow_tracking_uri")[0][0].endswith("/mlflow")
    assert file_secret not in c.log_text()


@pytest.fixture(scope="module")
def missing_file_cluster(make_module_cluster):
    """The configured model is a file that does not exist; failures stay for an hour."""
    d = private_dir()
    path = d / "hidden-dir-7f3a" / "bundle.json"
    c = make_module_cluster(
        [
            f"taxi_duration.model_uri = 'file://{path}'",
            "taxi_duration.load_retry_interval = 3600",
            "taxi_duration.poll_interval = 0",
        ]
    )
    c.secret_path = "hidden-dir-7f3a"
    record_a_failed_load(c)
    yield c
    shutil.rmtree(d, ignore_errors=True)


def test_ordinary_roles_see_no_server_paths(missing_file_cluster):
    c = missing_file_cluster
    reader = c.fresh_role()
    with c.connect(user=reader) as conn:
        last_error = conn.execute("SELECT last_error FROM taxi_duration.model_info()").fetchone()[0]
        assert last_error and "could not open model bundle" in last_error
        assert c.secret_path not in last_error and "/" not in last_error
        messages = conn.execute(
            "SELECT source IS NOT NULL, message FROM taxi_duration.model_loads"
        ).fetchall()
        assert messages and all(c.secret_path not in (m or "") for _, m in messages)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT detail FROM taxi_duration.model_loads")
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as err:
            conn.execute(PREDICT)
        assert c.secret_path not in client_text(err.value), client_text(err.value)
        assert "could not open model bundle" in (err.value.diag.message_detail or "")


def test_privileged_roles_see_the_full_story(missing_file_cluster):
    c = missing_file_cluster
    for member_of in (("taxi_duration_admin",), ("pg_read_all_settings",), ()):
        role = c.fresh_role(*member_of, superuser=not member_of)
        with c.connect(user=role) as conn:
            last_error = conn.execute(
                "SELECT last_error FROM taxi_duration.model_info()"
            ).fetchone()[0]
            assert c.secret_path in last_error, (member_of, last_error)
            details = conn.execute(
                "SELECT detail FROM taxi_duration.model_loads WHERE outcome = 'failed'"
            ).fetchall()
            assert any(c.secret_path in (d or "") for (d,) in details), (member_of, details)
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as err:
                conn.execute(PREDICT)
            assert c.secret_path in (err.value.diag.message_detail or ""), member_of


def test_ordinary_roles_loading_themselves_see_no_paths(make_cluster):
    d = private_dir()
    c = make_cluster(
        [
            f"taxi_duration.model_uri = 'file://{d}/hidden-dir-7f3a/bundle.json'",
            "taxi_duration.load_retry_interval = 0",
            "taxi_duration.poll_interval = 0",
        ]
    )
    reader = c.fresh_role()
    try:
        with c.connect(user=reader) as conn, pytest.raises(psycopg.Error) as err:
            conn.execute(PREDICT)
        text = client_text(err.value)
        assert "hidden-dir-7f3a" not in text and str(d) not in text, text
        assert "model bundle" in text
        # the server log keeps the whole story
        assert "hidden-dir-7f3a" in c.log_text()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_credentials_file_path_is_never_shown(make_cluster):
    d = private_dir()
    creds = d / "creds-path-5b1e"
    c = make_cluster(
        [
            "taxi_duration.model_uri = 's3://rll-models-dev/taxi-duration/1/bundle.json'",
            "taxi_duration.aws_region = 'eu-north-1'",
            "taxi_duration.aws_endpoint_url = 'http://127.0.0.1:1'",
            f"taxi_duration.aws_shared_credentials_file = '{creds}'",
            "taxi_duration.load_retry_interval = 3600",
            "taxi_duration.poll_interval = 0",
        ]
    )
    try:
        record_a_failed_load(c)
        for role in (c.fresh_role(), c.fresh_role("taxi_duration_admin")):
            with c.connect(user=role) as conn:
                last_error = conn.execute(
                    "SELECT last_error FROM taxi_duration.model_info()"
                ).fetchone()[0]
                assert "AWS credentials file" in last_error and "creds-path" not in last_error
                rows = conn.execute(
                    "SELECT message, source FROM taxi_duration.model_loads"
                ).fetchall()
                assert rows and all("creds-path" not in (m or "") for m, _ in rows), rows
                with pytest.raises(psycopg.Error) as err:
                    conn.execute(PREDICT)
                assert "creds-path" not in client_text(err.value), client_text(err.value)
        with c.connect() as conn:
            details = conn.execute(
                "SELECT coalesce(detail, '') FROM taxi_duration.model_loads"
            ).fetchall()
            assert all("creds-path" not in d for (d,) in details), details
        # a load by a superuser: the path is in the server log only
        with c.connect() as conn, pytest.raises(psycopg.Error) as err:
            conn.execute(
                "SELECT taxi_duration.load_model('s3://rll-models-dev/taxi-duration/1/bundle.json')"
            )
        assert "creds-path" not in client_text(err.value)
        assert "creds-path-5b1e" in c.log_text()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_loader_worker_search_path_is_pinned(make_cluster):
    c = make_cluster(["taxi_duration.poll_interval = 0"])
    with c.connect() as conn:
        conn.execute("CREATE SCHEMA evil")
        conn.execute("CREATE TABLE evil.called (at timestamptz DEFAULT now())")
        conn.execute(
            "CREATE FUNCTION evil.to_regclass(text) RETURNS regclass LANGUAGE sql AS"
            " $$ INSERT INTO evil.called DEFAULT VALUES RETURNING NULL::regclass $$"
        )
        conn.execute("ALTER DATABASE postgres SET search_path = evil, pg_catalog, public")
    c.restart()
    with c.connect() as conn:
        conn.execute("SET search_path = pg_catalog")
        before = conn.execute("SELECT count(*) FROM taxi_duration.model_loads").fetchone()[0]
        conn.execute("SELECT taxi_duration.load_model()")
    # the worker's next write to model_loads (or a call of evil.to_regclass instead)
    wait_until(
        lambda: c.sql(
            "SELECT (SELECT count(*) FROM taxi_duration.model_loads) > %s"
            " OR EXISTS (SELECT FROM evil.called)",
            (before,),
        )[0][0],
        10,
        "the worker recording the load",
    )
    assert c.sql("SELECT count(*) FROM evil.called")[0][0] == 0, "the worker ran evil.to_regclass"
