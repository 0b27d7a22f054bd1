#!/usr/bin/env bash
# tests/ops/check_links.sh — each program links the libraries it needs and
# nothing else, checked on the built binaries with nm:
#
#   lambda/build/bootstrap   model, aws, common: no statistics (tds_), no PostgreSQL
#   forwarder/td-forwarder   aws, common: no model (td_), no statistics
#   taxi_duration.so         model, stats, aws, common: no Kinesis writer
#                            (the extension never sends to Kinesis)
#
# Builds what is missing first.  Prints one line per check and
# "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/../.."
make -s -C lambda >/dev/null && make -s -C forwarder >/dev/null && make -s >/dev/null || {
	echo "0 passed, 1 failed (build)"
	exit 1
}
passed=0
failed=0

# check NAME BINARY PATTERN: no defined or undefined symbol matches PATTERN
absent() {
	local name=$1 bin=$2 pattern=$3 found
	found=$(nm "$bin" | awk '{print $NF}' | grep -E "$pattern" | head -5)
	if [ -z "$found" ]; then
		passed=$((passed + 1))
		echo "ok: $name"
	else
		failed=$((failed + 1))
		echo "FAILED: $name: $(echo "$found" | tr '\n' ' ')"
	fi
}

# check NAME BINARY PATTERN: some symbol matches PATTERN (the check can fail)
present() {
	local name=$1 bin=$2 pattern=$3
	if nm "$bin" | awk '{print $NF}' | grep -qE "$pattern"; then
		passed=$((passed + 1))
		echo "ok: $name"
	else
		failed=$((failed + 1))
		echo "FAILED: $name: no symbol matches $pattern"
	fi
}

present "the Lambda links the model library" lambda/build/bootstrap '^td_predict$'
present "the Lambda links the Kinesis sender" lambda/build/bootstrap '^tda_kinesis_'
absent "the Lambda has no statistics symbols" lambda/build/bootstrap '^tds_'
absent "the Lambda has no PostgreSQL symbols" lambda/build/bootstrap '^(palloc|PQ)'
present "the forwarder links the Kinesis sender" forwarder/td-forwarder '^tda_kinesis_'
absent "the forwarder has no model symbols" forwarder/td-forwarder '^td_'
absent "the forwarder has no statistics symbols" forwarder/td-forwarder '^tds_'
present "the extension links the statistics library" taxi_duration.so '^tds_stattest_'
absent "the extension has no Kinesis writer" taxi_duration.so '^tda_kinesis_'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
