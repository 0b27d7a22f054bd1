#!/usr/bin/env bash
# scripts/install-deps.sh — install what building, the demo and the tests need
# on Debian 12 / Ubuntu: PostgreSQL 15 with its server headers, pgTAP and
# pg_prove, cJSON, libcurl, clang (libFuzzer, sanitizers), valgrind, and the
# Python packages pinned in model/requirements.txt (and, in virtualenvs of
# their own, the moto and MLflow servers of tests/requirements-servers.txt
# and the pinned Evidently the monitoring parity test compares with).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# PostgreSQL major: 15 (Debian 12's own); 16, 17 and 18 need the PGDG apt
# repository (apt.postgresql.org) configured first, as CI does.
PG_MAJOR=${PG_MAJOR:-15}
case $PG_MAJOR in 15 | 16 | 17 | 18) ;; *)
	echo "install-deps: PG_MAJOR must be 15..18 (got '$PG_MAJOR')" >&2
	exit 1
	;;
esac
# (contrib modules such as dblink ship in postgresql-NN itself; the
# unversioned postgresql-contrib would pull in the newest major.)
APT_PACKAGES=(
	"postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR"
	"postgresql-$PG_MAJOR-pgtap" libtap-parser-sourcehandler-pgtap-perl "postgresql-$PG_MAJOR-wal2json"
	libcjson-dev libcurl4-openssl-dev
	build-essential clang libclang-rt-14-dev valgrind
	python3 python3-pip python3-venv
	"postgresql-$PG_MAJOR-cron" chromium fonts-dejavu-core
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	$SUDO apt-get update -qq
	apt-cache show "postgresql-$PG_MAJOR" >/dev/null 2>&1 || {
		echo "install-deps: postgresql-$PG_MAJOR is not available: add the PGDG apt repository (apt.postgresql.org) first; Debian 12 ships only 15" >&2
		exit 1
	}
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Debian's own python3 refuses system-wide pip installs (PEP 668) unless told.
pip_install() {
	python3 -m pip install -q --disable-pip-version-check "$@" 2>/tmp/td-pip.err && return 0
	if grep -q externally-managed /tmp/td-pip.err; then
		python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@"
	else
		cat /tmp/td-pip.err >&2
		return 1
	fi
}
pip_install -r model/requirements.txt

# moto and the MLflow server, which the network tests start, live in their
# own virtualenv (their pins differ from the pipeline's); tests/lib/servers.py
# finds it there.
SERVERS_VENV=${TD_SERVERS_VENV:-/opt/td-servers-venv}
if [ ! -x "$SERVERS_VENV/bin/pip" ]; then
	$SUDO python3 -m venv "$SERVERS_VENV"
fi
$SUDO "$SERVERS_VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements-servers.txt

# Evidently, pinned, for the monitoring parity test and benchmark
# (tests/monitoring/); its own pins of pandas/numpy/scipy stay out of the
# pipeline's environment.
EVIDENTLY_VENV=${TD_EVIDENTLY_VENV:-/opt/td-evidently-venv}
if [ ! -x "$EVIDENTLY_VENV/bin/pip" ]; then
	$SUDO python3 -m venv "$EVIDENTLY_VENV"
fi
$SUDO "$EVIDENTLY_VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements-evidently.txt

# Tools that check the containers, the infrastructure code, the workflows
# and the code itself (tests/ops/; pinned there, into /opt/td-ops-venv and
# /opt/td-ops-bin).
for area in lint containers iac workflows; do
	bash "tests/ops/install-$area.sh"
done
