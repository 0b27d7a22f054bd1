#!/usr/bin/env bash
# tests/newcomer/run.sh — the README's first command, `bash scripts/demo.sh`,
# on a newcomer's clean Debian machine: a fresh minbase root filesystem on
# this machine (a chroot; no containers), as root.
#
#   bash tests/newcomer/run.sh SUITE     (as root; SUITE: bookworm or 12,
#                                         trixie or 13)
#
# 1. The root filesystem: debootstrap --variant=minbase SUITE, Debian's usual
#    apt sources (SUITE, SUITE-updates, SUITE-security) and the network
#    configuration a machine behind this one's proxy needs (CA certificates,
#    pip and apt proxy configuration, resolv.conf: tests/lib/chroot.sh) —
#    nothing else: no git, no compiler, no Python.  Cached as
#    $TD_CACHE_DIR/rootfs/newcomer-SUITE.tar.zst (TD_CACHE_DIR default
#    /var/cache/taxi_duration) with a .key file (a hash of what went into it);
#    rebuilt when missing or when the key changes.
# 2. Unpacked fresh for every run into $TD_NEWCOMER_ROOTS/SUITE (default
#    /var/tmp/taxi_duration-newcomer): the repository's tracked files (git
#    ls-files, as a fresh clone has them; edits included) go to
#    /root/taxi_duration, the TLC parquet files of TAXI_DATA_DIR (default
#    ../shared/data beside the repository) to /td/data.
# 3. In the chroot (proc and a tmpfs /dev/shm mounted; released on exit), as
#    root, with a clean environment (no LANG: none is set on a fresh machine):
#      cd /root/taxi_duration && TAXI_DATA_DIR=/td/data bash scripts/demo.sh
#    must print "with pickup time: 61921 trips, RMSE r min" and "without
#    pickup time: ..." (61,921 trips of 2021-02, 4 <= r <= 8); the time it
#    took is printed.  Then once more, in the same root (the packages are
#    installed by then; no trips are cached) with TAXI_DATA_DIR an empty
#    directory and the TLC site unreachable (its host name resolves to
#    127.0.0.1 in the root, bypassing any proxy): it must fail (the demo's
#    contract: exit status 2) without a Python traceback, with a line naming
#    TAXI_DATA_DIR.
#
# The demo's output: $TD_NEWCOMER_ROOTS/SUITE.demo.log and .nodata.log.  The
# root is removed after a successful run and kept after a failure.
# TD_NEWCOMER_TIMEOUT (default 1800 s) bounds each demo run.  Exit status 0
# only when both checks pass.
set -uo pipefail

# Bump when the root filesystem's recipe below changes: the cached tarballs are rebuilt.
NEWCOMER_REV=1
MIRROR=http://deb.debian.org/debian
TLC_HOST=d37ci6vzurychx.cloudfront.net
TRIPS_2021_02=61921

die() {
	echo "newcomer: $*" >&2
	exit 2
}

case ${1:-} in
	bookworm | 12) SUITE=bookworm DEBIAN=12 ;;
	trixie | 13) SUITE=trixie DEBIAN=13 ;;
	*) die "usage: bash tests/newcomer/run.sh bookworm|trixie   (or 12|13)" ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
for tool in debootstrap chroot zstd git flock; do
	command -v $tool >/dev/null || die "$tool not found (apt-get install -y debootstrap zstd)"
done
REPO=$(cd "$(dirname "$0")/../.." && pwd)
# mounts_under, procs_in, release, in_root, remove_root, enter,
# copy_network_config, chroot_env
# shellcheck source=tests/lib/chroot.sh
. "$REPO/tests/lib/chroot.sh"
NAME=newcomer-$SUITE
CACHE=${TD_CACHE_DIR:-/var/cache/taxi_duration}/rootfs
TARBALL=$CACHE/$NAME.tar.zst
ROOTS=$(realpath -m "${TD_NEWCOMER_ROOTS:-/var/tmp/taxi_duration-newcomer}")
ROOT=$ROOTS/$SUITE
DATA=${TAXI_DATA_DIR:-$REPO/../shared/data}
TIMEOUT=${TD_NEWCOMER_TIMEOUT:-1800}
[ -f "$DATA/green_tripdata_2021-02.parquet" ] ||
	die "no green_tripdata_2021-02.parquet in $DATA (set TAXI_DATA_DIR to the TLC parquet files)"
mkdir -p "$CACHE" "$ROOTS"

exec 9>"$ROOTS/.$SUITE.lock"
flock 9

# Debian's usual sources, as the installer writes them.
sources_list() {
	echo "deb $MIRROR $SUITE main"
	echo "deb $MIRROR $SUITE-updates main"
	echo "deb http://deb.debian.org/debian-security $SUITE-security main"
}

