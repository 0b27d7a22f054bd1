#!/usr/bin/env python3
"""LocalStack 4.14.0 as a host process, configured by docker-compose.local.yaml's own service.

    python3 tests/lib/localstack_host.py start --state-dir DIR [--port 55200] [--ttl 3600]
    python3 tests/lib/localstack_host.py stop --state-dir DIR

From Python (tests/conftest.py's ``aws_servers`` under TD_AWS_BACKEND=localstack):

    with LocalStack(state_dir) as ls:
        ls.env          # AWS_ENDPOINT_URL, AWS_REGION, keys, TD_MODEL_BUCKET, stream names
        ls.init_ready   # /_localstack/init/ready once healthy: which READY hooks ran, their state

What is taken from the compose file (service ``localstack``, interpolated with .env.dev exactly
as ``docker compose --env-file .env.dev`` does): the image's release (must be the installed
localstack-core's), its ``environment`` (SERVICES=s3,kinesis, the region, the bucket and stream
names the READY hook reads), its bind mounts under /etc/localstack (the READY hooks directory,
linked into FILESYSTEM_ROOT/etc/localstack/init/ready.d, where a host-mode LocalStack looks for
it: localstack.config.Directories.for_host) and its healthcheck, run as is against this
gateway: healthy means LocalStack ran docker/localstack/init/ready.d/10-taxi-duration.sh and
the script succeeded.  The bucket and streams therefore exist when ``start`` returns; nothing
here creates them.

What a host process needs besides (the container has it by construction): OVERRIDE_IN_DOCKER=0,
FILESYSTEM_ROOT (a fresh one per start under DIR: no state survives, as in the container),
GATEWAY_LISTEN=127.0.0.1:PORT, GATEWAY_SERVER=hypercorn, LOCALSTACK_HOST=127.0.0.1:PORT (where
``awslocal`` in the hooks finds the gateway; in the container it is localhost:4566),
DNS_ADDRESS=0 (no DNS server on port 53), DISABLE_EVENTS=1, SKIP_SSL_CERT_DOWNLOAD=1, the
virtualenv's bin on PATH (``awslocal``, ``aws``), and kinesis-local@0.5.2 pre-installed in the
static libs directory (tests/localstack/install.sh).

Installation (tests/localstack/install.sh): the virtualenv TD_LOCALSTACK_VENV (default
/opt/td-localstack-venv) on this host, else the same path inside the trixie root filesystem
TD_LOCALSTACK_ROOTS/trixie (default /var/tmp/taxi_duration-localstack), where LocalStack then
runs in a chroot (same network namespace).  Logs: DIR/localstack.log.  A watchdog stops
LocalStack after --ttl seconds or when the owner process exits, as for tests/lib/servers.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))
import servers  # noqa: E402
from servers import _alive, _kill_group  # noqa: E402

COMPOSE = REPO / "docker-compose.local.yaml"
ENV_FILE = REPO / ".env.dev"
VENV = "/opt/td-localstack-venv"  # the same path on the host and in the chroot
PORTS = range(55200, 55300)
KINESIS_LOCAL = "0.5.2"
MARK = "localstack.runtime.main"


# -- the compose file, as `docker compose --env-file .env.dev config` reads it -------------------


def parse_env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    return env


_INTERP = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$."""

    def one(m):
        if m.group(0) == "$$":
            return "$$"  # kept: compose turns it into $ only where a shell sees it (healthcheck)
        name, op, arg = m.group(1), m.group(2), m.group(3)
        val = env.get(name)
        if op in (":?", "?") and (val is None or (op == ":?" and val == "")):
            raise RuntimeError(f"compose: {name} is required: {arg}")
        if op in (":-", "-") and (val is None or (op == ":-" and val == "")):
            return arg
        return val or ""

    return _INTERP.sub(one, value)


def _walk(x, env):
    if isinstance(x, str):
        return interpolate(x, env)
    if isinstance(x, list):
        return [_walk(i, env) for i in x]
    if isinstance(x, dict):
        return {k: _walk(v, env) for k, v in x.items()}
    return x


def compose_service(name="localstack", compose=COMPOSE, env_file=ENV_FILE) -> dict:
    import yaml

    env = parse_env_file(env_file)
    svc = yaml.safe_load(Path(compose).read_text())["services"][name]
    svc = _walk(svc, env)
    environment = svc.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(e.split("=", 1) for e in environment)
    svc["environment"] = {k: "" if v is None else str(v) for k, v in environment.items()}
    svc["_dotenv"] = env
    return svc


# -- the installation -----------------------------------------------------------------------------


