#!/bin/bash
# tests/streaming/run.sh — the whole streaming path end to end:
#   PostgreSQL (taxi_duration plugin) -> td-forwarder -> Kinesis (moto, auth on)
#   -> poller (stands in for the event-source mapping) -> C Lambda under the
#   AWS Lambda RIE -> Kinesis stg_taxi_predictions.
# Run from anywhere as root: builds the forwarder and the Lambda, installs the
# emulator, runs tests/streaming/test_e2e.py under pytest (the fixtures stop
# every process they start).  Exits non-zero on failure and then shows the
# last lines of the forwarder's and the emulator's logs.
# Environment: TAXI_DATA_DIR (default: shared/data beside the repository),
# PG_CONFIG / TD_PG_BINDIR (the PostgreSQL to run), TD_CLUSTER_PORT, TD_RIE_DIR.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"     # same pin as tests/lambda/run.sh
RIE_DIR="${TD_RIE_DIR:-$ROOT/tests/lambda/.bin}"
WORK=$(mktemp -d /tmp/td_stream_test.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	# the fixtures stop everything; this catches a killed run (servers have a watchdog)
	. "$ROOT/tests/lib/cluster.sh"
	for d in "$WORK"/td_sec_*; do [ -d "$d" ] && td_cluster_stop "$d"; done
	rm -rf "$WORK"
}
trap cleanup EXIT
make -s -C "$ROOT/forwarder" >/dev/null || { echo "forwarder build failed"; exit 1; }
make -s -C "$ROOT/lambda" >/dev/null || { echo "lambda build failed"; exit 1; }
if [ ! -x "$RIE_DIR/aws-lambda-rie" ] || [ ! -f "$RIE_DIR/.version-$RIE_VERSION" ]; then
	mkdir -p "$RIE_DIR"
	GOBIN="$RIE_DIR" GOFLAGS=-mod=mod go install \
		"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION" \
		|| { echo "aws-lambda-rie install failed"; exit 1; }
	touch "$RIE_DIR/.version-$RIE_VERSION"
fi
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d "$ROOT/../shared/data" ]; then
	export TAXI_DATA_DIR="$(cd "$ROOT/../shared/data" && pwd)"
fi
TD_TESTS_STRICT=1 TD_FORWARDER_BIN="$ROOT/forwarder/td-forwarder" TD_RIE="$RIE_DIR/aws-lambda-rie" \
	TD_LAMBDA_BOOTSTRAP="$ROOT/lambda/build/bootstrap" TD_TEST_WORKDIR="$WORK" \
	timeout -k 10 240 python3 -m pytest -q -p no:cacheprovider tests/streaming/test_e2e.py
rc=$?
if [ $rc -ne 0 ]; then
	for f in forwarder.log rie.log; do
		[ -f "$WORK/test_e2e/$f" ] && { echo "--- last $f lines"; tail -n 20 "$WORK/test_e2e/$f"; }
	done
fi
exit $rc
