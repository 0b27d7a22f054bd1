#!/bin/bash
# bench/bench_streaming.sh — the streaming benchmarks; each appends its section to
# bench/RESULTS.md.  Run from the repo root as root.  Needs what tests/streaming/run.sh
# needs, plus `pip install awslambdaric`.
#
#   "## Streaming — <date>" (bench/bench_streaming.py): forwarder throughput into moto, and
#       the C Lambda vs the C Lambda of the old scorer vs a Python Lambda (MLOps Zoomcamp
#       style) under the AWS Lambda RIE: cold start, a 1,000-record batch's round trip and
#       its predict part (from each Lambda's own log).
#   "## Streaming latency and throughput — <date>" (bench/bench_stream_latency.py):
#       commit -> Kinesis and commit -> prediction latency at steady rates, forwarder CPU and
#       peak RSS, maximum throughput by TD_INFLIGHT against moto and moto + 20 ms.
#
# Environment (defaults in brackets):
#   TRIPS [50000]                trips of the first section's throughput run
#   STREAM_RATES [500,2000,5000] trips/s of the steady runs    STREAM_SECONDS [60] per rate
#   STREAM_PRELOAD [100000]      trips of each maximum-throughput run
#   STREAM_INFLIGHT [1,2,4]      TD_INFLIGHT values            STREAM_DELAY_MS [20] proxy latency
#   STREAM_REPEATS [3]           throughput runs per configuration (the median is reported)
#   STREAM_LAMBDAS [4]           emulated Lambda instances (one per shard)
#   STREAM_PARTS [a,b]           steady runs (a), throughput runs (b)
#   STREAM_SECTIONS [base,latency]  which of the two sections to run
#   STREAM_LAMBDA_BASELINE [6b23ace]  the old scorer's revision for the first section, the
#                                last commit before the new scorer: its lib/ and lambda/
#                                (git archive) build the baseline bootstrap; empty: skipped
#   STREAM_RAW_DIR [unset]       keep each steady run's per-trip times (.npy) and forwarder log
#   STREAM_PORT_BASE [55600]     PostgreSQL, moto and the proxy use ports from here (+0..+2
#                                for the latency section, +10, +11 for the first)
# A quick run (about a minute for the latency section):
#   STREAM_SECTIONS=latency STREAM_SECONDS=10 STREAM_PRELOAD=20000 bash bench/bench_streaming.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"     # same pin as tests/lambda/run.sh
RIE_DIR="${TD_RIE_DIR:-$ROOT/tests/lambda/.bin}"
SECTIONS="${STREAM_SECTIONS:-base,latency}"
PORT_BASE="${STREAM_PORT_BASE:-55600}"
WORK=$(mktemp -d /tmp/td_stream_bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	. "$ROOT/tests/lib/cluster.sh"
	td_cluster_stop "$WORK/pg"
	td_cluster_stop "$WORK/pg-lat"
	python3 "$ROOT/tests/lib/servers.py" stop --state-dir "$WORK/servers" >/dev/null 2>&1
	python3 "$ROOT/tests/lib/servers.py" stop --state-dir "$WORK/servers-lat" >/dev/null 2>&1
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
# the command as run, with the settings that were overridden
COMMAND="bash bench/bench_streaming.sh"
for v in TRIPS STREAM_RATES STREAM_SECONDS STREAM_PRELOAD STREAM_INFLIGHT STREAM_DELAY_MS \
	STREAM_REPEATS STREAM_LAMBDAS STREAM_PARTS STREAM_SECTIONS STREAM_PORT_BASE \
	STREAM_LAMBDA_BASELINE; do
	[ -n "${!v+set}" ] && COMMAND="$v=${!v} $COMMAND"
done
case ",$SECTIONS," in *,base,*)
	BASELINE="${STREAM_LAMBDA_BASELINE-6b23ace}"
	BASELINE_ARGS=()
	if [ -n "$BASELINE" ]; then
		mkdir -p "$WORK/baseline"
		git -C "$ROOT" archive "$BASELINE" lib lambda | tar -x -C "$WORK/baseline"
		make -s -C "$WORK/baseline/lambda" >/dev/null
		BASELINE_ARGS=(--bootstrap-baseline "$WORK/baseline/lambda/build/bootstrap"
			--baseline-rev "$(git -C "$ROOT" rev-parse --short "$BASELINE")")
	fi
	python3 -u "$ROOT/bench/bench_streaming.py" "$WORK" --rie "$RIE_DIR/aws-lambda-rie" \
		--bootstrap "$ROOT/lambda/build/bootstrap" "${BASELINE_ARGS[@]}" --trips "${TRIPS:-50000}" \
		--pg-port $((PORT_BASE + 10)) --moto-port $((PORT_BASE + 11)) \
		--command "$COMMAND" >"$WORK/section.md"
	cat "$WORK/section.md"
	cat "$WORK/section.md" >>"$ROOT/bench/RESULTS.md"
	;;
esac
case ",$SECTIONS," in *,latency,*)
	python3 -u "$ROOT/bench/bench_stream_latency.py" "$WORK" --rie "$RIE_DIR/aws-lambda-rie" \
		--bootstrap "$ROOT/lambda/build/bootstrap" --pg-port "$PORT_BASE" \
		--moto-port $((PORT_BASE + 1)) --proxy-port $((PORT_BASE + 2)) \
		--command "$COMMAND" >"$WORK/latency.md"
	cat "$WORK/latency.md"
	cat "$WORK/latency.md" >>"$ROOT/bench/RESULTS.md"
	;;
esac
