"""CREATE EXTENSION and a taxi_duration_admin role that already exists (issue 10, "Also").

Roles are cluster-wide: the extension's admin role may already exist, made by an earlier install
or another database (fine), or by a role with CREATEROLE that kept ADMIN OPTION on it and so
could hand anyone the right to load models and change taxi_duration.model_uri (refused).  Each
case runs on a fresh throwaway cluster, since the role outlives the extension.

Run by tests/security/run.sh; needs `make install` done.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("TD_SECURITY_ROLE_PORT", "54591"))


def _bash(script: str) -> None:
    subprocess.run(["bash", "-c", f". tests/lib/cluster.sh; {script}"], cwd=REPO, check=True)


@pytest.fixture
def cluster(tmp_path_factory):
    d = Path("/tmp") / f"td_security_roles_{os.getpid()}"
    _bash(f"td_cluster_start {d} {PORT}")
    try:
        yield f"host={d} port={PORT} dbname=postgres user=postgres"
    finally:
        _bash(f"td_cluster_stop {d}; rm -rf {d}")


def _create_extension(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION taxi_duration")


def test_role_administered_by_a_createrole_user_is_refused(cluster):
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute("CREATE ROLE sec_mallory LOGIN CREATEROLE")
        conn.execute("SET ROLE sec_mallory")
        conn.execute("CREATE ROLE taxi_duration_admin NOLOGIN")
        # PostgreSQL 16+ gives the creator ADMIN OPTION by itself; 15 lets CREATEROLE grant it
        conn.execute("GRANT taxi_duration_admin TO sec_mallory WITH ADMIN OPTION")
        conn.execute("RESET ROLE")
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        _create_extension(cluster)
    assert "administered by roles that are not superusers" in str(err.value)
    assert "sec_mallory" in (err.value.diag.message_detail or "")
    with psycopg.connect(cluster, autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'taxi_duration'"
        ).fetchone() == (0,), "nothing was installed"


def test_role_with_login_is_refused(cluster):
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute("CREATE ROLE taxi_duration_admin LOGIN")
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        _create_extension(cluster)
    assert "attributes this extension does not give it" in str(err.value)


def test_role_from_a_superuser_or_another_database_is_reused(cluster):
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute("CREATE ROLE taxi_duration_admin NOLOGIN")
        conn.execute("CREATE ROLE sec_member IN ROLE taxi_duration_admin")
        conn.execute("CREATE DATABASE sec_second")
    _create_extension(cluster)
    _create_extension(cluster.replace("dbname=postgres", "dbname=sec_second"))
    with psycopg.connect(cluster, autocommit=True) as conn:
        assert conn.execute(
            "SELECT pg_has_role('sec_member', 'taxi_duration_admin', 'USAGE')"
        ).fetchone() == (True,)
