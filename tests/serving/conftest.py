"""Fixtures for the serving suite: throwaway clusters from tests/lib/td_cluster.py.

    def test_x(make_cluster):
        c = make_cluster(["taxi_duration.load_retry_interval = 0"])   # stopped after the test

``make_module_cluster`` makes clusters shared by a module's tests.  Ports: TD_SECURITY_PORT
(tests/serving/run.sh sets 54900, so 54900-54999).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from td_cluster import make_cluster, make_module_cluster  # noqa: E402, F401