KEY=$({
	echo "rev $NEWCOMER_REV $SUITE minbase"
	sources_list
	cat /usr/local/share/ca-certificates/* 2>/dev/null
} | sha256sum | cut -c1-16)

build_rootfs() {
	local new=$ROOTS/$SUITE.new start=$SECONDS
	echo "building the $NAME root filesystem (debootstrap --variant=minbase $SUITE; a few minutes)"
	remove_root "$new"
	trap 'release "$new"' EXIT
	trap 'exit 130' INT TERM
	debootstrap --variant=minbase "$SUITE" "$new" "$MIRROR" >"$ROOTS/$NAME.debootstrap.log" 2>&1 ||
		{ tail -20 "$ROOTS/$NAME.debootstrap.log"; die "debootstrap failed ($ROOTS/$NAME.debootstrap.log)"; }
	release "$new"
	trap - EXIT
	sources_list >"$new/etc/apt/sources.list"
	copy_network_config "$new"
	tar -C "$new" --zstd -cf "$TARBALL.tmp" . || die "could not write $TARBALL"
	mv "$TARBALL.tmp" "$TARBALL"
	echo "$KEY" >"$TARBALL.key"
	remove_root "$new"
	echo "cached: $TARBALL ($(du -h "$TARBALL" | cut -f1), $((SECONDS - start)) s)"
}

if [ ! -f "$TARBALL" ] || [ "$(cat "$TARBALL.key" 2>/dev/null)" != "$KEY" ]; then
	build_rootfs
fi

# A clean machine every time.
remove_root "$ROOT"
trap 'release "$ROOT"' EXIT
trap 'exit 130' INT TERM
start=$SECONDS
mkdir -p "$ROOT"
tar -C "$ROOT" --zstd -xf "$TARBALL" || die "could not unpack $TARBALL"
copy_network_config "$ROOT"
# The repository as a fresh clone has it (tracked files; edits included).
mkdir -p "$ROOT/root/taxi_duration" "$ROOT/td/data" "$ROOT/td/empty"
(cd "$REPO" && git ls-files -z |
	while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -C "$ROOT/root/taxi_duration" -xf - || die "could not copy the repository"
cp "$DATA"/*.parquet "$ROOT/td/data/"
enter "$ROOT"
echo "Debian $DEBIAN ($SUITE) minbase root from $TARBALL ($(du -h "$TARBALL" | cut -f1)), unpacked into $ROOT ($((SECONDS - start)) s)"

passed=0 failed=0
result() { # result ok|FAILED TEXT
	if [ "$1" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	printf '%-7s %s\n' "$1" "$2"
}
show() { # the demo's output, indented
	if [ -s "$1" ]; then sed 's/^/        | /' "$1"; else echo "        | (no output)"; fi
}

# 1. The README's first command, with the TLC data.
log=$ROOTS/$SUITE.demo.log
echo "cd ~/taxi_duration && TAXI_DATA_DIR=/td/data bash scripts/demo.sh"
load=$(cut -d' ' -f1 /proc/loadavg)
t0=$(date +%s)
in_root "$ROOT" TAXI_DATA_DIR=/td/data timeout "$TIMEOUT" \
	bash -c 'cd ~/taxi_duration && bash scripts/demo.sh' >"$log" 2>&1
rc=$?
took=$(($(date +%s) - t0))
show "$log"
with=$(sed -n 's/^ *with pickup time: \([0-9]*\) trips, RMSE \([0-9.]*\) min.*/\1 \2/p' "$log")
without=$(sed -n 's/^ *without pickup time: \([0-9]*\) trips, RMSE \([0-9.]*\) min.*/\1 \2/p' "$log")
sane() { # sane "TRIPS RMSE"
	[ -n "$1" ] && awk -v n="${1% *}" -v r="${1#* }" -v want=$TRIPS_2021_02 \
		'BEGIN { exit !(n == want && r >= 4 && r <= 8) }'
}
if [ $rc = 124 ]; then
	result FAILED "demo with data: timed out after $TIMEOUT s ($log)"
elif [ $rc != 0 ]; then
	result FAILED "demo with data: exit status $rc after $took s ($log)"
elif ! sane "$with" || ! sane "$without"; then
	result FAILED "demo with data: expected $TRIPS_2021_02 trips and an RMSE of 4..8 min with and without pickup time ($log)"
else
	result ok "demo with data: ${with% *} trips, RMSE ${with#* } / ${without#* } min (with / without pickup time)"
fi
echo "        the demo took $took s on a fresh Debian $DEBIAN root ($(nproc) cores, load average $load before);" \
	"the root filesystem is now $(du -shx "$ROOT" | cut -f1), the virtualenv $(du -shx "$ROOT/root/taxi_duration/.venv" 2>/dev/null | cut -f1)"

# 2. Without data: TAXI_DATA_DIR empty, nothing cached, the TLC site unreachable.
log=$ROOTS/$SUITE.nodata.log
rm -rf "$ROOT/root/.cache/taxi_duration"
echo "127.0.0.1 $TLC_HOST" >>"$ROOT/etc/hosts"
noproxy=${no_proxy:-${NO_PROXY:-}}
echo "cd ~/taxi_duration && TAXI_DATA_DIR=/td/empty bash scripts/demo.sh   (no data, $TLC_HOST unreachable)"
in_root "$ROOT" TAXI_DATA_DIR=/td/empty no_proxy="${noproxy:+$noproxy,}$TLC_HOST" \
	NO_PROXY="${noproxy:+$noproxy,}$TLC_HOST" timeout "$TIMEOUT" \
	bash -c 'cd ~/taxi_duration && bash scripts/demo.sh' >"$log" 2>&1
rc=$?
show "$log"
last=$(grep -v '^[[:space:]]*$' "$log" | tail -1)
if [ $rc = 0 ]; then
	result FAILED "demo without data: exit status 0 ($log)"
elif [ $rc = 124 ]; then
	result FAILED "demo without data: timed out after $TIMEOUT s ($log)"
elif grep -q Traceback "$log"; then
	result FAILED "demo without data: exit status $rc with a Python traceback ($log)"
elif ! grep -q TAXI_DATA_DIR "$log"; then
	result FAILED "demo without data: exit status $rc, no line naming TAXI_DATA_DIR ($log)"
else
	result ok "demo without data: exit status $rc, no traceback: $last"
fi

echo "$passed passed, $failed failed"
if [ $failed = 0 ]; then
	remove_root "$ROOT"
	trap - EXIT
else
	echo "the root is kept for inspection: $ROOT"
fi
[ $failed = 0 ]
