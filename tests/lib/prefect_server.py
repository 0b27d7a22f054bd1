"""A real Prefect server for one test module: ``prefect server start`` from the virtualenv that
runs the tests, on a free 127.0.0.1 port, with its own PREFECT_HOME and SQLite database in a
temporary directory, analytics and UI off (no network beyond loopback).

    with PrefectServer(state_dir) as ps:
        ps.api_url                    # http://127.0.0.1:PORT/api
        ps.client_env()               # PREFECT_API_URL + a private PREFECT_HOME, for subprocesses
        with ps.settings(): ...       # this process's Prefect client talks to it

The fixture ``prefect_server`` (tests/conftest.py) starts one per module. The server is a single
process in its own session; it is stopped with its process group, and gets SIGTERM if the test
process dies first (PR_SET_PDEATHSIG). Its log is STATE_DIR/prefect-server.log.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from servers import _kill_group, _wait_http, free_port

PR_SET_PDEATHSIG = 1


def prefect_executable() -> str:
    """The ``prefect`` of the virtualenv running the tests, else the one on PATH."""
    exe = Path(sys.executable).parent / "prefect"
    if os.access(exe, os.X_OK):
        return str(exe)
    found = shutil.which("prefect")
    if found is None:
        raise RuntimeError(
            "prefect not found: pip install -c python/requirements.lock -e '.[flow]'"
        )
    return found


def _die_with_parent():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def clean_environ() -> dict:
    """os.environ without the PREFECT_* settings of the developer's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}


class PrefectServer:
    def __init__(self, state_dir, port: int | None = None, startup_timeout: float = 120.0):
        self.state_dir = Path(state_dir).resolve()
        self.port = port
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.log = self.state_dir / "prefect-server.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port()
        home = self.state_dir / "server-home"
        home.mkdir(exist_ok=True)
        env = clean_environ()
        env.update(
            {
                "PREFECT_HOME": str(home),
                "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_UI_ENABLED": "false",
                "PREFECT_SERVER_API_HOST": "127.0.0.1",
                "PREFECT_SERVER_API_PORT": str(self.port),
                "PREFECT_LOGGING_LEVEL": "WARNING",
            }
        )
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    prefect_executable(),
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-ui",
                    "--analytics-off",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.state_dir,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            _wait_http(
                f"{self.api_url}/health",
                self.proc,
                "prefect server",
                self.log,
                timeout=self.startup_timeout,
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc.pid)
            self.proc.wait()
            self.proc = None

    def client_env(self, home: str | os.PathLike | None = None) -> dict:
        """Variables for a process that reports to this server (its own PREFECT_HOME)."""
        home = Path(home) if home else self.state_dir / "client-home"
        home.mkdir(parents=True, exist_ok=True)
        return {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }

    @contextlib.contextmanager
    def settings(self):
        """This process's Prefect settings pointed at the server (Prefect reads its environment
        once, at import: temporary_settings is how to change them afterwards)."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.api_url}):
            try:
                yield self
            finally:
                # send the logs and events still queued while the server is there to take them
                from prefect.events.worker import EventsWorker
                from prefect.logging.handlers import APILogWorker

                APILogWorker.drain_all(timeout=10)
                EventsWorker.drain_all(timeout=10)
