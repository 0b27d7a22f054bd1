#!/usr/bin/env python3
"""Start and stop the real servers the network tests talk to.

    python3 tests/lib/servers.py start --state-dir DIR [--auth] [--no-mlflow]
                                       [--bucket rll-models-dev] [--ttl 3600]
                                       [--watch-pid PID]
    python3 tests/lib/servers.py stop --state-dir DIR

`start` runs moto_server (S3 + IAM) on 127.0.0.1 and, unless --no-mlflow,
an MLflow tracking server whose artifact store is a bucket in that moto,
waits until both answer, writes DIR/env (KEY=VALUE lines) and prints it.
With --auth, moto checks every request's SigV4 signature against an IAM
user created by the first (unauthenticated) calls; its keys are the ones
in DIR/env.  `stop` stops everything and may be called any number of times.

Every server runs in its own session and is watched by a small watchdog
process that stops it after --ttl seconds or when --watch-pid exits, so
that a crashed test run never leaves servers behind.

From Python:

    with Servers(state_dir, auth=True, mlflow=True) as s:
        s.env                   # the DIR/env dict
        s.pause_moto(); s.resume_moto()        # SIGSTOP / SIGCONT
        s.stop_mlflow(); s.start_mlflow()      # same port, same database
        s.stop_moto(); s.start_moto()          # same port, fresh (empty)
                                               # moto: keys change under auth

The servers come from the virtualenv named by TD_SERVERS_VENV (default
/opt/td-servers-venv, see tests/requirements-servers.txt), else from PATH.
Logs go to DIR/moto.log, DIR/mlflow.log, DIR/watchdog.log.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REGION = "eu-north-1"
DEFAULT_BUCKET = "rll-models-dev"
DEFAULT_VENV = "/opt/td-servers-venv"
HERE = os.path.abspath(__file__)


def _venv():
    return os.environ.get("TD_SERVERS_VENV", DEFAULT_VENV)


def _moto_python():
    """The interpreter moto_server runs under (its venv's), for tests/lib/moto_server.py."""
    python = os.path.join(os.path.dirname(_tool("moto_server")), "python")
    return python if os.access(python, os.X_OK) else sys.executable


def _tool(name):
    path = os.path.join(_venv(), "bin", name)
    if os.access(path, os.X_OK):
        return path
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"{name} not found: pip install -r tests/requirements-servers.txt "
            f"into {_venv()} (or set TD_SERVERS_VENV)"
        )
    return found


def _python():
    path = os.path.join(_venv(), "bin", "python")
    return path if os.access(path, os.X_OK) else sys.executable


# The variables that point the model lifecycle (MLflow, S3) at these servers, and the ones a
# developer's shell must not leak into a test of it.
LIFECYCLE_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_S3_ENDPOINT_URL",
    "TD_MODEL_BUCKET",
)
LIFECYCLE_CLEARED = (
    *LIFECYCLE_KEYS,
    "TD_ENV",
    "TD_EXPERIMENT",
    "TD_MODEL_NAME",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_SESSION_TOKEN",
)


