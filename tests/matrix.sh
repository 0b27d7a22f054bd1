#!/usr/bin/env bash
# tests/matrix.sh — the SQL-level suites on another PostgreSQL major, here,
# in a Debian chroot (no containers, no change to this machine's PostgreSQL).
#
#   bash tests/matrix.sh MAJOR [sql|ha]   (as root; MAJOR: 15, 17 or 18)
#
# Both groups by default: "sql" the SQL-level suites (3. below), "ha" the
# replica and failover suites (tests/ha/run.sh, which `tests/ha/run.sh MAJOR`
# runs through this script).
#
#   15  Debian 12 (bookworm)    17  Debian 13 (trixie)    18  Debian sid
#
# 1. The root filesystem: debootstrap (minbase) with the build and test
#    dependencies installed — PostgreSQL MAJOR and its server headers, pgTAP
#    and pg_prove, pg_cron, cJSON, libcurl, OpenSSL, build-essential, python3
#    — and two virtualenvs from the repository's pins: /opt/td-venv (psycopg,
#    pandas, pyarrow, xgboost... of python/requirements.lock) and, best effort,
#    /opt/td-evidently-venv (tests/requirements-evidently.txt).  Cached as
#    $TD_CACHE_DIR/rootfs/debian-SUITE-pgMAJOR.tar.zst (TD_CACHE_DIR default
#    /var/cache/taxi_duration), with a .key file: a hash of what went into it
#    (the package list, the pins, this script's PROVISION_REV); rebuilt when
#    missing or when the key changes.  Unpacked once into
#    $TD_MATRIX_ROOTS/debian-SUITE-pgMAJOR (default /var/tmp/taxi_duration-matrix)
#    and reused while its key matches.
# 2. The working tree as it is (git ls-files: tracked and new files, edits
#    included, ignored build products left out) is copied to /td/src in the
#    chroot, the TLC months of TAXI_DATA_DIR (default ../shared/data) to
#    /td/data.
# 3. In the chroot (proc and a tmpfs /dev/shm mounted; unmounted on exit,
#    failure or interrupt): build with -Werror and install with MAJOR's
#    pg_config, then pg_regress (make installcheck, as postgres: predict,
#    jsonb, model management, trigger, decoder, monitoring), pgTAP preloaded
#    / not preloaded / no loadable model (tests/pgtap/run.sh; the preloaded
#    run includes the monitoring known-answer tests), SQL fuzzing
#    (SQL_FUZZ_SECONDS, default 10), parity with XGBoost on every 2021-02
#    trip, and drift_report() against Evidently (tests/monitoring/run.sh
#    parity; skipped when the Evidently virtualenv could not be installed).
#
# One line per suite, then "N passed, N failed"; exit status 0 only when
# every suite passed.  Each suite's output: $ROOT/td/logs/<n>-<suite>.log
# (the path is printed).  Runs of different majors may run side by side;
# two runs of one major wait for each other.
# shellcheck disable=SC2317 # the suites are called through run_suite
set -uo pipefail

# Bump when the provisioning below changes: the cached root filesystems are rebuilt.
PROVISION_REV=2
# The Python packages the suites import, as pinned in python/requirements.lock
# (the package itself is imported from the copied tree: PYTHONPATH).
PY_PACKAGES='xgboost-cpu|scikit-learn|pandas|pyarrow|numpy|scipy|jsonschema|pytest|psycopg|psycopg-binary|python-dotenv|tqdm|boto3'

die() {
	echo "matrix: $*" >&2
	exit 2
}

suite_of() {
	case $1 in
		15) echo bookworm ;;
		17) echo trixie ;;
		18) echo sid ;;
		*) return 1 ;;
	esac
}

apt_packages() {
	local m=$1
	echo ca-certificates build-essential \
		"postgresql-$m" "postgresql-server-dev-$m" "postgresql-$m-pgtap" "postgresql-$m-cron" \
		libtap-parser-sourcehandler-pgtap-perl libcjson-dev libcurl4-openssl-dev libssl-dev \
		libpq-dev python3 python3-venv
}

