#!/usr/bin/env bash
# tests/lambda/run.sh — end-to-end test of the C Lambda (lambda/bootstrap)
# under the AWS Lambda Runtime Interface Emulator, writing to Kinesis in a
# moto server: builds the bootstrap, installs the emulator, then runs
# tests/lambda/test_lambda.py under pytest (template.yaml is linted by
# tests/ops/validate_iac.sh).
#
#   bash tests/lambda/run.sh
#
# Needs: gcc, make, libcurl/cJSON/OpenSSL headers, Go (to install the
# emulator from the Go module proxy), the Python package (the reference
# predictions; boto3 from its [flow] extra), moto
# (tests/requirements-servers.txt), and the 2021-02 green-taxi parquet in $TAXI_DATA_DIR (default: shared/data
# beside the repository).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# The emulator, pinned (a pseudo-version: the module has no semver tags).
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"
RIE_DIR="${TD_RIE_DIR:-$ROOT/tests/lambda/.bin}"

echo "== make -C lambda"
make -s -C lambda

if [ ! -x "$RIE_DIR/aws-lambda-rie" ] || [ ! -f "$RIE_DIR/.version-$RIE_VERSION" ]; then
	echo "== installing aws-lambda-rie@$RIE_VERSION"
	mkdir -p "$RIE_DIR"
	GOBIN="$RIE_DIR" GOFLAGS=-mod=mod go install \
		"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION"
	touch "$RIE_DIR/.version-$RIE_VERSION"
fi

if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d "$ROOT/../shared/data" ]; then
	export TAXI_DATA_DIR="$(cd "$ROOT/../shared/data" && pwd)"
fi

echo "== pytest tests/lambda/test_lambda.py"
TD_TESTS_STRICT=1 TD_RIE="$RIE_DIR/aws-lambda-rie" TD_LAMBDA_BOOTSTRAP="$ROOT/lambda/build/bootstrap" \
	exec python3 -m pytest -q -p no:cacheprovider tests/lambda/test_lambda.py
