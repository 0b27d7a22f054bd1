# tests/lib/results.sh — the result lines of the ops check scripts (sourced):
#   result NAME STATUS   "--- ok: NAME" when STATUS is 0, else "--- FAILED: NAME"
# and the counters passed, failed and failed_names, for the closing
# "failed: ..." and "N passed, N failed" lines.
# shellcheck shell=bash
passed=0
failed=0
failed_names=()
result() { # NAME STATUS
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "--- ok: $1"
	else
		failed=$((failed + 1))
		failed_names+=("$1")
		echo "--- FAILED: $1"
	fi
}
