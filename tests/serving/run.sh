#!/usr/bin/env bash
# tests/serving/run.sh — the serving suite: loads racing cancels
# (test_load_cancel.py), on throwaway clusters (tests/lib/td_cluster.py).
#
#   bash tests/serving/run.sh          (after `make install`; root is fine)
#
# Environment: TD_SECURITY_PORT (default 54900: ports 54900-54999).
set -uo pipefail
cd "$(dirname "$0")/../.."
export TD_SECURITY_PORT=${TD_SECURITY_PORT:-54900}
python3 -m pytest -q -p no:cacheprovider tests/serving
