"""Fixtures for the security suite: throwaway PostgreSQL clusters (tests/lib/td_cluster.py).

    def test_x(make_cluster):
        c = make_cluster(["taxi_duration.load_retry_interval = 0"])   # stopped after the test
        with c.connect() as conn: ...
        role = c.fresh_role("taxi_duration_admin")      # a new LOGIN role in these roles
        c.log_text()                                    # the server log so far

``make_module_cluster`` makes clusters shared by a module's tests.  Helpers for test files:
``from td_cluster import Cluster, as_pg, give_to_postgres``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from td_cluster import make_cluster, make_module_cluster  # noqa: E402, F401
