#!/bin/bash
# tests/forwarder/run.sh — end-to-end tests of forwarder/td-forwarder.
#
# Run from anywhere as root (or the postgres user): builds the forwarder,
# then runs tests/forwarder/ under pytest: test_forwarder.py (moto with auth
# on, a throwaway cluster and the forwarder, through every fault case),
# test_quiet_slot.py (the slot moves past WAL without trip events) and
# test_table_renamed.py (the plugin's warning about a renamed table reaches
# forwarder_lag.last_error), test_slot_retention.py (a forwarder stopped for
# long: forwarder_lag, the alerts of check_forwarder_slots() before
# max_slot_wal_keep_size invalidates the slot, what the forwarder reports once
# it has); the fixtures stop everything.  Exits non-zero on failure and then shows the
# last lines of the forwarder's log.
# Environment: TAXI_DATA_DIR (default: shared/data beside the repository),
# PG_CONFIG / TD_PG_BINDIR (the PostgreSQL to run), TD_FWD_TEST_PGPORT (the
# cluster's port, 54481).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d /tmp/td_fwd_test.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	# the fixtures stop everything; this catches a killed run (servers have a watchdog)
	. "$ROOT/tests/lib/cluster.sh"
	for d in "$WORK"/td_sec_*; do [ -d "$d" ] && td_cluster_stop "$d"; done
	rm -rf "$WORK"
}
trap cleanup EXIT
make -s -C "$ROOT/forwarder" >/dev/null || { echo "forwarder build failed"; exit 1; }
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d "$ROOT/../shared/data" ]; then
	export TAXI_DATA_DIR="$(cd "$ROOT/../shared/data" && pwd)"
fi
TD_TESTS_STRICT=1 TD_FORWARDER_BIN="$ROOT/forwarder/td-forwarder" TD_TEST_WORKDIR="$WORK" \
	timeout -k 10 480 python3 -m pytest -q -p no:cacheprovider tests/forwarder
rc=$?
if [ $rc -ne 0 ] && [ -f "$WORK/test_forwarder/forwarder.log" ]; then
	echo "--- last forwarder log lines"; tail -n 30 "$WORK/test_forwarder/forwarder.log"
fi
exit $rc
