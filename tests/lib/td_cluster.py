"""Throwaway PostgreSQL clusters and fresh roles, for the suites that start their own.
The fixtures ``make_cluster`` (stopped after the test) and ``make_module_cluster`` (stopped after
the module) are in tests/conftest.py:

    def test_x(make_cluster):
        c = make_cluster(["taxi_duration.load_retry_interval = 0"])   # stopped after the test
        with c.connect() as conn: ...
        role = c.fresh_role("taxi_duration_admin")      # a new LOGIN role in these roles
        c.log_text()                                    # the server log so far

Each cluster is initdb'd in its own directory under /tmp (under TD_TEST_WORKDIR when set),
listens on a Unix socket there only, preloads taxi_duration (``preload=False`` for a server
without it) and has the extension created in ``postgres`` (``extension=False`` to skip).  Servers
run as the ``postgres`` OS user when the tests run as root.  Ports come from 100 ports starting
at TD_CLUSTER_PORT (else TD_SECURITY_PORT, else 54600), unless ``port=`` is given; the socket
directory is private, so a port in use elsewhere does no harm.  The binaries are those in
TD_PG_BINDIR, else those of ``pg_config`` (PG_CONFIG, else the one on PATH).  TD_SECURITY_KEEP=1
keeps the directories; ``initdb_args=("--wal-segsize=1",)`` passes options to initdb.  ``make_module_standby(primary)`` makes a hot standby of a cluster
(pg_basebackup -R, streaming replication; ``slot=`` for a physical slot, named as its
application_name): ``wait_replayed()``, ``promote()``, ``kill()`` (``pg_ctl stop -m immediate``).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

PORT_BASE = int(os.environ.get("TD_CLUSTER_PORT") or os.environ.get("TD_SECURITY_PORT") or 54600)
_ports = itertools.count()


def _pg_config(what: str) -> str:
    exe = os.environ.get("PG_CONFIG", "pg_config")
    return subprocess.run([exe, what], check=True, capture_output=True, text=True).stdout.strip()


def pg_bindir() -> Path:
    """The PostgreSQL binaries the clusters run: TD_PG_BINDIR (as tests/lib/cluster.sh), else
    ``pg_config --bindir``."""
    return Path(os.environ.get("TD_PG_BINDIR") or _pg_config("--bindir"))


def server_major() -> int:
    """The major version of the PostgreSQL the clusters run (``postgres --version``)."""
    out = subprocess.run(
        [str(pg_bindir() / "postgres"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    return int(out.split(")")[1].split(".")[0])


def as_pg(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run cmd as the cluster's OS user (postgres when we are root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, **kw)


def give_to_postgres(path: Path) -> None:
    """Make a file or directory we created usable by the server."""
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def wait_until(predicate, seconds: float, what: str):
    """predicate()'s first true value, polled every 50 ms; AssertionError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s")


