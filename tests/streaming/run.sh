#!/bin/bash
# tests/streaming/run.sh — the whole streaming path end to end:
#   PostgreSQL (taxi_duration plugin) -> td-forwarder -> Kinesis (moto, auth on)
#   -> poller (stands in for the event-source mapping) -> C Lambda under the
#   AWS Lambda RIE -> Kinesis stg_taxi_predictions.
# Run from the repo root as root.  Prints "N passed, M failed"; exits
# non-zero on failure.  Every process it starts is stopped on the way out.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"     # same pin as tests/lambda/run.sh
RIE_DIR="${TD_RIE_DIR:-$ROOT/tests/lambda/.bin}"
WORK=$(mktemp -d /tmp/td_stream_test.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	# the driver stops everything itself; this catches a killed driver
	. "$ROOT/tests/lib/cluster.sh"
	td_cluster_stop "$WORK/pg"
	python3 "$ROOT/tests/lib/servers.py" stop --state-dir "$WORK/servers" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
make -s -C "$ROOT/forwarder" >/dev/null || { echo "0 passed, 1 failed (forwarder build)"; exit 1; }
make -s -C "$ROOT/lambda" >/dev/null || { echo "0 passed, 1 failed (lambda build)"; exit 1; }
if [ ! -x "$RIE_DIR/aws-lambda-rie" ] || [ ! -f "$RIE_DIR/.version-$RIE_VERSION" ]; then
	mkdir -p "$RIE_DIR"
	GOBIN="$RIE_DIR" GOFLAGS=-mod=mod go install \
		"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION" \
		|| { echo "0 passed, 1 failed (aws-lambda-rie install)"; exit 1; }
	touch "$RIE_DIR/.version-$RIE_VERSION"
fi
export TAXI_DATA_DIR="${TAXI_DATA_DIR:-/work/shared/data}"
timeout -k 10 240 python3 -u "$ROOT/tests/streaming/test_e2e.py" "$WORK" \
	--rie "$RIE_DIR/aws-lambda-rie" --bootstrap "$ROOT/lambda/build/bootstrap"
rc=$?
if [ $rc -ne 0 ]; then
	for f in forwarder.log rie.log; do
		[ -f "$WORK/$f" ] && { echo "--- last $f lines"; tail -n 20 "$WORK/$f"; }
	done
fi
exit $rc
