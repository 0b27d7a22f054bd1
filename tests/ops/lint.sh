#!/usr/bin/env bash
# tests/ops/lint.sh — the code-quality gates (also `make lint`, CI and
# .pre-commit-config.yaml):
#
#   clang-format   C style: clang-format-14 --dry-run --Werror (.clang-format)
#   ruff-format    Python style: ruff format --check (ruff.toml)
#   ruff-check     Python lint: ruff check (ruff.toml)
#   cppcheck       C static analysis of src/, lambda/, forwarder/
#                  (tests/ops/cppcheck-suppressions.txt)
#   clang-tidy     C static analysis (.clang-tidy) of the core, the fetch
#                  library, the extension, the Lambda and the forwarder
#
#   bash tests/ops/lint.sh                 every gate; "N passed, N failed"
#   bash tests/ops/lint.sh GATE...         only those gates
#   bash tests/ops/lint.sh --fix           apply: ruff check --fix, ruff format,
#                                          clang-format -i (`make format`)
#
# Exit status 1 when any gate fails.  The tools come from
# tests/ops/install-lint.sh (Debian's clang-format-14, clang-tidy-14 and
# cppcheck; ruff pinned in tests/ops/requirements-lint.txt, in the virtualenv
# TD_OPS_VENV, default /opt/td-ops-venv); the PostgreSQL headers (pg_config)
# come from scripts/install-deps.sh.  LINT_JOBS (default 2) parallel jobs.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
export LC_ALL=C

OPS_VENV=${TD_OPS_VENV:-/opt/td-ops-venv}
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy-14}
CPPCHECK=${CPPCHECK:-cppcheck}
PG_CONFIG=${PG_CONFIG:-pg_config}
JOBS=${LINT_JOBS:-2}
if [ -n "${RUFF:-}" ]; then
	:
elif [ -x "$OPS_VENV/bin/ruff" ]; then
	RUFF=$OPS_VENV/bin/ruff
else
	RUFF=ruff
fi
RUFF_PIN=$(sed -n 's/^ruff==//p' tests/ops/requirements-lint.txt)

# Generated files, left as their generator writes them.
C_EXCLUDE='^lib/stats/(test/(drift|stattest|text)_goldens|tds_text_tables)\.h$'

# Every C source and header of the project (tracked, or new and not ignored).
c_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files --cached --others --exclude-standard -- '*.c' '*.h'
	else
		find . -path ./.git -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||'
	fi | grep -Ev "$C_EXCLUDE" | while read -r f; do [ -f "$f" ] && echo "$f"; done | sort
}