class Cluster:
    def __init__(
        self,
        conf: list[str],
        env: dict | None,
        preload: bool,
        port: int | None = None,
        standby_of: Cluster | None = None,
        slot: str | None = None,
        initdb_args: tuple[str, ...] = (),
    ):
        self.port = port if port is not None else PORT_BASE + next(_ports) % 100
        # under TD_TEST_WORKDIR when set, so that a run.sh can stop what a killed run left
        self.dir = Path(tempfile.mkdtemp(prefix="td_sec_", dir=os.environ.get("TD_TEST_WORKDIR")))
        os.chmod(self.dir, 0o755)
        give_to_postgres(self.dir)
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.bindir = pg_bindir()
        self.env = {**os.environ, **(env or {})}
        lines = [
            f"port = {self.port}",
            "listen_addresses = ''",
            f"unix_socket_directories = '{self.dir}'",
            "fsync = off",
        ]
        if preload:
            lines.append("shared_preload_libraries = 'taxi_duration'")
        self.conf = lines + list(conf)
        # a hot standby: a base backup of that cluster, streaming from it (pg_basebackup -R)
        self.primary = standby_of
        self.slot = slot  # a standby's physical slot on its primary (pg_basebackup -C -S)
        self.initdb_args = tuple(initdb_args)  # e.g. ("--wal-segsize=1",)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.primary is not None:
            self._base_backup()
            return
        init = as_pg(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                *self.initdb_args,
            ],
            capture_output=True,
            text=True,
            env=self.env,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stdout}{init.stderr}")
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n".join(self.conf) + "\n")
        self._pg_ctl_start()

    def _base_backup(self) -> None:
        p = self.primary
        r = as_pg(
            [
                str(self.bindir / "pg_basebackup"),
                *("-D", str(self.data), "-h", str(p.dir), "-p", str(p.port), "-U", "postgres"),
                *("-R", "-X", "stream", "--no-sync", "-c", "fast"),
                *(("-C", "-S", self.slot) if self.slot else ()),
            ],
            capture_output=True,
            text=True,
            env=self.env,
        )
        if r.returncode != 0:
            raise RuntimeError(f"pg_basebackup failed: {r.stdout}{r.stderr}")
        # later lines win: this cluster's own port, socket directory and settings
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n".join(self.conf) + "\n")
        if self.slot:
            # named after its slot (synchronous_standby_names), with the database that
            # sync_replication_slots needs (PostgreSQL 17+)
            with open(self.data / "postgresql.auto.conf", "a") as f:
                f.write(
                    f"primary_conninfo = 'host={p.dir} port={p.port} user=postgres"
                    f" dbname=postgres application_name={self.slot}'\n"
                )
        self._pg_ctl_start()

    def promote(self) -> None:
        """End a standby's recovery (pg_ctl promote, waiting until it accepts writes)."""
        r = as_pg(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "promote"],
            capture_output=True,
            text=True,
            env=self.env,
        )
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl promote failed: {r.stderr}\n{self.log_text()}")

    def wait_replayed(self, timeout: float = 30) -> None:
        """Wait until this standby has replayed everything its primary has written so far."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))[0][0]:
                return
            time.sleep(0.05)
        raise TimeoutError(f"standby did not replay up to {target} in {timeout} s")

    def _pg_ctl_start(self) -> None:
        r = as_pg(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            env=self.env,
        )
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stderr}\n{self.log_text()}")

    def stop(self) -> None:
        """Fast shutdown; immediate if a backend does not go (e.g. stuck in a system call)."""
        if not (self.data / "postmaster.pid").exists():
            return
        ctl = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "15", "stop"]
        if as_pg([*ctl, "-m", "fast"], capture_output=True).returncode != 0:
            as_pg([*ctl, "-m", "immediate"], capture_output=True)

    def kill(self) -> None:
        """Stop at once, as a crash would (pg_ctl stop -m immediate: no checkpoint, no goodbye
        to clients or standbys)."""
        as_pg(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-t",
                "30",
                "stop",
                "-m",
                "immediate",
            ],
            capture_output=True,
        )

    def restart(self) -> None:
        self.stop()
        self._pg_ctl_start()

    # -- using it -----------------------------------------------------------------------------
    def hosts(self) -> tuple[str, str]:
        """(host, port) for a multi-host DSN: "host=a,b port=p,q"."""
        return str(self.dir), str(self.port)

    def dsn(self, user: str = "postgres", dbname: str = "postgres") -> str:
        return f"host={self.dir} port={self.port} user={user} dbname={dbname}"

    def connect(self, user: str = "postgres", dbname: str = "postgres", **kw) -> psycopg.Connection:
        return psycopg.connect(self.dsn(user, dbname), **{"autocommit": True, **kw})

    def sql(self, query: str, params=None) -> list[tuple]:
        """Run one statement as postgres in a fresh session; its rows ([] if none)."""
        with self.connect() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def fresh_role(self, *member_of: str, superuser: bool = False) -> str:
        """A new LOGIN role with a unique name, member of `member_of` (with INHERIT)."""
        name = f"td_sec_{uuid.uuid4().hex[:10]}"
        opts = "LOGIN SUPERUSER" if superuser else "LOGIN"
        with self.connect() as conn:
            conn.execute(f'CREATE ROLE "{name}" {opts}')
            for role in member_of:
                conn.execute(f'GRANT "{role}" TO "{name}"')
        return name

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def reload(self) -> None:
        self.sql("SELECT pg_reload_conf()")


class Pool:
    """Clusters made by one fixture instance, stopped when it ends."""

    def __init__(self):
        self.clusters: list[Cluster] = []

    def make(
        self, conf=(), env=None, preload=True, extension=True, port=None, initdb_args=()
    ) -> Cluster:
        c = Cluster(list(conf), env, preload, port, initdb_args=initdb_args)
        self.clusters.append(c)
        c.start()
        if extension:
            c.sql("CREATE EXTENSION taxi_duration")
        return c

    def make_standby(self, primary: Cluster, conf=(), env=None, port=None, slot=None) -> Cluster:
        """A hot standby of `primary` (which has the extension if the standby is to have it);
        with `slot`, streaming through a physical slot of that name, which is also its
        application_name."""
        c = Cluster(list(conf), env, preload=False, port=port, standby_of=primary, slot=slot)
        self.clusters.append(c)
        c.start()
        return c

    def close(self) -> None:
        for c in self.clusters:
            c.stop()
            if not os.environ.get("TD_SECURITY_KEEP"):
                shutil.rmtree(c.dir, ignore_errors=True)
