#!/usr/bin/env bash
# tests/run_all.sh — every test of taxi_duration, in one command.
#
#   bash tests/run_all.sh          (root or not; needs `bash scripts/install-deps.sh tests`)
#
# A thin sequence of the standard runners, one suite each:
#   make, make install                 the extension (and the libraries it links)
#   make -C lib/<name> test, test-sanitize, fuzz-run
#                                      every library's C unit tests (valgrind when
#                                      present), under ASan+UBSan, libFuzzer
#   make -C forwarder unit, fuzz-run   the forwarder's queue, key set, LSN text
#   tests/ops/check_layers.sh          README layout, includes point down, what
#                                      each program links (nm)
#   pytest tests/python ...            the Python pipeline and the HTML page
#   make installcheck                  pg_regress (tests/regress/), as `postgres`
#   tests/pgtap/run.sh MODE            pg_prove: preloaded, not preloaded, no model
#   tests/sqlfuzz, tests/parity        hostile arguments to every SQL entry point;
#                                      every 2021-02 trip bit-identical to XGBoost
#   tests/<suite>/run.sh               pytest suites with their programs: security,
#                                      serving, replicas, Lambda (emulator), forwarder,
#                                      streaming, monitoring (Evidently, e2e)
#   tests/localstack/run.sh            S3 model loading, the Lambda and streaming
#                                      against LocalStack 4.14.0 (the compose file's)
#   pytest tests/integration           the model lifecycle end to end
#   pytest tests/prefect               Prefect: a scheduled run of the served
#                                      deployments, retries under real faults
#   tests/ops/*.sh                     lint gates, containers, IaC, workflows, PGXN metadata
# Servers run as the `postgres` OS user when invoked as root.
# Ends with "N passed, N failed" (suites) and exits non-zero on any failure.
#
# Environment: TAXI_DATA_DIR (parquet months; else downloaded),
# FUZZ_SECONDS (per fuzz target, default 15), SQL_FUZZ_SECONDS (default 20),
# TD_TEST_PORT (default 54400), TD_SUITES (a regex: run only the suites
# whose names match, e.g. TD_SUITES='pgTAP|security').
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
# PG_MAJOR picks one of several installed majors (CI's 15..18 matrix).
if [ -n "${PG_MAJOR:-}" ] && [ -x "/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" ]; then
	export PATH="/usr/lib/postgresql/$PG_MAJOR/bin:$PATH"
	export PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
fi
. tests/lib/cluster.sh
# regress, pgtap, sql_fuzz, parity (with WORK and PORT, set below)
. tests/lib/sql_suites.sh

# The servers (as `postgres`) read fixtures from the tree; if this checkout
# is not readable by that user (e.g. under /root), test a readable copy.
if [ "$(id -u)" = 0 ] && [ -z "${TD_TESTS_COPIED:-}" ] &&
	! runuser -u postgres -- test -r "$REPO/tests/regress/regress.conf"; then
	copy=$(mktemp -d /tmp/taxi_duration_src.XXXXXX)
	tar -C "$REPO" --exclude=./.venv -cf - . | tar -C "$copy" -xf -
	chmod -R a+rX "$copy"
	[ -z "${TAXI_DATA_DIR:-}" ] && [ -d "$REPO/../shared/data" ] &&
		export TAXI_DATA_DIR="$(cd "$REPO/../shared/data" && pwd)"
	# screenshots and other test artifacts stay in this checkout
	export TD_TEST_ARTIFACTS=${TD_TEST_ARTIFACTS:-$REPO/tests/monitoring/artifacts}
	TD_TESTS_COPIED=1 TD_SOURCE_REPO=$REPO exec bash "$copy/tests/run_all.sh" "$@"
fi

if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d "$REPO/../shared/data" ]; then
	export TAXI_DATA_DIR="$REPO/../shared/data"
fi
# The package's virtualenv (scripts/install-deps.sh tests): its python3 and
# taxi-duration come first on PATH; the package is imported from this tree.
VENV=${TD_VENV:-$REPO/.venv}
if [ ! -x "$VENV/bin/python3" ] && [ -n "${TD_TESTS_COPIED:-}" ] && [ -x "${TD_SOURCE_REPO:-}/.venv/bin/python3" ]; then
	VENV=$TD_SOURCE_REPO/.venv
fi
if [ ! -x "$VENV/bin/python3" ]; then
	echo "run_all: no virtualenv at $VENV: run bash scripts/install-deps.sh tests (or set TD_VENV)" >&2
	exit 2
