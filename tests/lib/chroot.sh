# tests/lib/chroot.sh — run things in a Debian root filesystem on this
# machine, without containers: mounts, the processes inside, cleanup, and
# the network configuration a root needs to reach the package registries
# through this machine's proxy.
#
# Sourced (as root, on the host) by tests/matrix.sh (the SQL-level suites on
# other PostgreSQL majors) and tests/newcomer/run.sh (the README's demo on a
# fresh machine).  The sourcing script may define die MESSAGE (print, exit
# 2; the default says "chroot: MESSAGE") and set CHROOT_PASS: names of host
# variables passed into the chroot besides the proxy settings.
#
#   mounts_under ROOT          the mounts under ROOT, deepest first
#   procs_in ROOT              the pids of the processes whose root is ROOT
#   release ROOT               stop those processes, then unmount
#   in_root ROOT CMD...        CMD in the chroot, clean environment (chroot_env)
#   remove_root ROOT           release, then rm -rf (never through a mount)
#   enter ROOT                 mount proc and a tmpfs /dev/shm (never bind-mounts /dev)
#   copy_network_config ROOT   CA certificates, pip and apt proxy config, resolv.conf
#   chroot_env                 HOME, TERM, the proxy variables and CHROOT_PASS
# shellcheck shell=bash

declare -F die >/dev/null || die() {
	echo "chroot: $*" >&2
	exit 2
}

# Mounts under a root, deepest first.
mounts_under() {
	awk -v r="$1/" 'index($2 "/", r) == 1 { print $2 }' /proc/mounts | sort -r
}

# The processes whose root directory is $1.
procs_in() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}

# Stop whatever still runs in the root (all started by this script: servers
# and suites of an interrupted run), then unmount.
release() {
	local root=$1 pids m _
	[ -d "$root" ] || return 0
	pids=$(procs_in "$root")
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086 # a list of pids
		kill $pids 2>/dev/null
		for _ in $(seq 20); do
			pids=$(procs_in "$root")
			[ -z "$pids" ] && break
			sleep 0.5
		done
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null && sleep 0.5
	fi
	for m in $(mounts_under "$root"); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

# in_root ROOT CMD...: CMD in the chroot, with a clean environment; in the
# background, so that an interrupt reaches this script's traps at once.
in_root() {
	local root=$1
	shift
	# shellcheck disable=SC2046 # one word per variable
	chroot "$root" /usr/bin/env -i $(chroot_env) PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" &
	wait $!
}

# Remove a root directory, never through a mount.
remove_root() {
	release "$1"
	[ -z "$(mounts_under "$1")" ] || die "$1 still has mounts; not removing it"
	rm -rf --one-file-system "$1"
}

enter() {
	local root=$1
	mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
	mountpoint -q "$root/dev/shm" || mount -t tmpfs -o size=1g,mode=1777 tmpfs "$root/dev/shm"
}

# Copy what reaching the registries through this machine's proxy needs.
copy_network_config() {
	local root=$1 f
	mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/apt/apt.conf.d"
	cp /usr/local/share/ca-certificates/* "$root/usr/local/share/ca-certificates/" 2>/dev/null
	cp /etc/pip.conf "$root/etc/pip.conf" 2>/dev/null
	# apt: the proxy, and whether Release files may be past their Valid-Until
	# (this machine's clock and mirror may disagree), as on this machine
	for f in /etc/apt/apt.conf.d/*; do
		case $f in *proxy*) ;; *) grep -qiE 'Acquire::(Check-Valid-Until|Check-Date|https?::Proxy)' "$f" || continue ;; esac
		cp "$f" "$root/etc/apt/apt.conf.d/"
	done
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
	[ -d "$HOME/.config/pip" ] && mkdir -p "$root/root/.config" && cp -r "$HOME/.config/pip" "$root/root/.config/"
	[ -d "$HOME/.pip" ] && cp -r "$HOME/.pip" "$root/root/"
	return 0
}

# The proxy settings of this environment, and the variables named in
# CHROOT_PASS, passed into the chroot.
chroot_env() {
	local v
	echo HOME=/root TERM=dumb
	for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY ${CHROOT_PASS:-}; do
		[ -n "${!v:-}" ] && echo "$v=${!v}"
	done
}
