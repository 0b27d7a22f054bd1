#!/usr/bin/env bash
# tests/localstack/install.sh — LocalStack 4.14.0 (the compose file's localstack/localstack:4.14.0)
# for running as a host process (tests/lib/localstack.py), without Docker:
#
#   bash tests/localstack/install.sh          (as root; idempotent, cached)
#
# LocalStack 4.14 needs Python 3.12 or newer (3.11 fails on its syntax).
#  - With a python3.13 / python3.12 / python3.14 on PATH that runs, or a pyenv
#    one ($PYENV_ROOT/versions/3.12+), or TD_LOCALSTACK_PYTHON=/path/to/python:
#    a virtualenv $TD_LOCALSTACK_VENV (default /opt/td-localstack-venv) with
#    localstack-core[runtime]==4.14.0, awslocal (tests/localstack/requirements.txt)
#    under LocalStack's own pins (requirements-runtime-4.14.0.txt, vendored from
#    its v4.14.0 tag, as pip constraints); and its Kinesis, the npm package
#    kinesis-local@0.5.2, where LocalStack's package installer looks for it
#    (KinesisMockNodePackageInstaller: <static_libs>/kinesis-local/0.5.2/
#    node_modules/kinesis-local/main.js; static_libs is FILESYSTEM_ROOT/usr/lib/
#    localstack, which the launcher links to $TD_LOCALSTACK_VENV/static).
#    Needs node and npm (installed with apt when missing: Debian 12 has 18).
#  - Otherwise (a clean Debian 12 has only 3.11): the same, inside a Debian 13
#    (trixie: python3.13, nodejs 20) minbase root filesystem of its own,
#    $TD_LOCALSTACK_ROOTS/trixie (default /var/tmp/taxi_duration-localstack),
#    cached as $TD_CACHE_DIR/rootfs/localstack-trixie.tar.zst (TD_CACHE_DIR
#    default /var/cache/taxi_duration) with a .key file; LocalStack then runs in
#    a chroot there (same network namespace: it listens on the host's loopback).
#    TD_LOCALSTACK_PYTHON=chroot forces this path.
#
# Reinstalled only when what goes into it changes (a hash of the requirement
# files, the kinesis-local version and LS_REV below).  Prints where it is.
# (no set -e: tests/lib/chroot.sh's functions are written for set -u only)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KINESIS_LOCAL=0.5.2
# Bump when the recipe below changes: installations and cached roots are rebuilt.
LS_REV=1
VENV=${TD_LOCALSTACK_VENV:-/opt/td-localstack-venv}
ROOTS=$(realpath -m "${TD_LOCALSTACK_ROOTS:-/var/tmp/taxi_duration-localstack}")
ROOT=$ROOTS/trixie
CACHE=${TD_CACHE_DIR:-/var/cache/taxi_duration}/rootfs
TARBALL=$CACHE/localstack-trixie.tar.zst
KEY=$({
	echo "rev $LS_REV kinesis-local $KINESIS_LOCAL"
	cat "$HERE/requirements.txt" "$HERE/requirements-runtime-4.14.0.txt"
} | sha256sum | cut -c1-16)

die() {
	echo "localstack install: $*" >&2
	exit 2
}

# install_venv PYTHON VENV: the virtualenv and kinesis-local, unless already at KEY.
install_venv() {
	local python=$1 venv=$2 start=$SECONDS
	if [ "$(cat "$venv/.td-localstack-installed" 2>/dev/null)" = "$KEY" ]; then
		echo "localstack: $venv is up to date ($("$venv/bin/python" --version))"
		return 0
	fi
	echo "localstack: installing LocalStack 4.14.0 into $venv ($("$python" --version)) and kinesis-local@$KINESIS_LOCAL"
	rm -rf "$venv"
	"$python" -m venv "$venv" || die "$python -m venv $venv failed"
	# (pip warns that LocalStack's pin grpcio 1.78.1 was yanked; it is the pin)
	"$venv/bin/pip" install -q --disable-pip-version-check \
		-c "$HERE/requirements-runtime-4.14.0.txt" -r "$HERE/requirements.txt" 2>&1 |
		grep -v -e 'yanked version' -e 'Reason for being yanked' >&2
	[ "${PIPESTATUS[0]}" = 0 ] || die "pip install failed"
	npm install --silent --no-audit --no-fund --prefix "$venv/static/kinesis-local/$KINESIS_LOCAL" \
		"kinesis-local@$KINESIS_LOCAL" >/dev/null || die "npm install kinesis-local@$KINESIS_LOCAL failed"
	[ -f "$venv/static/kinesis-local/$KINESIS_LOCAL/node_modules/kinesis-local/main.js" ] ||
		die "kinesis-local@$KINESIS_LOCAL has no main.js"
	echo "$KEY" >"$venv/.td-localstack-installed"
	echo "localstack: installed in $((SECONDS - start)) s ($(du -sh "$venv" | cut -f1))"
}