fi
export PATH="$VENV/bin:$PATH" PYTHONPATH="$REPO/python${PYTHONPATH:+:$PYTHONPATH}"
PORT=${TD_TEST_PORT:-54400}
WORK=$(mktemp -d /tmp/taxi_duration_tests.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

passed=0
failed=0
failed_names=()
cleanup() {
	td_cluster_stop "$WORK/pgtap"
}
trap cleanup EXIT

run_suite() {
	local name=$1
	shift
	# TD_SUITES (an extended regex) runs only the suites whose names match
	if [ -n "${TD_SUITES:-}" ] && ! [[ $name =~ $TD_SUITES ]]; then
		return 0
	fi
	echo
	echo "=== $name"
	local start=$SECONDS
	if "$@"; then
		passed=$((passed + 1))
		echo "--- ok: $name ($((SECONDS - start)) s)"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		echo "--- FAILED: $name ($((SECONDS - start)) s)"
	fi
}

build_and_install() {
	make -s clean >/dev/null && make -s PG_CONFIG="${PG_CONFIG:-pg_config}" &&
		$SUDO make -s install PG_CONFIG="${PG_CONFIG:-pg_config}" >/dev/null
}

python_tests() {
	python3 -m pytest -q tests/python tests/monitoring/test_html_report.py
}

run_suite "build and install" build_and_install
for lib in common model stats aws; do
	run_suite "lib/$lib: unit tests" make -s -C lib/$lib test
	run_suite "lib/$lib: unit tests (ASan+UBSan)" make -s -C lib/$lib test-sanitize
	run_suite "lib/$lib: fuzzing (${FUZZ_SECONDS:-15} s per target)" make -s -C lib/$lib fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
done
run_suite "layers: README layout, includes point down, programs link only their libraries" bash tests/ops/check_layers.sh
run_suite "python tests" python_tests
run_suite "pg_regress" regress
run_suite "pgTAP (preloaded)" pgtap
run_suite "pgTAP (not preloaded)" env TD_PGTAP_PORT=$((PORT + 1)) bash tests/pgtap/run.sh nopreload
run_suite "pgTAP (no loadable model)" env TD_PGTAP_PORT=$((PORT + 3)) bash tests/pgtap/run.sh nomodel
run_suite "SQL fuzzing (${SQL_FUZZ_SECONDS:-20} s)" sql_fuzz
run_suite "security: every privilege boundary attacked (monitors, search_path, roles, loading)" bash tests/security/run.sh
run_suite "serving: loads racing cancels and statement timeouts" bash tests/serving/run.sh
run_suite "replicas and failover: a standby serves, loads (file, alias), monitors; slot gap refused" bash tests/ha/run.sh
run_suite "parity with XGBoost (2021-02)" parity
run_suite "lifecycle end to end (moto, MLflow, PostgreSQL)" python3 -m pytest -q tests/integration
run_suite "Prefect: served deployments on a real Prefect server (a scheduled run), retries under real faults" \
	env TD_TESTS_STRICT=1 python3 -m pytest -q tests/prefect
run_suite "Lambda under the Runtime Interface Emulator (moto Kinesis)" bash tests/lambda/run.sh
run_suite "forwarder: unit tests (plain, ASan+UBSan), fuzzing the row queue" \
	bash -c 'make -s -C forwarder unit && make -s -C forwarder fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-15}"'
run_suite "forwarder: slot to Kinesis, at least once, under faults" bash tests/forwarder/run.sh
run_suite "streaming end to end (PostgreSQL, forwarder, Kinesis, Lambda)" bash tests/streaming/run.sh
run_suite "LocalStack 4.14.0 as the compose file runs it (READY hook; S3 models, Lambda, streaming)" bash tests/localstack/run.sh
run_suite "lint gates (clang-format, ruff, cppcheck, clang-tidy)" bash tests/ops/lint.sh
run_suite "containers (hadolint, BuildKit checks, docker compose config)" bash tests/ops/validate_containers.sh
run_suite "infrastructure as code (Terraform, SAM, checkov, names agree)" bash tests/ops/validate_iac.sh
run_suite "GitHub Actions (actionlint)" bash tests/ops/validate_workflows.sh
run_suite "PGXN metadata (META.json; versions agree)" bash tests/ops/validate_meta.sh
run_suite "monitoring: drift_report() against Evidently 0.7.23 (real months, edge cases)" bash tests/monitoring/run.sh parity
run_suite "monitoring end to end (pg_cron, Prefect flow, alerts, HTML page in Chromium)" bash tests/monitoring/run.sh e2e
run_suite "monitoring: reports against stored reference profiles equal the rescan, to the bit" bash tests/monitoring/run.sh profiles
run_suite "monitoring: stored reports as Evidently snapshots (its loader, HTML in Chromium, evidently ui)" bash tests/monitoring/run.sh evidently

echo
[ $failed -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
