#!/bin/bash
# tests/localstack/run.sh — the AWS-facing suites against LocalStack 4.14.0, the emulator of
# docker-compose.local.yaml, instead of moto: LocalStack runs as a host process (no Docker),
# configured from the compose file's `localstack` service, and its READY hook
# docker/localstack/init/ready.d/10-taxi-duration.sh creates the bucket and the two streams
# (tests/lib/localstack_host.py).  One pytest run, TD_AWS_BACKEND=localstack, each module with
# its own LocalStack:
#   tests/localstack/test_compose_hook.py   the hook ran, bucket and streams by .env.dev's names
#   tests/localstack/test_s3_models.py      the extension loads a model from LocalStack's S3
#   tests/lambda/test_lambda.py             the C Lambda under the RIE: Kinesis, an s3:// model
#   tests/streaming/test_e2e.py             PostgreSQL -> forwarder -> Kinesis -> Lambda ->
#                                           Kinesis, every prediction bit-identical to SQL
# The Lambda stays under the AWS Lambda Runtime Interface Emulator (LocalStack's Lambda needs
# Docker).  Run as root from anywhere; installs LocalStack first when needed
# (tests/localstack/install.sh: cached).  Environment: TAXI_DATA_DIR (default: shared/data
# beside the repository), TD_LOCALSTACK_VENV, TD_RIE_DIR, TD_CLUSTER_PORT.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d" # same pin as tests/lambda/run.sh
RIE_DIR="${TD_RIE_DIR:-$ROOT/tests/lambda/.bin}"
bash tests/localstack/install.sh || { echo "LocalStack install failed"; exit 1; }
WORK=$(mktemp -d /tmp/td_localstack_test.XXXXXX)
chmod 755 "$WORK"
# shellcheck disable=SC2329 # the EXIT trap
cleanup() {
	# the fixtures stop everything; this catches a killed run (LocalStack has a watchdog)
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
	TAXI_DATA_DIR="$(cd "$ROOT/../shared/data" && pwd)"
	export TAXI_DATA_DIR
fi
TD_AWS_BACKEND=localstack TD_TESTS_STRICT=1 TD_FORWARDER_BIN="$ROOT/forwarder/td-forwarder" \
	TD_RIE="$RIE_DIR/aws-lambda-rie" TD_LAMBDA_BOOTSTRAP="$ROOT/lambda/build/bootstrap" \
	TD_TEST_WORKDIR="$WORK" \
	timeout -k 10 600 python3 -m pytest -q -p no:cacheprovider \
	tests/localstack/test_compose_hook.py tests/localstack/test_s3_models.py \
	tests/lambda/test_lambda.py tests/streaming/test_e2e.py
rc=$?
if [ $rc -ne 0 ]; then
	for f in test_e2e/forwarder.log test_e2e/rie.log; do
		[ -f "$WORK/$f" ] && { echo "--- last $f lines"; tail -n 20 "$WORK/$f"; }
	done
fi
exit $rc
