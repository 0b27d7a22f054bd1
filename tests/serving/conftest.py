"""Fixtures for the serving suite: throwaway clusters from tests/security/td_cluster.py.

    def test_x(make_cluster):
        c = make_cluster(["taxi_duration.load_retry_interval = 0"])   # stopped after the test

``make_module_cluster`` makes clusters shared by a module's tests.  Ports: TD_SECURITY_PORT
(tests/serving/run.sh sets 54900, so 54900-54999).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))

from td_cluster import _Pool  # noqa: E402


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
