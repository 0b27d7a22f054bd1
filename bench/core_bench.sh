#!/usr/bin/env bash
# bench/core_bench.sh — the model library's scorer, build against build, in
# one run: builds bench/core_bench.c against the model library of each git
# revision given (WORK = the working tree), then runs the builds in turn,
# ROUNDS times interleaved (this machine is shared and noisy), keeping each
# build's best; XGBoost's single-threaded inplace_predict on the same trips
# is timed before and after (bench/core_trips.py; best of both).  Prints a
# Markdown table: ns/row with and without the pickup time, the ratio to the
# previous build and to XGBoost, and the bit-identical count against
# XGBoost's own predictions.
#
#   bash bench/core_bench.sh [REV ...]     (default: HEAD~1 WORK)
#   ROUNDS=5 PASSES=3 TAXI_DATA_DIR=... PYTHON=.venv/bin/python
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
	export TAXI_DATA_DIR=$(cd ../shared/data && pwd)
fi
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
ROUNDS=${ROUNDS:-5}
PASSES=${PASSES:-3}
BUNDLE=$ROOT/python/taxi_duration_ml/default_bundle.json
OUT=${TD_CORE_BENCH_DIR:-/tmp/taxi_duration_core_bench}
[ $# -gt 0 ] || set -- HEAD~1 WORK
mkdir -p "$OUT"

build() { # rev -> $OUT/bin/<rev>
	local rev=$1 src
	if [ "$rev" = WORK ]; then
		src=$ROOT
	else
		src=$OUT/src/$rev
		rm -rf "$src" && mkdir -p "$src"
		git archive "$rev" lib | tar -x -C "$src"
	fi
	make -s -C "$src/lib/common" lib >/dev/null
	make -s -C "$src/lib/model" lib >/dev/null
	mkdir -p "$OUT/bin"
	cc -O2 -I"$src/lib/model" -I"$src/lib/common" bench/core_bench.c \
		"$src/lib/model/build/libtdmodel.a" "$src/lib/common/build/libtdcommon.a" \
		-lcjson -lm -o "$OUT/bin/$rev"
}
for rev in "$@"; do build "$rev"; done

xgb() { "$PYTHON" bench/core_trips.py --out "$OUT/data" --repeat "$PASSES" >>"$OUT/xgb.txt"; }
: >"$OUT/xgb.txt"
xgb
: >"$OUT/runs.txt"
for ((r = 0; r < ROUNDS; r++)); do
	for rev in "$@"; do
		"$OUT/bin/$rev" "$BUNDLE" "$OUT/data/trips.csv" "$PASSES" "$OUT/data" |
			sed "s|^|$rev |" >>"$OUT/runs.txt"
	done
done
xgb
N=$(wc -l <"$OUT/data/trips.csv")
echo "$N trips (2021-02), best of $ROUNDS interleaved rounds x $PASSES passes, process CPU time, $(date -u +%Y-%m-%d) on $(nproc) cores"
echo
echo "| build | ns/row with time | ns/row without | vs previous (with / without) | vs XGBoost 1 thread (with / without) | bit-identical with / without |"
echo "|---|---|---|---|---|---|"
awk -v order="$*" '
	FILENAME ~ /xgb/ { if (!($1 in x) || $2 < x[$1]) x[$1] = $2; next }
	{ k = $1 " " $2; if (!(k in b) || $3 < b[k]) b[k] = $3; ex[k] = $6 }
	END {
		n = split(order, revs, " ")
		printf "| XGBoost inplace_predict | %.0f | %.0f | | 1.00 / 1.00 | |\n", x["xgb4"], x["xgb3"]
		for (i = 1; i <= n; i++) {
			r = revs[i]; t = b[r " time"]; u = b[r " notime"]
			prev = i > 1 ? sprintf("%.2f / %.2f", t / pt, u / pu) : ""
			printf "| %s | %.0f | %.0f | %s | %.2f / %.2f | %s / %s |\n", r, t, u, prev,
				t / x["xgb4"], u / x["xgb3"], ex[r " time"], ex[r " notime"]
			pt = t; pu = u
		}
	}' "$OUT/xgb.txt" "$OUT/runs.txt"