def installation() -> tuple[str | None, str]:
    """(chroot root or None, the virtualenv's path inside it) of tests/localstack/install.sh."""
    venv = os.environ.get("TD_LOCALSTACK_VENV", VENV)
    forced = os.environ.get("TD_LOCALSTACK_PYTHON") == "chroot"
    if not forced and os.path.isfile(os.path.join(venv, ".td-localstack-installed")):
        return None, venv
    roots = os.environ.get("TD_LOCALSTACK_ROOTS", "/var/tmp/taxi_duration-localstack")
    root = os.path.realpath(os.path.join(roots, "trixie"))
    if os.path.isfile(os.path.join(root, VENV.lstrip("/"), ".td-localstack-installed")):
        return root, VENV
    raise RuntimeError("LocalStack is not installed: bash tests/localstack/install.sh")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the gateway binds (a closed predecessor's TIME_WAIT connections do not block it)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    for p in PORTS:
        if _port_free(p):
            return p
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=3) as r:
        return json.loads(r.read())


class LocalStack:
    """LocalStack for one test module or run; a context manager."""

    def __init__(self, state_dir, port=None, ttl=3600, watch_pid=None):
        self.state_dir = Path(state_dir).resolve()
        self.port = port
        self.ttl = ttl
        self.watch_pid = watch_pid if watch_pid is not None else os.getpid()
        self.env: dict[str, str] = {}
        self.init_ready: dict = {}
        self.version = None
        self._proc = None
        self._watchdog = None
        self._root = None
        self._fs_host = None
        self.svc = compose_service()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=None):
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self.env

    def _start(self, timeout):
        svc = self.svc
        image = svc["image"]
        m = re.fullmatch(r"localstack/localstack:(\d+\.\d+\.\d+)", image)
        if not m:
            raise RuntimeError(f"compose: localstack image {image!r} is not a pinned release")
        want = m.group(1)
        self._root, venv = installation()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        # FILESYSTEM_ROOT: fresh for every start (as a container starts from its image)
        rel = f"td/localstack-run/{os.getpid()}-{self.port}"
        fs_host = Path(self._root or self.state_dir) / (rel if self._root else "filesystem")
        fs_inside = "/" + rel if self._root else str(fs_host)
        if fs_host.exists():
            shutil.rmtree(fs_host)
        self._fs_host = fs_host
        (fs_host / "usr/lib").mkdir(parents=True)
        # kinesis-local@0.5.2 where LocalStack's package installer finds it (static libs)
        os.symlink(f"{venv}/static", fs_host / "usr/lib/localstack")
        # the compose file's bind mounts into /etc/localstack (the READY hooks)
        mounts = 0
        for vol in svc.get("volumes") or []:
            src, dst = (vol.split(":") + [""])[:2]
            if not dst.startswith("/etc/localstack/"):
                continue
            src = (COMPOSE.parent / src).resolve()
            dst_host = fs_host / dst.lstrip("/")
            dst_host.parent.mkdir(parents=True, exist_ok=True)
            if self._root:  # a chroot cannot see the tree: a copy
                shutil.copytree(src, dst_host, symlinks=True)
            else:
                os.symlink(src, dst_host)
            mounts += 1
        if not mounts:
            raise RuntimeError(
                "compose: no bind mount under /etc/localstack for the localstack service"
            )
        env = {
            "PATH": f"{venv}/bin:/usr/local/bin:/usr/bin:/bin",
            "HOME": fs_inside,
            "LANG": "C.UTF-8",
            **svc["environment"],
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": fs_inside,
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            "GATEWAY_SERVER": "hypercorn",
            "LOCALSTACK_HOST": f"127.0.0.1:{self.port}",
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
        }
        main_js = f"{venv}/static/kinesis-local/{KINESIS_LOCAL}/node_modules/kinesis-local/main.js"
        if not os.path.isfile(f"{self._root or ''}{main_js}"):
            raise RuntimeError(f"no {main_js}: bash tests/localstack/install.sh")
        cmd = [f"{venv}/bin/python", "-m", MARK]
        if self._root:
            self._enter_root()
            cmd = [
                "chroot",
                self._root,
                "/usr/bin/env",
                "-i",
                *[f"{k}={v}" for k, v in env.items()],
                *cmd,
            ]
            popen_env = dict(os.environ)
        else:
            popen_env = env
        log = self.state_dir / "localstack.log"
        with open(log, "ab") as out:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=popen_env,
                cwd="/" if self._root else str(fs_host),
                start_new_session=True,
            )
        self._start_watchdog()
        self._wait_healthy(log, timeout)
        health = _get_json(self.endpoint + "/_localstack/health")
        self.version = health.get("version")
        if self.version != want:
            raise RuntimeError(f"LocalStack {self.version} answers; the compose file pins {want}")
        dot = svc["_dotenv"]
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": svc["environment"]["AWS_REGION"],
            "AWS_ACCESS_KEY_ID": dot["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": dot["AWS_SECRET_ACCESS_KEY"],
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "MLFLOW_TRACKING_URI": "",
            "TD_MODEL_BUCKET": svc["environment"]["TD_MODEL_BUCKET"],
            "TD_TRIPS_STREAM": svc["environment"]["TD_TRIPS_STREAM"],
            "TD_PREDICTIONS_STREAM": svc["environment"]["TD_PREDICTIONS_STREAM"],
            "LOCALSTACK_PID": str(self._proc.pid),
        }
        self._write_state()

    def _enter_root(self):
        proc = os.path.join(self._root, "proc")
        if not os.path.ismount(proc):
            subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)

    def _wait_healthy(self, log, timeout):
        """The compose healthcheck, run as is (localhost:4566 -> this gateway), until it passes;
        a READY hook in state ERROR fails at once."""
        hc = self.svc["healthcheck"]
        test = hc["test"]
        if test[0] != "CMD-SHELL":
            raise RuntimeError(f"compose: unexpected healthcheck {test!r}")
        script = test[1].replace("$$", "$").replace("localhost:4566", f"127.0.0.1:{self.port}")

        def seconds(s):
            return float(str(s).rstrip("s"))

        budget = seconds(hc.get("start_period", "0s")) + seconds(hc.get("interval", "5s")) * int(
            hc.get("retries", 3)
        )
        deadline = time.monotonic() + (timeout or budget)
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"LocalStack exited ({self._proc.returncode}); see {log}")
            try:
                self.init_ready = _get_json(self.endpoint + "/_localstack/init/ready")
            except (urllib.error.URLError, OSError, ValueError):
                self.init_ready = {}
            errors = [s for s in self.init_ready.get("scripts", []) if s.get("state") == "ERROR"]
            if errors:
                raise RuntimeError(f"LocalStack READY hook failed: {errors}; see {log}")
            if subprocess.run(["sh", "-c", script], capture_output=True).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(
            f"LocalStack not healthy (compose healthcheck) within {timeout or budget:.0f} s: "
            f"{self.init_ready}; see {log}"
        )

    def stop(self):
        if self._watchdog is not None:
            _kill_group(self._watchdog.pid, timeout=2)
            self._watchdog = None
        if self._proc is not None:
            # LocalStack stops its services on SIGTERM; it may hang in its shutdown, then SIGKILL
            _kill_group(self._proc.pid, timeout=10)
            self._proc.wait()
            self._proc = None
        if self._root and self._fs_host is not None:  # its state, inside the shared root
            shutil.rmtree(self._fs_host, ignore_errors=True)
            self._fs_host = None
        pids = self.state_dir / "pids.json"
        if pids.exists():
            pids.unlink()

    def _start_watchdog(self):
        with open(self.state_dir / "watchdog.log", "ab") as log:
            self._watchdog = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE),
                    "_watchdog",
                    "--state-dir",
                    str(self.state_dir),
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
        self._write_state()

    def _write_state(self):
        with open(self.state_dir / "env", "w") as f:
            for k, v in self.env.items():
                f.write(f"{k}={v}\n")
        with open(self.state_dir / "pids.json", "w") as f:
            json.dump(
                {
                    "localstack": self._proc.pid if self._proc else None,
                    "watchdog": self._watchdog.pid if self._watchdog else None,
                },
                f,
            )


