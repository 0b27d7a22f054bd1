#!/usr/bin/env bash
# tests/ha/run.sh — replicas and failover, under pytest.
#
#   bash tests/ha/run.sh          on the PostgreSQL the extension is installed in
#                                 (PG_CONFIG / TD_PG_BINDIR)
#   bash tests/ha/run.sh MAJOR    on PostgreSQL MAJOR (15, 17, 18) in its cached Debian
#                                 chroot, through tests/matrix.sh MAJOR ha (as root)
#
#   test_replica.py           a hot standby serves, loads (file and models:/ alias) and
#                             monitors on its own
#   test_slot_gap.py          after a failover to a standby without the slot, the forwarder
#                             refuses to skip events, until resynchronised
#   test_failover.py          (17+) 100,000 real trips, the primary killed mid-stream: failover
#                             slots, multi-host forwarder; prints "failover on PostgreSQL N:
#                             trips inserted ..., in the stream ..., lost ..., duplicates ..."
#   test_standby_decoding.py  (16+) the forwarder decodes on the standby
# Needs the extension installed, the forwarder's build dependencies, moto and MLflow
# (tests/requirements-servers.txt) and the 2021-01 and 2021-02 green-taxi parquet in
# TAXI_DATA_DIR (default: shared/data beside the repository).
# TD_CLUSTER_PORT: the first of the clusters' ports (default 54700).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -gt 0 ]; then
	exec bash "$ROOT/tests/matrix.sh" "$1" ha
fi
cd "$ROOT"
WORK=$(mktemp -d /tmp/td_ha_test.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	. "$ROOT/tests/lib/cluster.sh"
	for d in "$WORK"/td_sec_*; do [ -d "$d" ] && td_cluster_stop "$d"; done
	rm -rf "$WORK"
}
trap cleanup EXIT
make -s -C "$ROOT/forwarder" >/dev/null || { echo "forwarder build failed"; exit 1; }
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d "$ROOT/../shared/data" ]; then
	export TAXI_DATA_DIR="$(cd "$ROOT/../shared/data" && pwd)"
fi
TD_TESTS_STRICT=1 TD_TEST_WORKDIR="$WORK" TD_FORWARDER_BIN="$ROOT/forwarder/td-forwarder" TD_CLUSTER_PORT=${TD_CLUSTER_PORT:-54700} \
	timeout -k 10 1200 python3 -m pytest -q -rs -p no:cacheprovider tests/ha
