#!/usr/bin/env bash
# tests/lambda/run.sh — end-to-end test of the C Lambda (lambda/bootstrap)
# under the AWS Lambda Runtime Interface Emulator, writing to Kinesis in a
# moto server.  Run from anywhere; prints "N passed, M failed".
#
#   bash tests/lambda/run.sh
#
# Needs: gcc, make, libcurl/cJSON/OpenSSL headers, Go (to install the
# emulator from the Go module proxy), the model/ Python requirements (for
# the reference predictions), moto (tests/requirements-servers.txt), and
# the 2021-02 green-taxi parquet in $TAXI_DATA_DIR (default: shared/data
# beside the repository, else model/data.py's cache or download).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# The emulator, pinned (a pseudo-version: the module has no semver tags).
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"
RIE_DIR="${TD_RIE_DIR:-$ROOT/tests/lambda/.bin}"

pip install -q -r tests/lambda/requirements.txt

echo "== cfn-lint template.yaml"
cfn-lint template.yaml

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
	export TAXI_DATA_DIR="$ROOT/../shared/data"
fi

exec python3 tests/lambda/test_lambda.py --rie "$RIE_DIR/aws-lambda-rie" \
	--bootstrap "$ROOT/lambda/build/bootstrap"
