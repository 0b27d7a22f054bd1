#!/bin/bash
# tests/forwarder/run.sh — end-to-end tests of forwarder/td-forwarder.
#
# Run from anywhere as root (or the postgres user): builds the forwarder,
# then tests/forwarder/test_forwarder.py starts moto (auth on), a throwaway
# cluster and the forwarder, runs the fault cases and stops everything.
# Prints "N passed, M failed"; exits non-zero on failure.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/td_fwd_test.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	# the driver stops everything itself; this catches a killed driver
	. "$ROOT/tests/lib/cluster.sh"
	td_cluster_stop "$WORK/pg"
	python3 "$ROOT/tests/lib/servers.py" stop --state-dir "$WORK/servers" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
make -s -C "$ROOT/forwarder" >/dev/null || { echo "0 passed, 1 failed (build)"; exit 1; }
timeout -k 10 420 python3 -u "$ROOT/tests/forwarder/test_forwarder.py" "$WORK"
rc=$?
if [ $rc -ne 0 ] && [ -f "$WORK/forwarder.log" ]; then
	echo "--- last forwarder log lines"; tail -n 30 "$WORK/forwarder.log"
fi
exit $rc
