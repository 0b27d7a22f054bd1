#!/bin/bash
# bench/bench_streaming.sh — forwarder throughput into moto and the C Lambda vs
# a Python Lambda (MLOps Zoomcamp style) under the AWS Lambda RIE; appends a
# "## Streaming — <date>" section to bench/RESULTS.md.  Run from the repo root
# as root.  Needs what tests/streaming/run.sh needs, plus `pip install awslambdaric`.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"     # same pin as tests/lambda/run.sh
RIE_DIR="${TD_RIE_DIR:-$ROOT/tests/lambda/.bin}"
WORK=$(mktemp -d /tmp/td_stream_bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	. "$ROOT/tests/lib/cluster.sh"
	td_cluster_stop "$WORK/pg"
	python3 "$ROOT/tests/lib/servers.py" stop --state-dir "$WORK/servers" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
make -s -C "$ROOT/forwarder" >/dev/null
make -s -C "$ROOT/lambda" >/dev/null
python3 -c 'import awslambdaric' 2>/dev/null || pip install -q awslambdaric
if [ ! -x "$RIE_DIR/aws-lambda-rie" ] || [ ! -f "$RIE_DIR/.version-$RIE_VERSION" ]; then
	mkdir -p "$RIE_DIR"
	GOBIN="$RIE_DIR" GOFLAGS=-mod=mod go install \
		"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION"
	touch "$RIE_DIR/.version-$RIE_VERSION"
fi
export TAXI_DATA_DIR="${TAXI_DATA_DIR:-/work/shared/data}"
python3 -u "$ROOT/bench/bench_streaming.py" "$WORK" --rie "$RIE_DIR/aws-lambda-rie" \
	--bootstrap "$ROOT/lambda/build/bootstrap" --trips "${TRIPS:-50000}" >"$WORK/section.md"
cat "$WORK/section.md"
cat "$WORK/section.md" >>"$ROOT/bench/RESULTS.md"