def stop_state_dir(state_dir, skip_pid=None):
    """Stop what `start` left in state_dir (safe to repeat): the watchdog, then LocalStack."""
    servers.stop_state_dir(state_dir, skip_pid, marks={"watchdog": "_watchdog", "localstack": MARK})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("--state-dir", required=True)
    st.add_argument("--port", type=int, default=0)
    st.add_argument("--ttl", type=float, default=3600)
    st.add_argument("--watch-pid", type=int, default=0)
    sp = sub.add_parser("stop")
    sp.add_argument("--state-dir", required=True)
    wd = sub.add_parser("_watchdog")
    wd.add_argument("--state-dir", required=True)
    wd.add_argument("--ttl", type=float, required=True)
    wd.add_argument("--watch-pid", type=int, required=True)
    a = p.parse_args(argv)
    state = os.path.abspath(a.state_dir)
    if a.cmd == "start":
        stop_state_dir(state)
        ls = LocalStack(state, port=a.port or None, ttl=a.ttl, watch_pid=a.watch_pid or 1)
        try:
            ls.start()
        except Exception as e:  # noqa: BLE001 - report and fail
            print(f"localstack_host.py: {e}", file=sys.stderr)
            return 1
        ls._proc = ls._watchdog = None  # handed over: they outlive this process until `stop`
        sys.stdout.write((Path(state) / "env").read_text())
        return 0
    if a.cmd == "stop":
        stop_state_dir(state)
        return 0
    deadline = time.monotonic() + a.ttl
    while time.monotonic() < deadline and _alive(a.watch_pid):
        time.sleep(0.5)
    print(
        f"watchdog: stopping LocalStack ({'ttl' if _alive(a.watch_pid) else 'owner exited'})",
        flush=True,
    )
    stop_state_dir(state, skip_pid=os.getpid())
    return 0


if __name__ == "__main__":
    sys.exit(main())
