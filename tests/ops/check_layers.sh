#!/usr/bin/env bash
# tests/ops/check_layers.sh — the architecture as README.md's layout table
# states it, checked on the tree and on the built binaries:
#
# 1. The layout table names every folder that holds code (lib/*, src/*,
#    and each top-level folder), and every path it names exists.
# 2. #include lines only point down the layers: lib/common ← lib/model,
#    lib/stats, lib/aws (none of which includes another) ← src/glue ←
#    src/serving, src/monitoring, src/decoding (none of which includes
#    another) ← src/taxi_duration.c; the Lambda includes only the model,
#    AWS and common libraries, the forwarder only the AWS and common ones.
# 3. Each program links the libraries it needs and nothing else (nm):
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

check() { # check NAME COMMAND...: passes when COMMAND prints nothing
	local name=$1 out
	shift
	out=$("$@")
	if [ -z "$out" ]; then
		passed=$((passed + 1))
		echo "ok: $name"
	else
		failed=$((failed + 1))
		echo "FAILED: $name:"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}

# The paths in the first column of the README's layout table.
layout_paths() {
	sed -n '/^## Layout/,/^## /p' README.md | grep '^| `' |
		cut -d'|' -f2 | grep -o '`[^`]*`' | tr -d '`'
}

folders_missing_from_layout() {
	local table d
	table=$(layout_paths)
	for d in $(git ls-files | grep / | cut -d/ -f1 | sort -u) \
		$(git ls-files lib src | grep -E '^(lib|src)/[^/]+/' | cut -d/ -f1-2 | sort -u); do
		case "$d" in .github | .ci) continue ;; esac
		printf '%s\n' "$table" | grep -qE "^$d(/|$)" || echo "$d is not in README.md's layout table"
	done
}

layout_paths_missing() {
	local p
	for p in $(layout_paths); do
		case "$p" in *'*'* | '<'*) compgen -G "$p" >/dev/null || echo "$p matches nothing" ;;
		*) [ -e "$p" ] || echo "$p does not exist" ;; esac
	done
}

# includes_outside DIR ALLOWED-REGEX: the project headers (a path relative
# to src/, or a library header td*.h) DIR's files include that are not
# allowed; PostgreSQL's headers are every subsystem's to use
includes_outside() {
	local dir=$1 allowed=$2
	git ls-files "$dir" | grep -E '\.(c|h)$' | while read -r f; do
		grep -oE '^#include "[^"]+"' "$f" | sed 's/#include "//; s/"$//' |
			grep -E '^((glue|serving|monitoring|decoding)/|td|fuzz_|drift_goldens|lambda\.h|fwd\.h)' |
			grep -vE "^($allowed)$" | sed "s|^|$f includes |"
	done
}

check "every code folder is in README.md's layout table" folders_missing_from_layout
check "every path of README.md's layout table exists" layout_paths_missing
check "lib/common includes only itself" includes_outside lib/common 'tdc[a-z_]*\.h'
for lib in model stats aws; do
	prefix=$(case $lib in model) echo td ;; stats) echo tds ;; aws) echo tda ;; esac)
	check "lib/$lib includes only itself and lib/common" includes_outside lib/$lib \
		"${prefix}_[a-z_]*\.h|tdc\.h|tdc_test\.h|fuzz_model\.h|drift_goldens\.h"
done
check "src/glue includes only the glue and lib/common" includes_outside src/glue 'glue/[a-z_]+\.h|tdc\.h'
check "src/serving: the glue, serving, lib/model, lib/aws" includes_outside src/serving \
	'glue/[a-z_]+\.h|serving/[a-z_]+\.h|td_model\.h|tda_aws\.h|tdc\.h'
check "src/monitoring: the glue, monitoring, lib/stats" includes_outside src/monitoring \
	'glue/[a-z_]+\.h|monitoring/[a-z_]+\.h|tds_stats\.h|tdc\.h'
check "src/decoding: the glue, decoding" includes_outside src/decoding 'glue/[a-z_]+\.h|decoding/[a-z_]+\.h'
check "the Lambda: lib/model, lib/aws, lib/common" includes_outside lambda 'lambda\.h|td_model\.h|tda_aws\.h|tdc\.h'
check "the forwarder: lib/aws, lib/common" includes_outside forwarder 'fwd\.h|tda_aws\.h|tdc\.h'

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