# The C files clang-tidy compiles, each with the flags of its Makefile, as
# "file flags..." lines.
tidy_units() {
	local pgs pgi f
	pgs=$("$PG_CONFIG" --includedir-server) || return 1
	pgi=$("$PG_CONFIG" --includedir) || return 1
	c_files | grep '\.c$' | while read -r f; do
		case "$f" in
			lib/*/test/*.c | lib/*/fuzz/*.c) ;;
			lib/*/*.c) echo "$f -std=gnu99 -I${f%/*} -Ilib/common" ;;
			src/*.c) echo "$f -std=gnu99 -Isrc -Ilib/common -Ilib/model -Ilib/stats -Ilib/aws -I$pgs" ;;
			lambda/*.c) echo "$f -std=gnu99 -Ilambda -Ilib/common -Ilib/model -Ilib/aws" ;;
			forwarder/*.c) echo "$f -std=gnu99 -Iforwarder -Ilib/common -Ilib/aws -I$pgi" ;;
		esac
	done
}

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "$1 not found: run tests/ops/install-lint.sh" >&2
	return 1
}

check_ruff_version() {
	local have
	need "$RUFF" || return 1
	have=$("$RUFF" --version | awk '{print $2}')
	if [ "$have" != "$RUFF_PIN" ]; then
		echo "ruff $have found, $RUFF_PIN pinned (formatting differs between versions): run tests/ops/install-lint.sh" >&2
		return 1
	fi
}

gate_clang_format() {
	need "$CLANG_FORMAT" || return 1
	c_files | xargs -r "$CLANG_FORMAT" --dry-run --Werror
}

gate_ruff_format() {
	check_ruff_version || return 1
	"$RUFF" format --check --diff .
}

gate_ruff_check() {
	check_ruff_version || return 1
	"$RUFF" check --no-fix --output-format=full .
}

gate_cppcheck() {
	local pgs pgi
	need "$CPPCHECK" || return 1
	pgs=$("$PG_CONFIG" --includedir-server) || return 1
	pgi=$("$PG_CONFIG" --includedir) || return 1
	# --max-configs=1: the configuration the code is built in (the #ifdef
	# combinations of PostgreSQL's headers multiply the run time by ~20 and
	# are not configurations this project builds).
	"$CPPCHECK" --enable=warning,performance,portability --error-exitcode=1 \
		--inline-suppr --suppressions-list=tests/ops/cppcheck-suppressions.txt \
		--std=c99 --max-configs=1 -q -j "$JOBS" \
		-I src -I lib/common -I lib/model -I lib/stats -I lib/aws -I lib/common/test \
		-I lib/model/fuzz -I lambda -I forwarder -I "$pgs" -I "$pgi" \
		src lib lambda forwarder
}

gate_clang_tidy() {
	local units
	need "$CLANG_TIDY" || return 1
	units=$(tidy_units) || return 1
	# One file per clang-tidy process, JOBS at a time; only a failing file's
	# findings are printed, without the "N warnings generated" counts of the
	# (filtered) system headers.
	# shellcheck disable=SC2016
	printf '%s\n' "$units" | xargs -r -P "$JOBS" -L 1 sh -c \
		'f=$1; shift; out=$("$0" --quiet "$f" -- "$@" 2>&1); rc=$?; [ $rc -eq 0 ] || printf "%s\n" "$out" | grep -v "warnings\{0,1\} generated\.$"; exit $(( rc != 0 ))' \
		"$CLANG_TIDY"
}

fix() {
	local rc=0
	check_ruff_version || return 1
	need "$CLANG_FORMAT" || return 1
	# Fixes first (they may move imports), then the formatter.
	"$RUFF" check --fix --output-format=concise . || rc=1
	"$RUFF" format . || rc=1
	c_files | xargs -r "$CLANG_FORMAT" -i || rc=1
	[ $rc -eq 0 ] || echo "make format: some findings need a hand (above); run make lint after fixing them" >&2
	return $rc
}

if [ "${1:-}" = "--fix" ] || [ "${1:-}" = "fix" ]; then
	fix
	exit $?
fi

ALL_GATES=(clang-format ruff-format ruff-check cppcheck clang-tidy)
if [ $# -gt 0 ]; then
	GATES=("$@")
else
	GATES=("${ALL_GATES[@]}")
fi

passed=0
failed=0
failed_names=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for g in "${GATES[@]}"; do
	case "$g" in
		clang-format | ruff-format | ruff-check | cppcheck | clang-tidy) ;;
		*)
			echo "unknown gate: $g (gates: ${ALL_GATES[*]})" >&2
			exit 2
			;;
	esac
	start=$(date +%s.%N)
	"gate_${g//-/_}" >"$log" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-13s %6ss\n' "$g" "$secs"
	else
		failed=$((failed + 1))
		failed_names+=("$g")
		printf 'FAIL  %-13s %6ss\n' "$g" "$secs"
		# The findings, shortened: the first 200 lines are plenty to act on.
		sed -e 's/^/      /' "$log" | head -n 200
		n=$(wc -l <"$log")
		[ "$n" -le 200 ] || echo "      ... ($n lines; run: bash tests/ops/lint.sh $g)"
	fi
done

echo
[ $failed -gt 0 ] && echo "failed gates: ${failed_names[*]} (make format fixes clang-format, ruff-format and some of ruff-check)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
