"""Fixtures for the security suite: throwaway PostgreSQL clusters (td_cluster.py).

    def test_x(make_cluster):
        c = make_cluster(["taxi_duration.load_retry_interval = 0"])   # stopped after the test
        with c.connect() as conn: ...
        role = c.fresh_role("taxi_duration_admin")      # a new LOGIN role in these roles
        c.log_text()                                    # the server log so far

``make_module_cluster`` makes clusters shared by a module's tests.  Helpers for test files:
``from td_cluster import Cluster, as_pg, give_to_postgres``.
"""

from __future__ import annotations

import pytest
from td_cluster import _Pool


@pytest.fixture
def make_cluster():
    """make_cluster(conf=(), env=None, preload=True, extension=True) -> a started Cluster,
    stopped at the end of the test."""
    pool = _Pool()
    yield pool.make
    pool.close()


@pytest.fixture(scope="module")
def make_module_cluster():
    """The same, for clusters shared by a module's tests (stopped at the end of the module)."""
    pool = _Pool()
    yield pool.make
    pool.close()