# ---------------------------------------------------------------------------
# In the chroot, while building the root filesystem: `matrix.sh --provision MAJOR`
# (this script and the requirements files are in /td/provision).
provision() {
	local major=$1 suite
	suite=$(suite_of "$major") || die "unknown major $major"
	set -e
	export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
	case $suite in
		sid) echo "deb http://deb.debian.org/debian sid main" ;;
		*) printf 'deb http://deb.debian.org/debian %s main\n' "$suite" "$suite-updates"
			echo "deb http://deb.debian.org/debian-security $suite-security main" ;;
	esac >/etc/apt/sources.list
	# no service starts in the chroot; dpkg without a terminal (no /dev/pts)
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	echo 'Dpkg::Use-Pty "0";' >/etc/apt/apt.conf.d/90td-no-pty
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends ca-certificates postgresql-common >/dev/null
	update-ca-certificates >/dev/null
	# the clusters are the tests' own: no "main" cluster
	sed -i 's/^#* *create_main_cluster.*/create_main_cluster = false/' \
		/etc/postgresql-common/createcluster.conf
	# shellcheck disable=SC2046 # a list of package names
	apt-get install -y -qq --no-install-recommends $(apt_packages "$major") >/dev/null
	apt-get clean
	rm -rf /var/lib/apt/lists/*

	python3 -m venv /opt/td-venv
	grep -E "^($PY_PACKAGES)==" /td/provision/requirements.lock >/td/provision/matrix-requirements.txt
	/opt/td-venv/bin/pip install -q --disable-pip-version-check --no-cache-dir \
		-r /td/provision/matrix-requirements.txt
	# moto and MLflow for the replica and failover suites (tests/lib/servers.py);
	# without MLflow (if it does not install here) its alias test is skipped
	python3 -m venv /opt/td-servers-venv
	if ! /opt/td-servers-venv/bin/pip install -q --disable-pip-version-check --no-cache-dir \
		-r /td/provision/requirements-servers.txt; then
		echo "matrix: MLflow did not install on $suite; the standby's alias test will be skipped" >&2
		grep -E '^(moto|boto3)' /td/provision/requirements-servers.txt >/td/provision/moto.txt
		/opt/td-servers-venv/bin/pip install -q --disable-pip-version-check --no-cache-dir \
			-r /td/provision/moto.txt
	fi
	# Evidently (0.7.x pins an older pandas): best effort, its suite is skipped without it
	python3 -m venv /opt/td-evidently-venv
	if ! /opt/td-evidently-venv/bin/pip install -q --disable-pip-version-check --no-cache-dir \
		-r /td/provision/requirements-evidently.txt; then
		echo "matrix: Evidently did not install on $suite; its suite will be skipped" >&2
		rm -rf /opt/td-evidently-venv
	fi
	rm -rf /td/provision
}

# ---------------------------------------------------------------------------
# In the chroot, for the tests: `matrix.sh --inside MAJOR` (the tree is /td/src).
# regress, pgtap, sql_fuzz and parity are tests/lib/sql_suites.sh's (with
# WORK and PORT); the others:
t_build() {
	echo "$(pg_config --version); $(gcc --version | head -1)"
	make -s -j2 PG_CONFIG="$PG_CONFIG" && make -s install PG_CONFIG="$PG_CONFIG"
}
t_evidently() {
	if [ ! -x "$TD_EVIDENTLY_VENV/bin/python" ]; then
		echo "no Evidently virtualenv in this root filesystem"
		return 77
	fi
	TD_MONITORING_DIR=$WORK/monitoring TD_MONITORING_PORT=$((PORT + 4)) \
		TD_MONITORING_DATA=$WORK/td_monitoring/datasets TD_MONITORING_OUT=$WORK/td_monitoring/evidently \
		bash tests/monitoring/run.sh parity
}

# run_suite NAME CMD...: one line; the output in $logs; 77 means skipped.
run_suite() {
	local name=$1 log start rc
	shift
	n=$((n + 1))
	log=$logs/$(printf '%02d' $n)-$(echo "$name" | tr -cs 'A-Za-z0-9' '-' | sed 's/-$//').log
	start=$SECONDS
	"$@" >"$log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		printf 'ok      %-66s %4d s\n' "$name" $((SECONDS - start))
	elif [ $rc = 77 ]; then
		skipped=$((skipped + 1))
		printf 'skip    %-66s %s\n' "$name" "$(tail -1 "$log")"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		printf 'FAILED  %-66s %4d s  %s\n' "$name" $((SECONDS - start)) "$log"
		tail -40 "$log" | sed 's/^/        | /'
	fi
}

t_ha() {
	TD_SERVERS_VENV=/opt/td-servers-venv TD_CLUSTER_PORT=$((PORT + 20)) bash tests/ha/run.sh
}

inside() {
	local major=$1 group=${2:-all}
	export LANG=C.UTF-8
	export PATH="/usr/lib/postgresql/$major/bin:/opt/td-venv/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	export PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config"
	export TAXI_DATA_DIR=/td/data
	export PYTHONPATH=/td/src/python
	export TD_EVIDENTLY_VENV=/opt/td-evidently-venv
	export SQL_FUZZ_SECONDS=${SQL_FUZZ_SECONDS:-10}
	cd /td/src || exit 2
	# shellcheck source=tests/lib/cluster.sh
	. tests/lib/cluster.sh
	# shellcheck source=tests/lib/sql_suites.sh
	. tests/lib/sql_suites.sh
	WORK=/td/work PORT=$((55000 + major * 10)) logs=/td/logs
	passed=0 failed=0 skipped=0 n=0 failed_names=()
	rm -rf "$WORK" "$logs"
	mkdir -p "$WORK" "$logs"
	chmod 755 "$WORK"
	chown postgres: "$WORK"
	chmod -R a+rX /td/src /td/data
	trap 'td_cluster_stop "$WORK/pgtap"' EXIT

	echo "PostgreSQL $major on $(grep -m1 PRETTY_NAME /etc/os-release | cut -d'"' -f2); logs: $logs"
	run_suite "build and install (-Werror)" t_build
	if [ $failed -gt 0 ]; then
		echo "0 passed, 1 failed"
		return 1
	fi
	if [ "$group" != ha ]; then
		run_suite "pg_regress (predict, jsonb, models, trigger, decoder, monitoring)" regress
		run_suite "pgTAP (preloaded; monitoring known answers)" pgtap
		run_suite "pgTAP (not preloaded)" env TD_PGTAP_PORT=$((PORT + 1)) bash tests/pgtap/run.sh nopreload
		run_suite "pgTAP (no loadable model)" env TD_PGTAP_PORT=$((PORT + 3)) bash tests/pgtap/run.sh nomodel
		run_suite "SQL fuzzing ($SQL_FUZZ_SECONDS s)" sql_fuzz
		run_suite "parity with XGBoost (2021-02)" parity
		td_cluster_stop "$WORK/pgtap"
		run_suite "monitoring: drift_report() against Evidently" t_evidently
	fi
	if [ "$group" != sql ]; then
		run_suite "replicas and failover (tests/ha: standby, failover slots, lost/duplicates)" t_ha
		grep -ho 'failover on PostgreSQL.*' "$logs"/*-replicas-and-failover*.log | tail -1 | sed 's/^/        /'
	fi

	[ $failed -gt 0 ] && echo "failed suites: ${failed_names[*]}"
	[ $skipped -gt 0 ] && echo "$skipped skipped"
	echo "$passed passed, $failed failed"
	[ $failed -eq 0 ]
}

# ---------------------------------------------------------------------------
# On the host.
case ${1:-} in
	--provision) provision "$2"; exit ;;
	--inside) inside "$2" "${3:-all}"; exit ;;
esac

MAJOR=${1:-}
GROUP=${2:-all}
case $GROUP in sql | ha | all) ;; *) die "usage: bash tests/matrix.sh MAJOR [sql|ha]" ;; esac
SUITE=$(suite_of "$MAJOR") || die "usage: bash tests/matrix.sh MAJOR   (15, 17 or 18)"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
for tool in debootstrap chroot zstd git flock; do
	command -v $tool >/dev/null || die "$tool not found (apt-get install -y debootstrap zstd)"
done
REPO=$(cd "$(dirname "$0")/.." && pwd)
# mounts_under, procs_in, release, in_root, remove_root, enter,
# copy_network_config, chroot_env
# shellcheck source=tests/lib/chroot.sh
. "$REPO/tests/lib/chroot.sh"
CHROOT_PASS=SQL_FUZZ_SECONDS
NAME=debian-$SUITE-pg$MAJOR
CACHE=${TD_CACHE_DIR:-/var/cache/taxi_duration}/rootfs
TARBALL=$CACHE/$NAME.tar.zst
ROOTS=$(realpath -m "${TD_MATRIX_ROOTS:-/var/tmp/taxi_duration-matrix}")
ROOT=$ROOTS/$NAME
DATA=${TAXI_DATA_DIR:-$REPO/../shared/data}
mkdir -p "$CACHE" "$ROOTS"

exec 9>"$ROOTS/.$NAME.lock"
flock 9

KEY=$({
	echo "rev $PROVISION_REV $PY_PACKAGES"
	apt_packages "$MAJOR"
	cat "$REPO/python/requirements.lock" "$REPO/tests/requirements-evidently.txt" "$REPO/tests/requirements-servers.txt"
	cat /usr/local/share/ca-certificates/* 2>/dev/null
} | sha256sum | cut -c1-16)

build_rootfs() {
	local new=$ROOT.new start=$SECONDS
	echo "building the $NAME root filesystem (debootstrap $SUITE, then packages; a few minutes)"
	remove_root "$new"
	trap 'release "$new"' EXIT
	trap 'exit 130' INT TERM
	debootstrap --variant=minbase "$SUITE" "$new" http://deb.debian.org/debian \
		>"$ROOTS/$NAME.debootstrap.log" 2>&1 ||
		{ tail -20 "$ROOTS/$NAME.debootstrap.log"; die "debootstrap failed ($ROOTS/$NAME.debootstrap.log)"; }
	copy_network_config "$new"
	mkdir -p "$new/td/provision"
	cp "$0" "$new/td/provision/matrix.sh"
	cp "$REPO/python/requirements.lock" "$REPO/tests/requirements-evidently.txt" \
		"$REPO/tests/requirements-servers.txt" "$new/td/provision/"
	enter "$new"
	in_root "$new" bash /td/provision/matrix.sh --provision "$MAJOR" >"$ROOTS/$NAME.provision.log" 2>&1 ||
		{ tail -30 "$ROOTS/$NAME.provision.log"; die "provisioning failed ($ROOTS/$NAME.provision.log)"; }
	grep '^matrix:' "$ROOTS/$NAME.provision.log"
	release "$new"
	trap - EXIT
	echo "$KEY" >"$new/.td-key"
	tar -C "$new" --zstd -cf "$TARBALL.tmp" . || die "could not write $TARBALL"
	mv "$TARBALL.tmp" "$TARBALL"
	echo "$KEY" >"$TARBALL.key"
	remove_root "$ROOT"
	mv "$new" "$ROOT"
	echo "cached: $TARBALL ($(du -h "$TARBALL" | cut -f1), $((SECONDS - start)) s)"
}

if [ ! -f "$TARBALL" ] || [ "$(cat "$TARBALL.key" 2>/dev/null)" != "$KEY" ]; then
	build_rootfs
elif [ "$(cat "$ROOT/.td-key" 2>/dev/null)" != "$KEY" ]; then
	echo "unpacking $TARBALL"
	remove_root "$ROOT"
	mkdir -p "$ROOT.new"
	tar -C "$ROOT.new" --zstd -xf "$TARBALL" || die "could not unpack $TARBALL"
	mv "$ROOT.new" "$ROOT"
fi

trap 'release "$ROOT"' EXIT
trap 'exit 130' INT TERM
release "$ROOT"

# The working tree as it is: tracked files (edited or not) and new ones not
# ignored; deleted ones left out.
rm -rf "$ROOT/td/src" "$ROOT/td/data"
mkdir -p "$ROOT/td/src" "$ROOT/td/data"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -C "$ROOT/td/src" -xf - || die "could not copy the working tree"
if [ -d "$DATA" ]; then
	cp -r "$DATA/." "$ROOT/td/data/"
else
	echo "matrix: no TLC data in $DATA (TAXI_DATA_DIR): the parity suites will try to download it" >&2
fi
copy_network_config "$ROOT"
enter "$ROOT"
in_root "$ROOT" bash /td/src/tests/matrix.sh --inside "$MAJOR" "$GROUP"
rc=$?
[ $rc = 0 ] || echo "logs: $ROOT/td/logs"
exit $rc