def alias_serving(env: dict, model_uri: str) -> tuple[list[str], dict]:
    """The settings and server environment of a cluster whose loader worker follows
    `model_uri` (a models:/ URI) through the servers whose Servers.env is `env`, polling every
    second: (postgresql.conf lines, environment with the S3 keys)."""
    conf = [
        f"taxi_duration.model_uri = '{model_uri}'",
        "taxi_duration.poll_interval = 1",
        "taxi_duration.load_retry_interval = 1",
        f"taxi_duration.aws_endpoint_url = '{env['AWS_ENDPOINT_URL']}'",
        f"taxi_duration.aws_region = '{env['AWS_REGION']}'",
        f"taxi_duration.mlflow_tracking_uri = '{env['MLFLOW_TRACKING_URI']}'",
    ]
    keys = {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    return conf, keys


def point_lifecycle_at(mp, env: dict, cache_dir) -> None:
    """Through a pytest MonkeyPatch `mp`, point this process's model lifecycle at the servers
    whose Servers.env is `env`, with its own trips cache; nothing of the shell leaks in."""
    for k in LIFECYCLE_CLEARED:
        mp.delenv(k, raising=False)
    for k in LIFECYCLE_KEYS:
        mp.setenv(k, env[k])
    mp.setenv("TAXI_CACHE_DIR", str(cache_dir))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _kill_group(pid, timeout=10.0):
    """SIGTERM the process group led by pid (SIGCONT too), then SIGKILL."""
    if not pid:
        return
    for sig in (signal.SIGTERM, signal.SIGCONT):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not _alive(pid) and not _group_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        _reap(pid)
        time.sleep(0.05)


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Only zombies left in the group count as gone.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _wait_tcp(port, proc, what, log, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited early; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port}; see {log}")


def _wait_http(url, proc, what, log, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited early; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url}; see {log}")


# The moto setup runs in the servers' Python (which has boto3).
_SETUP = r"""
import json, sys
import boto3
from botocore.config import Config
endpoint, region, auth, buckets = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
cfg = Config(retries={"max_attempts": 1})
key, secret = "testing", "testing"
if auth:
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="setup", aws_secret_access_key="setup", config=cfg)
    iam.create_user(UserName="td-tests")
    k = iam.create_access_key(UserName="td-tests")["AccessKey"]
    iam.put_user_policy(UserName="td-tests", PolicyName="allow-all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key, secret = k["AccessKeyId"], k["SecretAccessKey"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                  aws_access_key_id=key, aws_secret_access_key=secret, config=cfg)
for b in buckets:
    s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": region})
print(json.dumps({"key": key, "secret": secret}))
"""

# Unauthenticated calls moto allows before enforcing signatures (the three
# IAM calls above).
_NO_AUTH_ACTIONS = 3


class Servers:
    """moto (+ MLflow) for one test run; a context manager."""

    def __init__(
        self, state_dir, auth=False, mlflow=True, bucket=DEFAULT_BUCKET, ttl=3600, watch_pid=None
    ):
        self.state_dir = os.path.abspath(state_dir)
        self.auth = auth
        self.mlflow = mlflow
        self.bucket = bucket
        self.ttl = ttl
        self.watch_pid = watch_pid if watch_pid is not None else os.getpid()
        self.env = {}
        self.moto_port = None
        self.mlflow_port = None
        self._moto = None
        self._mlflow = None
        self._watchdog = None

    # -- lifecycle ----------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        try:
            self.start_moto()
            if self.mlflow:
                self.start_mlflow()
            self._start_watchdog()
        except BaseException:
            self.stop()
            raise
        self._write_state()
        return self.env

    def stop(self):
        if self._watchdog is not None:
            _kill_group(self._watchdog.pid, timeout=2)
            self._watchdog = None
        self.stop_mlflow()
        self.stop_moto()
        pids = os.path.join(self.state_dir, "pids.json")
        if os.path.exists(pids):
            os.unlink(pids)

    # -- moto ---------------------------------------------------------------
    def start_moto(self):
        if self.moto_port is None:
            self.moto_port = free_port()
        log = os.path.join(self.state_dir, "moto.log")
        env = dict(os.environ)
        if self.auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(_NO_AUTH_ACTIONS)
        else:
            env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        with open(log, "ab") as out:
            self._moto = subprocess.Popen(
                # moto_server, with its Kinesis shards safe under concurrent calls
                [
                    _moto_python(),
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_server.py"),
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(self.moto_port),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        endpoint = f"http://127.0.0.1:{self.moto_port}"
        _wait_tcp(self.moto_port, self._moto, "moto_server", log)
        setup = subprocess.run(
            [_python(), "-c", _SETUP, endpoint, REGION, "1" if self.auth else "0", self.bucket],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if setup.returncode != 0:
            raise RuntimeError(f"moto setup failed:\n{setup.stderr[-3000:]}")
        keys = json.loads(setup.stdout.strip().splitlines()[-1])
        self.env.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": keys["key"],
                "AWS_SECRET_ACCESS_KEY": keys["secret"],
                "MLFLOW_S3_ENDPOINT_URL": endpoint,
                "TD_MODEL_BUCKET": self.bucket,
                "MOTO_PID": str(self._moto.pid),
            }
        )
        self.env.setdefault("MLFLOW_TRACKING_URI", "")
        self.env.setdefault("MLFLOW_PID", "")
        self._write_state()

    def stop_moto(self):
        if self._moto is not None:
            _kill_group(self._moto.pid)
            self._moto.wait()
            self._moto = None

    def pause_moto(self):
        os.killpg(self._moto.pid, signal.SIGSTOP)

    def resume_moto(self):
        os.killpg(self._moto.pid, signal.SIGCONT)

    # -- MLflow -------------------------------------------------------------
    def start_mlflow(self):
        if self.mlflow_port is None:
            self.mlflow_port = free_port()
        log = os.path.join(self.state_dir, "mlflow.log")
        env = dict(os.environ)
        env.update(
            {
                "MLFLOW_S3_ENDPOINT_URL": self.env["AWS_ENDPOINT_URL"],
                "AWS_ENDPOINT_URL": self.env["AWS_ENDPOINT_URL"],
                "AWS_ACCESS_KEY_ID": self.env["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": self.env["AWS_SECRET_ACCESS_KEY"],
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                # No background job runner (7 huey consumers): faster, lighter.
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            }
        )
        cmd = [
            _tool("mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.state_dir}/mlflow.db",
            "--artifacts-destination",
            f"s3://{self.bucket}/mlflow-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.mlflow_port),
            "--workers",
            "1",
        ]
        with open(log, "ab") as out:
            self._mlflow = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                cwd=self.state_dir,
            )
        uri = f"http://127.0.0.1:{self.mlflow_port}"
        _wait_http(uri + "/health", self._mlflow, "mlflow server", log)
        self.env["MLFLOW_TRACKING_URI"] = uri
        self.env["MLFLOW_PID"] = str(self._mlflow.pid)
        self._write_state()

    def stop_mlflow(self):
        if self._mlflow is not None:
            _kill_group(self._mlflow.pid)
            self._mlflow.wait()
            self._mlflow = None

    # -- state --------------------------------------------------------------
    def _start_watchdog(self):
        log = open(os.path.join(self.state_dir, "watchdog.log"), "ab")
        with log:
            self._watchdog = subprocess.Popen(
                [
                    sys.executable,
                    HERE,
                    "_watchdog",
                    "--state-dir",
                    self.state_dir,
                    "--ttl",
                    str(self.ttl),
                    "--watch-pid",
                    str(self.watch_pid),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _write_state(self):
        keys = [
            *LIFECYCLE_KEYS,
            "MOTO_PID",
            "MLFLOW_PID",
        ]
        with open(os.path.join(self.state_dir, "env"), "w") as f:
            for k in keys:
                f.write(f"{k}={self.env.get(k, '')}\n")
        pids = {
            "moto": self._moto.pid if self._moto else None,
            "mlflow": self._mlflow.pid if self._mlflow else None,
            "watchdog": self._watchdog.pid if self._watchdog else None,
        }
        with open(os.path.join(self.state_dir, "pids.json"), "w") as f:
            json.dump(pids, f)

    def env_text(self):
        with open(os.path.join(self.state_dir, "env")) as f:
            return f.read()


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# pids.json's names -> a word of each process's command line, stopped in this order.
SERVER_MARKS = {"watchdog": "_watchdog", "mlflow": "mlflow", "moto": "moto_server"}


def stop_state_dir(state_dir, skip_pid=None, marks=None):
    """Stop what `start` left in state_dir (safe to repeat); `marks` as SERVER_MARKS (the
    default) says which pids.json entries to stop and what their command lines contain."""
    path = os.path.join(state_dir, "pids.json")
    try:
        with open(path) as f:
            pids = json.load(f)
    except (OSError, ValueError):
        return
    for name, mark in (marks or SERVER_MARKS).items():
        pid = pids.get(name)
        if not pid or pid == skip_pid:
            continue
        # Guard against a recycled pid: only kill what looks like ours.
        if _alive(pid) and mark in _cmdline(pid):
            _kill_group(pid, timeout=2 if name == "watchdog" else 10)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _watchdog(state_dir, ttl, watch_pid):
    deadline = time.monotonic() + ttl
    while time.monotonic() < deadline and _alive(watch_pid):
        time.sleep(0.5)
    print(
        f"watchdog: stopping servers ({'ttl' if _alive(watch_pid) else 'owner exited'})", flush=True
    )
    stop_state_dir(state_dir, skip_pid=os.getpid())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("--state-dir", required=True)
    st.add_argument("--auth", action="store_true")
    st.add_argument("--no-mlflow", action="store_true")
    st.add_argument("--bucket", default=DEFAULT_BUCKET)
    st.add_argument(
        "--ttl",
        type=float,
        default=3600,
        help="stop the servers after this many seconds (default 3600)",
    )
    st.add_argument(
        "--watch-pid", type=int, default=0, help="stop the servers when this process exits"
    )
    sp = sub.add_parser("stop")
    sp.add_argument("--state-dir", required=True)
    wd = sub.add_parser("_watchdog")
    wd.add_argument("--state-dir", required=True)
    wd.add_argument("--ttl", type=float, required=True)
    wd.add_argument("--watch-pid", type=int, required=True)
    a = p.parse_args(argv)

    if a.cmd == "start":
        stop_state_dir(os.path.abspath(a.state_dir))
        s = Servers(
            a.state_dir,
            auth=a.auth,
            mlflow=not a.no_mlflow,
            bucket=a.bucket,
            ttl=a.ttl,
            watch_pid=a.watch_pid or 1,
        )
        try:
            s.start()
        except Exception as e:  # noqa: BLE001 - report and fail
            print(f"servers.py: {e}", file=sys.stderr)
            return 1
        # Hand the servers over: they outlive this process until `stop`.
        s._moto = s._mlflow = s._watchdog = None
        sys.stdout.write(s.env_text())
        return 0
    if a.cmd == "stop":
        stop_state_dir(os.path.abspath(a.state_dir))
        return 0
    _watchdog(os.path.abspath(a.state_dir), a.ttl, a.watch_pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