# A Python >= 3.12 that runs (a pyenv shim of a version not selected does not).
find_python() {
	local c p
	if [ -n "${TD_LOCALSTACK_PYTHON:-}" ]; then
		[ "$TD_LOCALSTACK_PYTHON" = chroot ] && return 1
		echo "$TD_LOCALSTACK_PYTHON"
		return 0
	fi
	for c in python3.13 python3.12 python3.14 python3; do
		p=$(command -v "$c" 2>/dev/null) || continue
		"$p" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && {
			echo "$p"
			return 0
		}
	done
	# newest first
	for p in $(printf '%s\n' "${PYENV_ROOT:-${HOME:-/root}/.pyenv}"/versions/3.1[2-9]*/bin/python3 | sort -rV); do
		[ -x "$p" ] && "$p" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && {
			echo "$p"
			return 0
		}
	done
	return 1
}

# Inside the root filesystem while it is built: python3 is trixie's 3.13.
if [ "${1:-}" = --in-root ]; then
	install_venv /usr/bin/python3 /opt/td-localstack-venv
	exit 0
fi

if python=$(find_python); then
	if ! command -v npm >/dev/null; then
		echo "localstack: installing nodejs and npm (apt)"
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; } ||
			die "apt-get install nodejs npm failed"
	fi
	install_venv "$python" "$VENV"
	exit 0
fi

# No Python 3.12+ here: a trixie root filesystem of our own.
[ "$(id -u)" = 0 ] || die "no Python 3.12+ here, and the trixie root filesystem needs root"
if ! command -v debootstrap >/dev/null || ! command -v zstd >/dev/null; then
	echo "localstack: installing debootstrap and zstd (apt)"
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap zstd >/dev/null; } ||
		die "apt-get install debootstrap zstd failed"
fi
for tool in debootstrap chroot zstd flock; do
	command -v $tool >/dev/null || die "$tool not found"
done
# shellcheck source=tests/lib/chroot.sh
. "$HERE/../lib/chroot.sh"
mkdir -p "$CACHE" "$ROOTS"
exec 9>"$ROOTS/.trixie.lock"
flock 9

new=$ROOT.new
build_root() {
	local start=$SECONDS
	echo "localstack: no Python 3.12+ here: building a Debian trixie root filesystem with python3.13 and nodejs (a few minutes)"
	remove_root "$new"
	trap 'release "$new"' EXIT
	debootstrap --variant=minbase trixie "$new" http://deb.debian.org/debian \
		>"$ROOTS/trixie.debootstrap.log" 2>&1 ||
		{ tail -20 "$ROOTS/trixie.debootstrap.log"; die "debootstrap failed ($ROOTS/trixie.debootstrap.log)"; }
	copy_network_config "$new"
	printf 'deb http://deb.debian.org/debian %s main\n' trixie trixie-updates >"$new/etc/apt/sources.list"
	echo "deb http://deb.debian.org/debian-security trixie-security main" >>"$new/etc/apt/sources.list"
	printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
	chmod 755 "$new/usr/sbin/policy-rc.d"
	echo 'Dpkg::Use-Pty "0";' >"$new/etc/apt/apt.conf.d/90td-no-pty"
	mkdir -p "$new/td/localstack-install"
	cp "$HERE/install.sh" "$HERE/requirements.txt" "$HERE/requirements-runtime-4.14.0.txt" \
		"$new/td/localstack-install/"
	enter "$new"
	in_root "$new" bash -c 'set -e; export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends ca-certificates python3 python3-venv nodejs npm >/dev/null
		update-ca-certificates >/dev/null
		apt-get clean; rm -rf /var/lib/apt/lists/*
		bash /td/localstack-install/install.sh --in-root' >"$ROOTS/trixie.provision.log" 2>&1 ||
		{ tail -30 "$ROOTS/trixie.provision.log"; die "provisioning failed ($ROOTS/trixie.provision.log)"; }
	release "$new"
	trap - EXIT
	rm -rf "$new/td/localstack-install"
	echo "$KEY" >"$new/.td-key"
	[ -z "$(mounts_under "$new")" ] || die "$new still has mounts"
	tar -C "$new" --zstd -cf "$TARBALL.tmp" . || die "could not write $TARBALL"
	mv "$TARBALL.tmp" "$TARBALL"
	echo "$KEY" >"$TARBALL.key"
	remove_root "$ROOT"
	mv "$new" "$ROOT"
	echo "localstack: cached $TARBALL ($(du -h "$TARBALL" | cut -f1), $((SECONDS - start)) s)"
}

if [ ! -f "$TARBALL" ] || [ "$(cat "$TARBALL.key" 2>/dev/null)" != "$KEY" ]; then
	build_root
elif [ "$(cat "$ROOT/.td-key" 2>/dev/null)" != "$KEY" ]; then
	echo "localstack: unpacking $TARBALL"
	remove_root "$ROOT"
	remove_root "$new"
	mkdir -p "$new"
	tar -C "$new" --zstd -xf "$TARBALL" || die "could not unpack $TARBALL"
	mv "$new" "$ROOT"
fi
copy_network_config "$ROOT"
echo "localstack: in the chroot $ROOT ($(chroot "$ROOT" /opt/td-localstack-venv/bin/python --version))"
