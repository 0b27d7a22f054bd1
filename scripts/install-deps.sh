#!/usr/bin/env bash
# scripts/install-deps.sh — install what one tier of work needs, on Debian 12 /
# 13 or Ubuntu (idempotent):
#
#   bash scripts/install-deps.sh runtime   build the extension and run the demo:
#                                          PostgreSQL and its server headers,
#                                          cJSON, libcurl, a C compiler, and the
#                                          Python package (taxi-duration) in a
#                                          virtualenv
#   bash scripts/install-deps.sh tests     runtime, plus what every test needs:
#                                          pgTAP and pg_prove, wal2json, pg_cron,
#                                          clang (libFuzzer, sanitizers), valgrind,
#                                          Chromium (the HTML report test), the
#                                          package's [flow,monitoring,test] extras, and in
#                                          virtualenvs of their own the moto and
#                                          MLflow servers, the pinned Evidently and
#                                          LocalStack 4.14.0
#   bash scripts/install-deps.sh all       tests, plus the ops tools (linters,
#                                          container, IaC and workflow checkers;
#                                          tests/ops/install-*.sh) — what CI runs
#
# The Python virtualenv: $TD_VENV, default .venv in the checkout; packages are
# pinned by python/requirements.lock.  Nothing is installed into the system
# Python.  PG_MAJOR (default: the newest of 15..18 the apt sources offer,
# Debian 12: 15, Debian 13: 17) picks the PostgreSQL major.
set -euo pipefail
cd "$(dirname "$0")/.."
TIER=${1:-all}
case $TIER in runtime | tests | all) ;; *)
	echo "usage: bash scripts/install-deps.sh [runtime|tests|all]" >&2
	exit 2
	;;
esac

SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || {
		echo "install-deps: installing packages needs root: run it as root, or install sudo" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

# apt's output (and its packages' scripts') goes to a log, shown when apt
# fails; apt waits for a lock held by another apt (a fresh machine's first
# unattended upgrade) instead of failing.
APT_LOG=${TMPDIR:-/tmp}/taxi_duration-install-deps.log
apt_get() {
	$SUDO apt-get -o DPkg::Lock::Timeout=600 "$@" >>"$APT_LOG" 2>&1 && return 0
	tail -25 "$APT_LOG" >&2
	echo "install-deps: apt-get $1 failed (its output: $APT_LOG)" >&2
	exit 1
}
apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	: >"$APT_LOG"
	apt_get update
	apt_updated=1
}
apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	apt_update
	echo "installing: ${missing[*]} (apt)"
	apt_get install -y --no-install-recommends "${missing[@]}"
}

# The PostgreSQL major: PG_MAJOR, else the installed one, else the newest the
# apt sources offer (16, 17 and 18 on Debian 12 need the PGDG repository).
# (No /usr/lib/postgresql yet on a fresh machine.)
if [ -z "${PG_MAJOR:-}" ] && [ -d /usr/lib/postgresql ]; then
	PG_MAJOR=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -1)
fi
if [ -z "${PG_MAJOR:-}" ]; then
	apt_update
	for m in 18 17 16 15; do
		apt-cache show "postgresql-server-dev-$m" >/dev/null 2>&1 && PG_MAJOR=$m && break
	done
fi
case ${PG_MAJOR:-} in 15 | 16 | 17 | 18) ;; *)
	echo "install-deps: no PostgreSQL 15..18 in the apt sources (PG_MAJOR='${PG_MAJOR:-}'): add the PGDG repository (apt.postgresql.org)" >&2
	exit 1
	;;
esac

# runtime: build and run.  (contrib modules ship in postgresql-NN itself.)
apt_install ca-certificates make gcc libc6-dev "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" \
	libcjson-dev libcurl4-openssl-dev libssl-dev python3 python3-venv
if [ "$TIER" != runtime ]; then
	apt_install build-essential clang valgrind \
		"postgresql-$PG_MAJOR-pgtap" libtap-parser-sourcehandler-pgtap-perl \
		"postgresql-$PG_MAJOR-wal2json" "postgresql-$PG_MAJOR-cron" chromium fonts-dejavu-core
	# libFuzzer's runtime for the installed clang (Debian 12: 14, Debian 13: 19)
	clang_major=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
	apt_install "libclang-rt-$clang_major-dev"
fi

# The Python package, in its virtualenv.
VENV=${TD_VENV:-$PWD/.venv}
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
extras=
[ "$TIER" = runtime ] || extras='[flow,monitoring,test]'
# pip runs again only when the tier, the checkout's place, pyproject.toml or
# the lock changed (the install is editable: edits to the package need none).
stamp=$( (echo "$PWD"; cat pyproject.toml python/requirements.lock) | sha256sum | cut -c1-16)$extras
if [ "$(cat "$VENV/.taxi_duration-installed" 2>/dev/null)" != "$stamp" ]; then
	echo "installing: the taxi-duration package$extras and its dependencies (pip, python/requirements.lock)"
	"$VENV/bin/pip" install -q --disable-pip-version-check -c python/requirements.lock -e ".$extras"
	echo "$stamp" >"$VENV/.taxi_duration-installed"
	echo "the taxi-duration package is in $VENV (. $VENV/bin/activate)"
fi
[ "$TIER" = runtime ] && exit 0

# moto and the MLflow server, which the network tests start, live in their
# own virtualenv (their pins differ from the package's); tests/lib/servers.py
# finds it there.
SERVERS_VENV=${TD_SERVERS_VENV:-/opt/td-servers-venv}
[ -x "$SERVERS_VENV/bin/pip" ] || $SUDO python3 -m venv "$SERVERS_VENV"
$SUDO "$SERVERS_VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements-servers.txt

# Evidently, pinned, for the monitoring parity test and benchmark
# (tests/monitoring/); its own pins of pandas/numpy/scipy stay out of the
# package's environment.
EVIDENTLY_VENV=${TD_EVIDENTLY_VENV:-/opt/td-evidently-venv}
[ -x "$EVIDENTLY_VENV/bin/pip" ] || $SUDO python3 -m venv "$EVIDENTLY_VENV"
$SUDO "$EVIDENTLY_VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements-evidently.txt
# LocalStack 4.14.0 (the compose file's S3 and Kinesis) as a host process for
# tests/localstack/run.sh: its own virtualenv under Python 3.12+ (/opt/td-localstack-venv)
# and kinesis-local from npm, or, without a Python 3.12+ (Debian 12), the same in a
# cached Debian 13 root filesystem (tests/localstack/install.sh).
$SUDO bash tests/localstack/install.sh
[ "$TIER" = tests ] && exit 0

# Tools that check the containers, the infrastructure code, the workflows
# and the code itself (tests/ops/; pinned there, into /opt/td-ops-venv and
# /opt/td-ops-bin).
for area in lint containers iac workflows; do
	bash "tests/ops/install-$area.sh"
done
